import Foundation
import Logging
import SingleTableStore
import Synchronization
import TestSupport
import VideoCore
import VideoPlatform

/// A store, an upload directory, a recording completion handler and a clock the test moves.
struct UploadFixture {
    let root: URL
    let store: SQLiteItemStore
    let handler: RecordingCompletionHandler
    let clock: ManualUploadClock

    var directory: URL { root.appendingPathComponent("uploads", isDirectory: true) }
    var databasePath: String { root.appendingPathComponent("uploads.sqlite").path }

    static let logger = Logger(label: "upload-tests", factory: { _ in SwiftLogNoOpLogHandler() })

    /// Runs `body` with a fresh fixture, closing the store and removing the files afterwards.
    static func with<T>(_ body: (UploadFixture) async throws -> T) async throws -> T {
        try await withTemporaryDirectory(prefix: "uploads") { root in
            let store = try await SQLiteItemStore(url: root.appendingPathComponent("uploads.sqlite"), schema: .singleTable)
            defer { store.close() }
            return try await body(UploadFixture(root: root, store: store, handler: RecordingCompletionHandler(), clock: ManualUploadClock()))
        }
    }

    /// A service over the fixture's store and directory (a second call is a restarted server).
    func service(_ configuration: UploadConfiguration = UploadConfiguration(), store: (any ItemStore)? = nil,
                 directory: URL? = nil) throws -> UploadService {
        let clock = clock
        return try UploadService(store: store ?? self.store, directory: directory ?? self.directory, configuration: configuration,
                                 completionHandler: handler, logger: Self.logger, now: { clock.now })
    }

    /// The staging file of an upload.
    func stagingFile(_ id: UploadID) -> URL { directory.appendingPathComponent("\(id).upload") }

    /// The bytes of an upload's staging file (empty when there is none).
    func staged(_ id: UploadID) -> [UInt8] { (try? [UInt8](Data(contentsOf: stagingFile(id)))) ?? [] }

    /// The names of the staging files in the upload directory (not its `node-id`).
    func files() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasSuffix(".upload") }.sorted()
    }
}

/// A clock that only moves when the test says so.
final class ManualUploadClock: Sendable {
    private let date = Mutex(Date(timeIntervalSince1970: 1_750_000_000))

    var now: Date { date.withLock { $0 } }

    func advance(by duration: Duration) {
        date.withLock { $0 += Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18 }
    }
}

/// Records every hand-over with the bytes it read; can be told to fail the next ones.
final class RecordingCompletionHandler: UploadCompletionHandler {
    struct Delivery: Sendable {
        var upload: CompletedUpload
        var bytes: [UInt8]
    }

    private let state = Mutex<(deliveries: [Delivery], failures: Int)>(([], 0))

    func complete(_ upload: CompletedUpload) async throws {
        var bytes: [UInt8] = []
        for try await chunk in upload.chunks(size: 100_000) { bytes += chunk }
        let fail = state.withLock { state in
            state.deliveries.append(Delivery(upload: upload, bytes: bytes))
            guard state.failures > 0 else { return false }
            state.failures -= 1
            return true
        }
        if fail { throw VideoStackError(.io, "The blob store is unavailable (a failure the test asked for).") }
    }

    var deliveries: [Delivery] { state.withLock { $0.deliveries } }

    func failNext(_ count: Int) { state.withLock { $0.failures = count } }
}

/// Helpers for the upload test suites (a protocol, so their names stay out of the module).
protocol UploadTestCase {}

extension UploadTestCase {
    /// The size and sha256 of `bytes`: compares large buffers with a short failure message.
    func digest(_ bytes: some Sequence<UInt8>) -> String {
        let bytes = Array(bytes)
        return "\(bytes.count) bytes, sha256 " + UploadChecksum.sha256(of: bytes).digest.map { String(format: "%02x", $0) }.joined()
    }

    /// Deterministic pseudo-random bytes.
    func randomBytes(_ count: Int, seed: UInt64) -> [UInt8] {
        var generator = SeededGenerator(seed: seed)
        var bytes = [UInt8](repeating: 0, count: count)
        bytes.withUnsafeMutableBytes { raw in
            var index = 0
            while index < raw.count {
                var word = generator.next()
                for _ in 0..<min(8, raw.count - index) {
                    raw[index] = UInt8(truncatingIfNeeded: word)
                    word >>= 8
                    index += 1
                }
            }
        }
        return bytes
    }

    /// `bytes` as a request body delivered in pieces of the given sizes (the last piece takes the rest).
    func uploadBody(_ bytes: some Collection<UInt8>, pieces: [Int] = []) -> AsyncStream<[UInt8]> {
        let bytes = Array(bytes)
        return AsyncStream { continuation in
            var start = 0
            for size in pieces where start < bytes.count {
                let end = min(start + max(size, 0), bytes.count)
                continuation.yield(Array(bytes[start..<end]))
                start = end
            }
            if start < bytes.count { continuation.yield(Array(bytes[start...])) }
            continuation.finish()
        }
    }

    /// A body that delivers `bytes` and then fails, as a dropped connection does.
    func droppedBody(_ bytes: [UInt8], pieces: Int = 3) -> AsyncThrowingStream<[UInt8], any Error> {
        AsyncThrowingStream { continuation in
            let size = max(1, bytes.count / max(pieces, 1))
            for start in stride(from: 0, to: bytes.count, by: size) {
                continuation.yield(Array(bytes[start..<min(start + size, bytes.count)]))
            }
            continuation.finish(throwing: UploadConnectionDropped())
        }
    }

    /// The error code `body` throws, or nil if it does not throw a `VideoStackError`.
    func errorCode<T>(_ body: () async throws -> T) async -> VideoStackError.Code? {
        do {
            _ = try await body()
            return nil
        } catch let error as VideoStackError {
            return error.code
        } catch {
            return nil
        }
    }
}

struct UploadConnectionDropped: Error {}

/// A body that delivers `first`, then reports that it is waiting and delivers `rest` only once
/// released: lets a test act while a `PATCH` is half done.
struct GatedUploadBody: AsyncSequence, Sendable {
    typealias Element = [UInt8]
    let first: [UInt8]
    let rest: [UInt8]
    let waiting: AsyncStream<Void>.Continuation
    let release: AsyncStream<Void>

    struct AsyncIterator: AsyncIteratorProtocol {
        let body: GatedUploadBody
        var step = 0

        mutating func next() async -> [UInt8]? {
            step += 1
            switch step {
            case 1:
                return body.first
            case 2:
                // Asked for more: the first piece has been written, under the upload's lock.
                body.waiting.yield()
                for await _ in body.release { break }
                return body.rest
            default:
                return nil
            }
        }
    }

    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(body: self) }
}

