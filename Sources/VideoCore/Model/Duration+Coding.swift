extension Duration {
    /// The longest span a stored number of seconds may hold (about 31,700 years): far beyond
    /// any video, and small enough that converting the number can never overflow.
    package static let maximumStoredSeconds = Duration.seconds(1_000_000_000_000)

    /// The span of a stored number of seconds, or nil when the number is not finite, negative or
    /// above ``maximumStoredSeconds`` (converting such a number would trap).
    package init?(storedSeconds seconds: Double) {
        guard seconds.isFinite, seconds >= 0, seconds <= Duration.maximumStoredSeconds / .seconds(1) else { return nil }
        self = .seconds(seconds)
    }
}

extension KeyedDecodingContainer {
    /// A span stored as a number of seconds; a number that is no span is `dataCorrupted`.
    package func decodeSecondsIfPresent(forKey key: Key) throws -> Duration? {
        guard let seconds = try decodeIfPresent(Double.self, forKey: key) else { return nil }
        guard let duration = Duration(storedSeconds: seconds) else {
            throw DecodingError.dataCorruptedError(forKey: key, in: self, debugDescription: "\(seconds) is not a number of seconds from 0 to \(Duration.maximumStoredSeconds)")
        }
        return duration
    }
}

extension KeyedEncodingContainer {
    /// Stores a span as a number of seconds, as items and JSON carry time spans.
    package mutating func encodeSecondsIfPresent(_ duration: Duration?, forKey key: Key) throws {
        try encodeIfPresent(duration.map { $0 / .seconds(1) }, forKey: key)
    }
}
