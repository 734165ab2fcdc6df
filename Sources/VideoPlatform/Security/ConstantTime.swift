/// Comparisons whose running time does not depend on where two secrets differ.
enum ConstantTime {
    /// Whether the two byte strings are equal, looking at every byte of the longer one whatever
    /// the contents. Only the lengths (public for hashes and MACs) can show through timing.
    static func equal(_ a: some Collection<UInt8>, _ b: some Collection<UInt8>) -> Bool {
        let a = Array(a), b = Array(b)
        var difference: UInt8 = a.count == b.count ? 0 : 1
        let count = max(a.count, b.count)
        for i in 0..<count {
            let x = i < a.count ? a[i] : 0
            let y = i < b.count ? b[i] : 0
            difference |= x ^ y
        }
        return difference == 0
    }
}

/// Bytes and text from the operating system's cryptographically secure generator
/// (`getrandom(2)` on Linux, which is what `SystemRandomNumberGenerator` reads).
enum SecureRandom {
    static func bytes(_ count: Int) -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        return (0..<count).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
    }

    /// `length` characters drawn uniformly from `alphabet` (rejection sampling, so no character
    /// is more likely than another).
    static func string(length: Int, alphabet: [Character]) -> String {
        precondition(!alphabet.isEmpty && alphabet.count <= 256)
        var generator = SystemRandomNumberGenerator()
        // The largest multiple of the alphabet size that fits a byte: bytes at or above it are
        // drawn again instead of folding onto the first characters.
        let limit = 256 - 256 % alphabet.count
        var text = ""
        text.reserveCapacity(length)
        while text.count < length {
            let byte = Int(UInt8.random(in: .min ... .max, using: &generator))
            if byte < limit { text.append(alphabet[byte % alphabet.count]) }
        }
        return text
    }
}
