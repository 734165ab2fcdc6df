public import Foundation

/// A temporary directory, removed when `body` returns or throws.
public func withTemporaryDirectory<T>(prefix: String = "videostack-test", _ body: (URL) async throws -> T) async throws -> T {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString)", isDirectory: true)
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: url) }
    return try await body(url)
}

/// A small deterministic random generator (SplitMix64), so generated inputs (damaged files,
/// mutation corpora, random operation sequences) are the same on every run and failures reproduce.
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A number in `0..<n` from the next value (modulo, so the sequence of a seed never changes).
    public mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
}
