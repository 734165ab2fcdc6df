internal import Foundation
internal import HTTPTypes
internal import Hummingbird
internal import Logging
internal import NIOCore
internal import VideoCore
internal import VideoPlatform

// tus 1.0.0 over `platform.uploads`: core, creation, creation-with-upload, creation-defer-length,
// termination, checksum (sha256) and expiration. Bodies stream from the connection into the
// upload service chunk by chunk; nothing holds a whole upload in memory.
extension VideoStackAPI {
    static let offsetStream = "application/offset+octet-stream"

    /// The fields every tus answer carries.
    private func tusFields() -> HTTPFields {
        var fields = HTTPFields()
        fields[.tusResumable] = UploadService.tusVersion
        fields[.cacheControl] = "no-store"
        return fields
    }

    /// `OPTIONS`: what the server speaks, and the CORS preflight.
    func tusOptions(_ call: APICall) -> Response {
        var fields = tusFields()
        fields[.tusVersion] = UploadService.tusVersion
        fields[.tusExtension] = UploadService.extensions.joined(separator: ",")
        fields[.tusMaxSize] = String(platform.uploads.configuration.maxUploadSize)
        fields[.tusChecksumAlgorithm] = UploadService.checksumAlgorithms.joined(separator: ",")
        let methods: [HTTPRequest.Method] = call.parameters.get("id") == nil ? [.post] : [.head, .patch, .delete]
        for field in preflightFields(methods: methods) { fields.append(field) }
        return empty(.noContent, headers: fields)
    }

    /// 412 unless the request speaks tus 1.0.0.
    private func checkTusVersion(_ request: Request) throws {
        guard request.headers[.tusResumable] == UploadService.tusVersion else {
            var fields = tusFields()
            fields[.tusVersion] = UploadService.tusVersion
            throw APIError(.preconditionFailed, code: "precondition_failed",
                           "Send 'Tus-Resumable: \(UploadService.tusVersion)': this server speaks tus \(UploadService.tusVersion) only.",
                           headerFields: fields)
        }
    }

    private static func length(_ text: String?, _ name: String) throws -> Int64? {
        guard let text else { return nil }
        guard !text.isEmpty, text.utf8.count <= 19, text.utf8.allSatisfy({ (0x30...0x39).contains($0) }), let value = Int64(text) else {
            throw APIError.invalidRequest("\(name) must be a whole number of bytes; got '\(text.prefix(40))'.")
        }
        return value
    }

    private static func checksum(_ request: Request) throws -> UploadChecksum? {
        guard let header = request.headers[.uploadChecksum] else { return nil }
        do {
            return try UploadChecksum(header: header)
        } catch let error as VideoStackError {
            throw APIError.invalidRequest(error.message)
        }
    }

    /// The upload if it is the caller's (or the caller is an admin); 404 otherwise, as for one
    /// that does not exist.
    private func ownUpload(_ call: APICall) throws -> UploadID {
        let text = try call.parameter("id")
        guard text.utf8.count <= 128, let id = UploadID(text) else { throw APIError.notFound("There is no upload '\(text.prefix(64))'.") }
        return id
    }

    private func checkOwner(_ info: UploadInfo, _ user: AuthenticatedUser) throws {
        guard user.mayManage(ownedBy: info.owner) else { throw APIError.notFound("There is no upload \(info.id).") }
    }

    private func offsetFields(_ info: UploadInfo) -> HTTPFields {
        var fields = tusFields()
        fields[.uploadOffset] = String(info.offset)
        if let length = info.length { fields[.uploadLength] = String(length) }
        if info.state == .receiving {
            fields[.uploadExpires] = HTTPDate(secondsSince1970: Int64(info.expiresAt.timeIntervalSince1970)).description
        }
        return fields
    }

    /// The body as the upload service reads it, chunk by chunk from the connection.
    private static func body(_ request: Request) -> AsyncMapSequence<RequestBody, ByteBufferView> {
        request.body.map { $0.readableBytesView }
    }

