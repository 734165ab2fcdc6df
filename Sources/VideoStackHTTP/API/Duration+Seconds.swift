extension Duration {
    /// The span as a number of seconds (for `Retry-After`, JSON durations, logs).
    var secondsValue: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }

    /// The span in whole nanoseconds, saturating (for swift-metrics timers).
    var nanosecondsValue: Int64 {
        let (seconds, overflow) = components.seconds.multipliedReportingOverflow(by: 1_000_000_000)
        if overflow { return components.seconds < 0 ? .min : .max }
        return seconds.addingReportingOverflow(components.attoseconds / 1_000_000_000).partialValue
    }
}
