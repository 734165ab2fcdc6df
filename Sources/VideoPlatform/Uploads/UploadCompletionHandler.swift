public import Foundation
internal import VideoCore

/// Takes over a finished upload: the platform's publish saga implements it (it copies the file
/// into the `BlobStore`, then creates the video item in status `processing` and its job in one
/// transaction).
///
/// Delivery is at least once. The upload's record goes to `completing` before the handler is
/// called, and it is marked finished (and its staging file deleted) only after the handler
/// returns; a crash in between hands the same upload over again on the next
/// ``UploadService/resumePendingCompletions()``. So the handler must be idempotent: a second
/// call for the same ``CompletedUpload/id`` must not create a second video or job (a
/// conditional put keyed by the attachment id does it).
///
/// A handler that throws leaves the upload `completing`; ``UploadService/sweepExpired()``
/// retries it with exponential backoff for as long as it takes, and the error is logged.
public protocol UploadCompletionHandler: Sendable {
    /// Takes over `upload`. Read the file, do not move or delete it: a retry needs it, and the
    /// service deletes it once this returns.
    func complete(_ upload: CompletedUpload) async throws
}

/// An upload whose every byte has arrived, as the completion handler receives it.
public struct CompletedUpload: Sendable {
    /// The upload's id: the key that makes the handler idempotent.
    public var id: UploadID
    /// Who uploaded it.
    public var owner: String
    /// The caller's id for what the upload becomes (the platform passes the video id).
    public var attachment: String?
    /// The tus metadata sent at creation (a file name, a title…), decoded.
    public var metadata: [String: String]
    /// The size of ``file`` in bytes.
    public var length: Int64
    /// The staging file holding the upload's bytes; valid until the handler returns.
    public var file: URL
    /// 1 for the first hand-over, 2 after one failed; a hand-over cut short by a crash is not
    /// counted, so a repeated `attempt` is possible: rely on idempotency, not on this number.
    public var attempt: Int
    let pool: UploadIOPool

    /// The file's bytes in chunks of at most `chunkSize`, read on the service's I/O threads:
    /// pass it to `BlobStore.put(_:chunks:contentType:)`.
    public func chunks(size chunkSize: Int = 1 << 20) -> AsyncThrowingStream<[UInt8], any Error> {
        let path = file.path
        let length = length
        let pool = pool
        let id = id
        let size = max(1, chunkSize)
        let position = ReadPosition()
        return AsyncThrowingStream(unfolding: {
            let offset = position.offset
            guard offset < length else { return nil }
            let count = Int(min(Int64(size), length - offset))
            let bytes = try await pool.run { _ in try UploadFile.read(path: path, at: offset, count: count) }
            guard bytes.count == count else {
                throw VideoStackError(.corrupt, "The staging file of upload \(id) ends at \(offset + Int64(bytes.count)) bytes, before its length \(length).")
            }
            position.offset += Int64(count)
            return bytes
        })
    }
}

/// The I/O threads of an upload service.
typealias UploadIOPool = BlockingThreadPool<Void>

/// How far a chunk stream has read.
private final class ReadPosition: @unchecked Sendable {
    // @unchecked Sendable: AsyncThrowingStream(unfolding:) never runs its closure concurrently
    // with itself, so `offset` is touched by one call at a time.
    var offset: Int64 = 0
}