    /// `POST`: creates the video and its upload, and stores the body's bytes when it has some
    /// (creation-with-upload).
    func tusCreate(_ call: APICall) async throws -> Response {
        let request = call.request
        let user = try call.requireUser()
        let length = try Self.length(request.headers[.uploadLength], "Upload-Length")
        let deferred = request.headers[.uploadDeferLength]
        if deferred != nil && deferred != "1" { throw APIError.invalidRequest("Upload-Defer-Length may only be 1.") }
        switch (length, deferred) {
        case (nil, nil): throw APIError.invalidRequest("Send Upload-Length (or Upload-Defer-Length: 1).")
        case (.some, .some): throw APIError.invalidRequest("Send Upload-Length or Upload-Defer-Length, not both.")
        default: break
        }
        let metadata: [String: String]
        do {
            let limits = platform.uploads.configuration
            metadata = try UploadMetadata.parse(request.headers[.uploadMetadata] ?? "", maxBytes: limits.maxMetadataBytes, maxPairs: limits.maxMetadataPairs)
        } catch let error as VideoStackError {
            throw APIError.invalidRequest(error.message)
        }
        // creation-with-upload: a body typed as an offset stream is the first chunk. A body of
        // another type is refused; an untyped, empty one (what clients send without data) is none.
        let contentType = request.headers[.contentType]
        let contentLength = request.headers[.contentLength].flatMap(Int64.init)
        let carriesChunk = contentType?.lowercased() == Self.offsetStream
        let otherBody = contentType != nil ? (contentLength ?? 1) > 0 : (contentLength ?? 0) > 0
        if !carriesChunk && otherBody {
            throw APIError.unsupportedMediaType("A creation request's body must be 'Content-Type: \(Self.offsetStream)'.")
        }
        if let length, let contentLength, carriesChunk, contentLength > length {
            throw APIError.payloadTooLarge("The body is longer than the Upload-Length of \(length) bytes.")
        }
        let checksum = try Self.checksum(request)
        // The version is checked once the fields parse, so a malformed field is named first.
        try checkTusVersion(request)
        try Self.checkVideoFields(metadata, owner: user.username)
        if let length, length > platform.uploads.configuration.maxUploadSize {
            throw APIError.payloadTooLarge("An upload may have at most \(platform.uploads.configuration.maxUploadSize) bytes; this one declares \(length).")
        }
        let (created, video) = try await platform.startUpload(owner: user.username, length: length, metadata: metadata)
        var upload = created
        if carriesChunk {
            do {
                upload = try await platform.uploads.append(upload.id, at: 0, checksum: checksum, body: Self.body(request))
            } catch {
                // As tus wants, the upload exists whatever happened to its first bytes; the
                // client resumes from the offset it reports.
                call.logger.info("the first chunk of an upload was not stored whole", metadata: ["upload": "\(upload.id)", "error": "\(error)"])
                upload = (try? await platform.uploads.status(upload.id)) ?? upload
            }
        }
        var fields = offsetFields(upload)
        fields[.location] = "\(configuration.pathPrefix)/uploads/\(upload.id)"
        fields[.videoID] = video.description
        return empty(.created, headers: fields)
    }

    /// The video fields of the metadata as the platform will check them, so that a title or
    /// tags over their limits are a 400 (a bad request), not a 413 (an upload over its size).
    private static func checkVideoFields(_ metadata: [String: String], owner: String) throws {
        let title = metadata["title"].flatMap { $0.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty ? nil : $0 } ?? "Untitled video"
        let tags = (metadata["tags"] ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        var visibility = Visibility.public
        if let text = metadata["visibility"], !text.isEmpty {
            guard let parsed = Visibility(rawValue: text) else {
                throw APIError.invalidRequest("visibility is one of public, unlisted or private; got '\(text.prefix(40))'.")
            }
            visibility = parsed
        }
        do {
            try Video(owner: owner, title: title, description: metadata["description"] ?? "", tags: tags, visibility: visibility).validate()
        } catch let error as VideoStackError {
            throw APIError.invalidRequest(error.message)
        }
    }

    /// `HEAD`: the offset to resume at.
    func tusHead(_ call: APICall) async throws -> Response {
        try checkTusVersion(call.request)
        let user = try call.requireUser()
        let info = try await platform.uploads.status(try ownUpload(call))
        try checkOwner(info, user)
        var fields = offsetFields(info)
        if info.length == nil { fields[.uploadDeferLength] = "1" }
        if !info.metadata.isEmpty { fields[.uploadMetadata] = UploadMetadata.encode(info.metadata) }
        if let video = info.attachment { fields[.videoID] = video }
        return empty(.ok, headers: fields)
    }

    /// `PATCH`: appends the body at `Upload-Offset`.
    func tusPatch(_ call: APICall) async throws -> Response {
        let request = call.request
        let user = try call.requireUser()
        guard let contentType = request.headers[.contentType], contentType.lowercased() == Self.offsetStream else {
            throw APIError.unsupportedMediaType("A PATCH body must be 'Content-Type: \(Self.offsetStream)'.")
        }
        guard let offset = try Self.length(request.headers[.uploadOffset], "Upload-Offset") else {
            throw APIError.invalidRequest("Send the Upload-Offset this chunk starts at.")
        }
        let declaredLength = try Self.length(request.headers[.uploadLength], "Upload-Length")
        let checksum = try Self.checksum(request)
        try checkTusVersion(request)
        let id = try ownUpload(call)
        let before = try await platform.uploads.status(id)
        try checkOwner(before, user)
        if let length = before.length ?? declaredLength, let body = request.headers[.contentLength].flatMap(Int64.init), offset == before.offset,
           body > length - offset {
            throw APIError.payloadTooLarge("The chunk of \(body) bytes would pass the upload's length of \(length) bytes (offset \(offset)).")
        }
        let after: UploadInfo
        do {
            after = try await platform.uploads.append(id, at: offset, declaredLength: declaredLength, checksum: checksum, body: Self.body(request))
        } catch let error as VideoStackError where error.code == .conflict {
            var apiError = APIError.conflict(error.message)
            if let current = try? await platform.uploads.status(id) { apiError.headerFields[.uploadOffset] = String(current.offset) }
            throw apiError
        }
        return empty(.noContent, headers: offsetFields(after))
    }

    /// `DELETE`: ends an unfinished upload and removes the video it was to become.
    func tusDelete(_ call: APICall) async throws -> Response {
        try checkTusVersion(call.request)
        let user = try call.requireUser()
        let id = try ownUpload(call)
        let info = try await platform.uploads.status(id)
        try checkOwner(info, user)
        try await platform.uploads.terminate(id)
        if info.state == .receiving, let attachment = info.attachment, let video = VideoID(attachment),
           let stored = try await platform.catalog.video(video), stored.status == .uploading {
            try await platform.deleteVideo(video, by: user)
            configuration.videoDeleted?(video)
        }
        return empty(.noContent, headers: tusFields())
    }
}
