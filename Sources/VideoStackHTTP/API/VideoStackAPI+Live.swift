internal import Foundation
internal import HTTPTypes
internal import Hummingbird
internal import VideoCore
internal import VideoPlatform
internal import VideoStackLive

// Live streams (issue 12): create one with its key, rotate the key, end and remove it.
extension VideoStackAPI {
    /// The live service, or 404 when the host runs none.
    func liveService() throws -> LiveStreaming {
        guard let live else { throw APIError.notFound("Live streaming is not enabled on this server.") }
        return live
    }

    func createLive(_ call: APICall) async throws -> Response {
        let user = try call.requireUser()
        let live = try liveService()
        let body = try await call.decodeJSON(CreateLiveRequest.self)
        guard let title = body.title else { throw APIError.invalidRequest("A live stream needs a 'title'.") }
        let credentials = try await live.createStream(owner: user.username, title: title, description: body.description ?? "",
                                                      tags: body.tags ?? [], visibility: body.visibility ?? .public)
        var fields = HTTPFields()
        fields[.location] = configuration.pathPrefix + "/videos/" + credentials.videoID.description
        return try json(LiveStreamResource(credentials), status: .created, headers: fields)
    }

    func rotateLiveKey(_ call: APICall) async throws -> Response {
        let user = try call.requireUser()
        let credentials = try await liveService().rotateKey(of: try call.videoID(), by: user)
        return try json(LiveKeyResource(streamKey: credentials.streamKey, ingestUrl: credentials.ingestURL))
    }

    func deleteLive(_ call: APICall) async throws -> Response {
        let user = try call.requireUser()
        let id = try call.videoID()
        try await liveService().deleteStream(id, by: user)
        configuration.videoDeleted?(id)
        return empty()
    }
}

/// `POST /live`'s body.
struct CreateLiveRequest: Decodable, Sendable {
    var title: String?
    var description: String?
    var tags: [String]?
    var visibility: Visibility?
}

/// `{"videoId", "streamKey", "ingestUrl"}`.
struct LiveStreamResource: Encodable, Sendable {
    var videoId: String
    var streamKey: String
    var ingestUrl: String

    init(_ credentials: LiveStreamCredentials) {
        videoId = credentials.videoID.description
        streamKey = credentials.streamKey
        ingestUrl = credentials.ingestURL
    }
}

/// `{"streamKey", "ingestUrl"}`.
struct LiveKeyResource: Encodable, Sendable {
    var streamKey: String
    var ingestUrl: String
}
