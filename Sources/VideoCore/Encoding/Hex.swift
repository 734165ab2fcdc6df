extension Sequence where Element == UInt8 {
    /// The bytes in lower-case hex, two digits each (hashes, ids, signatures): one pass into a
    /// byte buffer, without `String(format:)` (which costs a microsecond per byte on Linux).
    package var lowercaseHex: String {
        var out: [UInt8] = []
        out.reserveCapacity(underestimatedCount * 2)
        for byte in self {
            out.append(hexDigit(byte >> 4))
            out.append(hexDigit(byte & 0xF))
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// The lower-case hex digit of a value from 0 to 15.
@inline(__always)
package func hexDigit(_ nibble: UInt8) -> UInt8 {
    nibble < 10 ? 0x30 + nibble : 0x57 + nibble
}
