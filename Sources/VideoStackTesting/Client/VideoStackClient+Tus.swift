internal import Crypto
public import Foundation
internal import NIOHTTP1

extension VideoStackClient {
    /// The tus protocol version the client speaks.
    public static let tusVersion = "1.0.0"

    /// Metadata of a new upload; the server stores it with the video it creates.
    public struct UploadMetadata: Sendable, Hashable {
        public var filename: String
        public var title: String
        public var description: String
        public var tags: [String]
        /// `public`, `unlisted` or `private`.
        public var visibility: String
        /// More pairs to send as they are (to test what the server does with them).
        public var extra: [String: String]

        public init(filename: String = "clip.mp4", title: String, description: String = "", tags: [String] = [],
                    visibility: String = "public", extra: [String: String] = [:]) {
            self.filename = filename
            self.title = title
            self.description = description
            self.tags = tags
            self.visibility = visibility
            self.extra = extra
        }

        /// The `Upload-Metadata` header: `key base64(value)` pairs, comma separated (empty values sent as bare keys).
        public var headerValue: String {
            var pairs = ["filename": filename, "title": title, "description": description,
                         "tags": tags.joined(separator: ","), "visibility": visibility]
            pairs.merge(extra) { $1 }
            return pairs.sorted { $0.key < $1.key }.map { key, value in
                value.isEmpty ? key : "\(key) \(Data(value.utf8).base64EncodedString())"
            }.joined(separator: ",")
        }
    }

    /// `POST /uploads`: creates a tus upload of `length` bytes; with `firstBytes`, sends them in
    /// the same request (creation-with-upload).
    ///
    /// - Throws: ``APIClientError``: `.unauthorized` signed out, `.payloadTooLarge` over the size
    ///   limit or quota, `.invalidRequest` for bad metadata.
    public func createUpload(length: Int64, metadata: UploadMetadata, firstBytes: Data? = nil) async throws -> Upload {
        var headers = [("Tus-Resumable", Self.tusVersion), ("Upload-Length", String(length)), ("Upload-Metadata", metadata.headerValue)]
        if firstBytes != nil { headers.append(("Content-Type", "application/offset+octet-stream")) }
        let response = try await send(.POST, apiPrefix + "/uploads", headers: headers, body: firstBytes)
        guard response.status == 201 else { throw Self.failure(response, request: "POST /uploads") }
        guard let location = response.header("Location"), let videoID = response.header("Video-Id") else {
            throw APIClientError(status: response.status, code: .unreadable, message: "The creation answer lacks Location or Video-Id.",
                                 requestID: response.header("X-Request-Id"), request: "POST /uploads")
        }
        let offset = response.header("Upload-Offset").flatMap { Int64($0) } ?? 0
        return Upload(url: url(location), videoID: videoID, offset: offset)
    }

    /// `HEAD /uploads/{id}`: how many bytes the server has, and the declared length (nil when deferred).
    public func uploadOffset(_ upload: Upload) async throws -> (offset: Int64, length: Int64?) {
        let response = try await send(.HEAD, upload.url.absoluteString, headers: [("Tus-Resumable", Self.tusVersion)])
        guard response.status == 200 || response.status == 204, let offset = response.header("Upload-Offset").flatMap({ Int64($0) }) else {
            throw Self.failure(response, request: "HEAD \(upload.url.path)")
        }
        return (offset, response.header("Upload-Length").flatMap { Int64($0) })
    }

    /// `PATCH /uploads/{id}`: appends `bytes` at `offset`, with an `Upload-Checksum` (SHA-256)
    /// unless `checksum` is false. Returns the new offset.
    ///
    /// - Throws: ``APIClientError`` `.conflict` when `offset` is not the server's.
    @discardableResult
    public func appendUpload(_ upload: Upload, at offset: Int64, bytes: Data, checksum: Bool = true) async throws -> Int64 {
        var headers = [("Tus-Resumable", Self.tusVersion), ("Upload-Offset", String(offset)), ("Content-Type", "application/offset+octet-stream")]
        if checksum {
            headers.append(("Upload-Checksum", "sha256 " + Data(SHA256.hash(data: bytes)).base64EncodedString()))
        }
        let response = try await send(.PATCH, upload.url.absoluteString, headers: headers, body: bytes)
        guard response.status == 204, let next = response.header("Upload-Offset").flatMap({ Int64($0) }) else {
            throw Self.failure(response, request: "PATCH \(upload.url.path)")
        }
        return next
    }

    /// `DELETE /uploads/{id}`: abandons the upload.
    public func deleteUpload(_ upload: Upload) async throws {
        let response = try await send(.DELETE, upload.url.absoluteString, headers: [("Tus-Resumable", Self.tusVersion)])
        guard response.status == 204 else { throw Self.failure(response, request: "DELETE \(upload.url.path)") }
    }

    /// Uploads `data` whole: creates the upload, then sends it in `chunkSize` pieces. Returns the
    /// upload, whose ``Upload/videoID`` names the new video.
    public func upload(_ data: Data, title: String, description: String = "", tags: [String] = [], visibility: String = "public",
                       filename: String = "clip.mp4", chunkSize: Int = 1 << 20) async throws -> Upload {
        let upload = try await createUpload(length: Int64(data.count),
                                            metadata: UploadMetadata(filename: filename, title: title, description: description,
                                                                     tags: tags, visibility: visibility))
        try await resumeUpload(upload, data: data, chunkSize: chunkSize)
        return upload
    }

    /// Sends what the server does not have yet of `data`: asks for the offset (HEAD) and appends
    /// from there in `chunkSize` pieces. What a client does after a dropped connection or a restart.
    public func resumeUpload(_ upload: Upload, data: Data, chunkSize: Int = 1 << 20) async throws {
        var offset = try await uploadOffset(upload).offset
        let chunk = max(1, chunkSize)
        while offset < Int64(data.count) {
            let end = min(Int(offset) + chunk, data.count)
            offset = try await appendUpload(upload, at: offset, bytes: data.subdata(in: Int(offset)..<end))
        }
    }
}
