public import Foundation

/// A fresh directory under the system's temporary directory, removed by `cleanup()` (call it in
/// a `defer`, so the directory lives exactly as long as the scope).
public struct TemporaryDirectory: Sendable {
    public let url: URL

    public init(prefix: String = "videostack-test") throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    /// The path of `name` inside the directory.
    public func path(_ name: String) -> String { url.appendingPathComponent(name).path }

    public func cleanup() { try? FileManager.default.removeItem(at: url) }
}

/// A temporary directory, removed when `body` returns or throws.
public func withTemporaryDirectory<T>(prefix: String = "videostack-test", _ body: (URL) async throws -> T) async throws -> T {
    let directory = try TemporaryDirectory(prefix: prefix)
    defer { directory.cleanup() }
    return try await body(directory.url)
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
