extension Duration {
    /// The span as a number of seconds (for `Retry-After`, JSON durations, logs).
    var secondsValue: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}
