extension Duration {
    /// The span in seconds as a `Double`, for arithmetic with media timestamps.
    package var inSeconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}
