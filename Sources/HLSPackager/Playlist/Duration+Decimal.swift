extension Duration {
    /// `ticks / timescale` seconds, exact to the attosecond (rounded down), as media timestamps count.
    static func ticks(_ ticks: Int64, timescale: Int64) -> Duration {
        let scale = max(1, timescale)
        let whole = ticks / scale, rest = ticks % scale
        let fraction = Int128(rest) * 1_000_000_000_000_000_000 / Int128(scale)
        return Duration(secondsComponent: whole, attosecondsComponent: Int64(fraction))
    }

    /// The duration as an RFC 8216 decimal-floating-point number of seconds: exact, without
    /// trailing zeros, so parsing the text gives the same `Duration` back.
    var decimalText: String {
        let (seconds, attoseconds) = components
        guard attoseconds != 0 else { return "\(seconds)" }
        var fraction = String(attoseconds)
        fraction = String(repeating: "0", count: 18 - fraction.count) + fraction
        while fraction.hasSuffix("0") { fraction.removeLast() }
        return "\(seconds).\(fraction)"
    }

    /// Parses RFC 8216 decimal-floating-point text (digits with an optional fraction; no sign,
    /// exponent or hex) exactly; digits past the attosecond are dropped. Nil when malformed or
    /// beyond `Int64` seconds.
    init?(decimalText text: Substring) {
        guard !text.isEmpty, text.count <= 40, text.first != "." else { return nil }
        let parts = text.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.allSatisfy({ $0.utf8.allSatisfy { (0x30...0x39).contains($0) } }), !parts[0].isEmpty,
              parts[0].count <= 18, let seconds = Int64(parts[0]) else { return nil }
        var attoseconds: Int64 = 0
        if parts.count == 2 {
            let digits = parts[1].prefix(18)
            guard let value = digits.isEmpty ? 0 : Int64(digits) else { return nil }
            attoseconds = value
            for _ in digits.count..<18 { attoseconds *= 10 }
        }
        self.init(secondsComponent: seconds, attosecondsComponent: attoseconds)
    }

    /// Rounded to whole seconds, halves up (how `EXT-X-TARGETDURATION` compares).
    var roundedSeconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds + (attoseconds >= 500_000_000_000_000_000 ? 1 : 0)
    }
}
