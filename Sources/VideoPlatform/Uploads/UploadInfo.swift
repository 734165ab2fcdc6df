public import Foundation
public import VideoCore

/// Where an upload is in its life.
public enum UploadState: String, Hashable, Sendable {
    /// Accepting bytes.
    case receiving
    /// Every byte is in; the completion handler has not yet confirmed the hand-over. The service
    /// retries the hand-over until it succeeds.
    case completing
    /// Handed over; the staging file is gone and the record stays until it expires.
    case finished
}

/// What the service knows about one upload: what tus `HEAD` and the creation response report.
public struct UploadInfo: Hashable, Sendable {
    /// The upload's id (the last part of its URL).
    public var id: UploadID
    /// Who created it (whose quota it uses).
    public var owner: String
    /// Bytes received and durable (tus `Upload-Offset`).
    public var offset: Int64
    /// The total size in bytes (tus `Upload-Length`); nil while the length is deferred.
    public var length: Int64?
    /// The tus metadata, decoded.
    public var metadata: [String: String]
    /// The caller's id for what the upload becomes (the platform passes the video id).
    public var attachment: String?
    /// Receiving bytes, being handed over, or finished.
    public var state: UploadState
    /// When the upload was created.
    public var createdAt: Date
    /// When an unfinished upload is swept unless written to again (tus `Upload-Expires`).
    public var expiresAt: Date

    /// An upload as the service reports it (for tests and other transports).
    public init(id: UploadID, owner: String, offset: Int64, length: Int64?, metadata: [String: String], attachment: String?,
                state: UploadState, createdAt: Date, expiresAt: Date) {
        self.id = id
        self.owner = owner
        self.offset = offset
        self.length = length
        self.metadata = metadata
        self.attachment = attachment
        self.state = state
        self.createdAt = createdAt
        self.expiresAt = expiresAt
    }

    /// Whether every byte has arrived.
    public var isComplete: Bool { length == offset }
}

/// The result of a creation request that carried the first bytes (tus creation-with-upload).
///
/// The upload exists even when its first chunk failed, as in tus: the response still gives its
/// location and offset, and the client resumes from there.
public struct UploadCreation: Sendable {
    /// The upload after its first chunk (or after as much of it as was kept).
    public var upload: UploadInfo
    /// Why the first chunk was not (wholly) stored; nil when it was.
    public var chunkError: VideoStackError?

    /// The upload and what went wrong with its first chunk, if anything.
    public init(upload: UploadInfo, chunkError: VideoStackError?) {
        self.upload = upload
        self.chunkError = chunkError
    }
}
