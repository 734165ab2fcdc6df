public import Foundation

/// What a blob store knows about one stored object.
public struct BlobMetadata: Hashable, Sendable {
    /// The object's key.
    public var key: String
    /// Size in bytes.
    public var size: Int64
    /// An opaque validator that changes whenever the content changes (use it as an HTTP ETag).
    public var etag: String
    public var lastModified: Date
    /// MIME type, from the put or, for file stores, from the key's extension.
    public var contentType: String

    public init(key: String, size: Int64, etag: String, lastModified: Date, contentType: String) {
        self.key = key
        self.size = size
        self.etag = etag
        self.lastModified = lastModified
        self.contentType = contentType
    }
}

/// One page of a listing.
public struct BlobListing: Sendable {
    /// Objects in ascending key order (UTF-8 byte order, as S3 lists).
    public var objects: [BlobMetadata]
    /// Pass as `after` to get the next page; nil when this was the last page.
    public var nextAfter: String?

    public init(objects: [BlobMetadata], nextAfter: String?) {
        self.objects = objects
        self.nextAfter = nextAfter
    }
}

/// Object storage for media: raw uploads, segments, playlists, posters.
///
/// Keys are `/`-separated paths such as `videos/01J…/720p/seg_00001.m4s`. Writes are atomic: a
/// reader sees either the old object or the whole new one, never a partial write. The embedded
/// implementation is ``FileBlobStore``; an S3-compatible one plugs in behind the same protocol.
public protocol BlobStore: Sendable {
    /// Stores the bytes of `chunks` under `key`, replacing any existing object atomically.
    ///
    /// If the sequence throws, nothing is stored and the error is rethrown.
    func put<Chunks: AsyncSequence & Sendable>(_ key: String, chunks: Chunks, contentType: String?) async throws -> BlobMetadata
    where Chunks.Element == [UInt8]

    /// Reads the whole object. Throws ``VideoStackError/Code/notFound`` if there is none.
    func get(_ key: String) async throws -> [UInt8]

    /// Reads bytes `range` of the object (clamped to its end).
    ///
    /// Throws ``VideoStackError/Code/outOfRange`` when the range starts at or past the end.
    func get(_ key: String, range: Range<Int64>) async throws -> [UInt8]

    /// Streams the object (or `range` of it) in chunks of at most `chunkSize` bytes, for serving
    /// large files without holding them in memory.
    func read(_ key: String, range: Range<Int64>?, chunkSize: Int) async throws -> AsyncThrowingStream<[UInt8], any Error>

    /// Size, etag and type of the object, or nil if there is none.
    func metadata(_ key: String) async throws -> BlobMetadata?

    /// Removes the object. Removing a missing object succeeds (as in S3).
    func delete(_ key: String) async throws

    /// Lists objects whose keys start with `prefix`, in key order, after the key `after`.
    func list(prefix: String, after: String?, limit: Int) async throws -> BlobListing
}

extension BlobStore {
    /// Stores `bytes` under `key`.
    @discardableResult
    public func put(_ key: String, bytes: [UInt8], contentType: String? = nil) async throws -> BlobMetadata {
        try await put(key, chunks: SingleChunk(bytes: bytes), contentType: contentType)
    }

    /// Stores a UTF-8 string under `key`.
    @discardableResult
    public func put(_ key: String, string: String, contentType: String? = nil) async throws -> BlobMetadata {
        try await put(key, bytes: Array(string.utf8), contentType: contentType)
    }

    /// Lists every object under `prefix`, following pages.
    public func listAll(prefix: String) async throws -> [BlobMetadata] {
        var all: [BlobMetadata] = []
        var after: String? = nil
        repeat {
            let page = try await list(prefix: prefix, after: after, limit: 1000)
            all += page.objects
            after = page.nextAfter
        } while after != nil
        return all
    }
}

/// An async sequence of one chunk, for putting bytes already in memory.
public struct SingleChunk: AsyncSequence, Sendable {
    public typealias Element = [UInt8]
    let bytes: [UInt8]

    public init(bytes: [UInt8]) { self.bytes = bytes }

    public struct AsyncIterator: AsyncIteratorProtocol {
        var bytes: [UInt8]?
        public mutating func next() async -> [UInt8]? {
            defer { bytes = nil }
            return bytes
        }
    }

    public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(bytes: bytes) }
}

extension BlobMetadata {
    /// Guesses a MIME type from a key's extension; `application/octet-stream` when unknown.
    public static func mimeType(forKey key: String) -> String {
        guard let dot = key.lastIndex(of: "."), !key[dot...].contains("/") else { return "application/octet-stream" }
        switch key[key.index(after: dot)...].lowercased() {
        case "m3u8": return "application/vnd.apple.mpegurl"
        case "m4s": return "video/iso.segment"
        case "mp4", "m4v": return "video/mp4"
        case "m4a": return "audio/mp4"
        case "ts": return "video/mp2t"
        case "aac": return "audio/aac"
        case "jpg", "jpeg": return "image/jpeg"
        case "png": return "image/png"
        case "webp": return "image/webp"
        case "vtt": return "text/vtt"
        case "json": return "application/json"
        case "txt": return "text/plain; charset=utf-8"
        case "html": return "text/html; charset=utf-8"
        default: return "application/octet-stream"
        }
    }
}
