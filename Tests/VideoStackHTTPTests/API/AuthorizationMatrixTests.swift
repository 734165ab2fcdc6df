import Foundation
import HTTPTypes
import Testing
import VideoCore
import VideoPlatform
@testable import VideoStackHTTP

/// Every endpoint called by an anonymous client, the owner of what it concerns (a member),
/// another member and an admin: the status each gets.
@Suite struct AuthorizationMatrixTests {
    enum Actor: Int, CaseIterable, CustomStringConvertible {
        case anonymous, owner, other, admin
        var description: String { ["anonymous", "owner", "other", "admin"][rawValue] }
    }

    struct Row {
        var method: HTTPRequest.Method
        var path: String
        /// anonymous, owner, other member, admin.
        var expected: [Int]
        var run: @Sendable (APIClient, _ token: String?, _ actor: Actor) async throws -> Reply
    }

    @Test func everyEndpointForEveryActor() async throws {
        let fixture = try await APIFixture.make()
        try await fixture.withServer { api in
            let tokens: [Actor: String] = [
                .owner: try await api.signUp("owner"), .other: try await api.signUp("other"), .admin: try await api.signUp("boss"),
            ]
            try await fixture.makeAdmin("boss")
            let publicVideo = try await fixture.makeVideo(owner: "owner", title: "Public one")
            let privateVideo = try await fixture.makeVideo(owner: "owner", title: "Private one", visibility: .private)
            let tus = ["Tus-Resumable": "1.0.0"]
            @Sendable func upload() async throws -> String {
                let created = try await api.call(.post, "/api/v1/uploads", token: tokens[.owner],
                                                 headers: tus.merging(["Upload-Length": "100", "Upload-Metadata": "title \(Data("Upload".utf8).base64EncodedString())"]) { $1 })
                #expect(created.status == 201)
                return created.header("Location") ?? ""
            }
            /// A new live stream of the owner's; its video id.
            @Sendable func liveStream() async throws -> String {
                let created = try await api.call(.post, "/api/v1/live", token: tokens[.owner], json: #"{"title":"Owner live"}"#)
                #expect(created.status == 201)
                return created["videoId"] as? String ?? ""
            }
            let sharedUpload = try await upload()
            let offsets = OffsetBox()
            let json = #"{"username":"u","email":"e","password":"p"}"#
            _ = json

            let rows: [Row] = [
                Row(method: .post, path: "/auth/signup", expected: [201, 201, 201, 201]) { api, token, actor in
                    try await api.call(.post, "/api/v1/auth/signup", token: token,
                                       json: #"{"username":"new\#(actor)","email":"new\#(actor)@example.com","password":"\#(APIFixture.password)","name":"N"}"#)
                },
                Row(method: .post, path: "/auth/signin", expected: [200, 200, 200, 200]) { api, token, _ in
                    try await api.call(.post, "/api/v1/auth/signin", token: token, json: #"{"email":"other@example.com","password":"\#(APIFixture.password)"}"#)
                },
                Row(method: .post, path: "/auth/refresh", expected: [200, 200, 200, 200]) { api, token, _ in
                    let session = try await api.call(.post, "/api/v1/auth/signin", json: #"{"email":"other@example.com","password":"\#(APIFixture.password)"}"#)
                    return try await api.call(.post, "/api/v1/auth/refresh", token: token, json: #"{"refreshToken":"\#(session["refreshToken"] as? String ?? "")"}"#)
                },
                Row(method: .get, path: "/me", expected: [401, 200, 200, 200]) { api, token, _ in try await api.call(.get, "/api/v1/me", token: token) },
                Row(method: .options, path: "/uploads", expected: [204, 204, 204, 204]) { api, token, _ in
                    try await api.call(.options, "/api/v1/uploads", token: token)
                },
                Row(method: .post, path: "/uploads", expected: [401, 201, 201, 201]) { api, token, _ in
                    try await api.call(.post, "/api/v1/uploads", token: token, headers: tus.merging(["Upload-Length": "10"]) { $1 })
                },
                Row(method: .options, path: "/uploads/{id}", expected: [204, 204, 204, 204]) { api, token, _ in
                    try await api.call(.options, sharedUpload, token: token)
                },
                Row(method: .head, path: "/uploads/{id}", expected: [401, 200, 404, 200]) { api, token, _ in
                    try await api.call(.head, sharedUpload, token: token, headers: tus)
                },
                Row(method: .patch, path: "/uploads/{id}", expected: [401, 204, 404, 204]) { api, token, _ in
                    let offset = offsets.value
                    let reply = try await api.call(.patch, sharedUpload, token: token,
                                                   headers: tus.merging(["Upload-Offset": String(offset), "Content-Type": "application/offset+octet-stream"]) { $1 },
                                                   body: Array(repeating: 1, count: 10))
                    if reply.status == 204 { offsets.value += 10 }
                    return reply
                },
                Row(method: .delete, path: "/uploads/{id}", expected: [401, 204, 404, 204]) { api, token, _ in
                    try await api.call(.delete, try await upload(), token: token, headers: tus)
                },
                Row(method: .get, path: "/videos/{id}", expected: [404, 200, 404, 200]) { api, token, _ in
                    try await api.call(.get, "/api/v1/videos/\(privateVideo.id)", token: token)
                },
                Row(method: .patch, path: "/videos/{id}", expected: [401, 200, 403, 200]) { api, token, _ in
                    try await api.call(.patch, "/api/v1/videos/\(publicVideo.id)", token: token, json: #"{"description":"changed"}"#)
                },
                Row(method: .delete, path: "/videos/{id}", expected: [401, 204, 403, 204]) { api, token, _ in
                    let video = try await fixture.makeVideo(owner: "owner", title: "To delete")
                    return try await api.call(.delete, "/api/v1/videos/\(video.id)", token: token)
                },
                Row(method: .get, path: "/users/{username}/videos", expected: [200, 200, 200, 200]) { api, token, _ in
                    try await api.call(.get, "/api/v1/users/owner/videos", token: token)
                },
                Row(method: .get, path: "/search", expected: [200, 200, 200, 200]) { api, token, _ in
                    try await api.call(.get, "/api/v1/search?q=one", token: token)
                },
                Row(method: .post, path: "/videos/{id}/reviews", expected: [401, 201, 201, 201]) { api, token, _ in
                    try await api.call(.post, "/api/v1/videos/\(publicVideo.id)/reviews", token: token, json: #"{"rating":3,"comment":"ok"}"#)
                },
                Row(method: .get, path: "/videos/{id}/reviews", expected: [404, 200, 404, 200]) { api, token, _ in
                    try await api.call(.get, "/api/v1/videos/\(privateVideo.id)/reviews", token: token)
                },
                Row(method: .post, path: "/videos/{id}/share", expected: [401, 201, 404, 201]) { api, token, _ in
                    try await api.call(.post, "/api/v1/videos/\(privateVideo.id)/share", token: token)
                },
                Row(method: .post, path: "/videos/{id}/views", expected: [404, 200, 404, 200]) { api, token, _ in
                    try await api.call(.post, "/api/v1/videos/\(privateVideo.id)/views", token: token)
                },
                Row(method: .get, path: "/healthz", expected: [200, 200, 200, 200]) { api, token, _ in try await api.call(.get, "/api/v1/healthz", token: token) },
                Row(method: .post, path: "/live", expected: [401, 201, 201, 201]) { api, token, _ in
                    try await api.call(.post, "/api/v1/live", token: token, json: #"{"title":"Live now"}"#)
                },
                Row(method: .post, path: "/live/{id}/key", expected: [401, 200, 403, 200]) { api, token, _ in
                    try await api.call(.post, "/api/v1/live/\(try await liveStream())/key", token: token)
                },
                Row(method: .delete, path: "/live/{id}", expected: [401, 204, 403, 204]) { api, token, _ in
                    try await api.call(.delete, "/api/v1/live/\(try await liveStream())", token: token)
                },
                // Last: these end the sessions the rows above use.
                Row(method: .post, path: "/auth/signout", expected: [401, 204, 204, 204]) { api, token, _ in
                    try await api.call(.post, "/api/v1/auth/signout", token: token)
                },
                Row(method: .post, path: "/auth/signout-all", expected: [401, 204, 204, 204]) { api, token, actor in
                    guard actor != .anonymous else { return try await api.call(.post, "/api/v1/auth/signout-all") }
                    let name = ["", "owner", "other", "boss"][actor.rawValue]
                    return try await api.call(.post, "/api/v1/auth/signout-all", token: try await api.signIn(name))
                },
            ]
            // The matrix covers every endpoint the API registers.
            let covered = Set(rows.map { "\($0.method.rawValue) \($0.path)" })
            let registered = Set(VideoStackAPI.endpoints.map { "\($0.method.rawValue) \($0.path)" })
            #expect(covered == registered)

            for row in rows {
                for actor in Actor.allCases {
                    let reply = try await row.run(api, tokens[actor], actor)
                    #expect(reply.status == row.expected[actor.rawValue], "\(row.method.rawValue) \(row.path) as \(actor): \(reply.status) \(reply.text)")
                    if reply.status >= 400 && row.method != .head {
                        #expect(reply.errorCode != nil, "\(row.method.rawValue) \(row.path) as \(actor): no JSON error")
                    }
                }
            }
        }
    }
}

/// The next offset of the shared upload, as the PATCH row advances it.
final class OffsetBox: @unchecked Sendable {
    // Only the test's one task touches it, in order.
    var value: Int64 = 0
}
