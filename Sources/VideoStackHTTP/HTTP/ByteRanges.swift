/// A parsed `Range: bytes=…` header (RFC 9110 §14.1.2).
struct ByteRanges: Sendable, Equatable {
    /// One `range-spec`.
    enum Spec: Sendable, Equatable {
        /// `first-last` or the open-ended `first-`.
        case from(first: Int64, last: Int64?)
        /// `-length`: the last `length` bytes.
        case suffix(length: Int64)
    }

    /// What serving the ranges against a representation of some size comes to.
    enum Resolution: Sendable, Equatable {
        /// One range to send with 206 Partial Content.
        case partial(Range<Int64>)
        /// Send the whole representation with 200 (see ``resolve(size:)`` for when).
        case whole
        /// No range overlaps the representation: 416 with `Content-Range: bytes */size`.
        case unsatisfiable
    }

    var specs: [Spec]

    /// More range-specs than this and the header is ignored: nobody needs them, and many small or
    /// overlapping ranges are a known way to make a server work hard for little request.
    static let maximumSpecs = 64

    /// Parses a `Range` field value; nil when it is not a valid byte-range set, in which case the
    /// header is ignored and the whole representation is sent (RFC 9110 §14.2 allows this).
    static func parse(_ value: some StringProtocol) -> ByteRanges? {
        let utf8 = Array(value.utf8)
        guard let equals = utf8.firstIndex(of: UInt8(ascii: "=")) else { return nil }
        // The unit is case-insensitive; no whitespace is allowed around "=".
        guard String(decoding: utf8[..<equals], as: UTF8.self).lowercased() == "bytes" else { return nil }
        var specs: [Spec] = []
        for element in utf8[(equals + 1)...].split(separator: UInt8(ascii: ","), omittingEmptySubsequences: false) {
            let trimmed = element.drop(while: isSpace).reversed().drop(while: isSpace).reversed()
            // §5.6.1: empty list elements are allowed and ignored.
            if trimmed.isEmpty { continue }
            guard let spec = parseSpec(Array(trimmed)) else { return nil }
            specs.append(spec)
            if specs.count > maximumSpecs { return nil }
        }
        return specs.isEmpty ? nil : ByteRanges(specs: specs)
    }

    private static func isSpace(_ byte: UInt8) -> Bool { byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") }

    private static func parseSpec(_ bytes: [UInt8]) -> Spec? {
        guard let dash = bytes.firstIndex(of: UInt8(ascii: "-")) else { return nil }
        let firstDigits = bytes[..<dash]
        let lastDigits = bytes[(dash + 1)...]
        if firstDigits.isEmpty {
            guard let length = number(lastDigits) else { return nil }
            return .suffix(length: length)
        }
        guard let first = number(firstDigits) else { return nil }
        if lastDigits.isEmpty { return .from(first: first, last: nil) }
        guard let last = number(lastDigits), last >= first else { return nil }
        return .from(first: first, last: last)
    }

    /// Digits to a number; values past `Int64.max` saturate, which is what they mean here
    /// (an offset beyond any representation).
    private static func number(_ digits: ArraySlice<UInt8>) -> Int64? {
        guard !digits.isEmpty else { return nil }
        var value: Int64 = 0
        for byte in digits {
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            let (times10, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times10.addingReportingOverflow(Int64(byte - UInt8(ascii: "0")))
            if overflow1 || overflow2 { value = .max } else { value = sum }
        }
        return value
    }

    /// Resolves the ranges against a representation of `size` bytes.
    ///
    /// Satisfiable ranges are clamped to the representation, then overlapping and adjacent ones
    /// are merged. One range left gives ``Resolution/partial(_:)``. Several disjoint ranges give
    /// ``Resolution/whole``: RFC 9110 lets a server answer a multi-range request with the full
    /// representation, players and CDNs only ever ask for one range, and a `multipart/byteranges`
    /// body would be the only response here that is not a plain slice of the object. A
    /// zero-length representation has no byte to send, so a satisfiable suffix range of it also
    /// gives ``Resolution/whole``.
    func resolve(size: Int64) -> Resolution {
        var ranges: [Range<Int64>] = []
        var sawSatisfiableSuffix = false
        for spec in specs {
            switch spec {
            case .from(let first, let last):
                guard first < size else { continue }
                let end = last.map { $0 >= size - 1 ? size : $0 + 1 } ?? size
                ranges.append(first..<end)
            case .suffix(let length):
                guard length > 0 else { continue }
                sawSatisfiableSuffix = true
                guard size > 0 else { continue }
                ranges.append(max(0, size - length)..<size)
            }
        }
        if ranges.isEmpty { return sawSatisfiableSuffix ? .whole : .unsatisfiable }
        ranges.sort { $0.lowerBound < $1.lowerBound }
        var merged = ranges[0]
        for range in ranges.dropFirst() {
            guard range.lowerBound <= merged.upperBound else { return .whole }
            merged = merged.lowerBound..<max(merged.upperBound, range.upperBound)
        }
        return .partial(merged)
    }
}
