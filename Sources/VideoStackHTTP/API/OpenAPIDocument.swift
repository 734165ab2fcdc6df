internal import Foundation
internal import HTTPTypes
internal import SearchIndex
internal import VideoPlatform

// The OpenAPI 3.1 document, built from the same route plan the router registers, so the two
// cannot drift apart: an endpoint without a description here fails the document's tests.

extension VideoStackAPI {
    /// The OpenAPI 3.1 document of the API as mounted with this configuration (paths under
    /// ``APIConfiguration/pathPrefix``, plus `/s/{code}` and `/openapi.json`), as JSON bytes.
    public func openAPIDocument() -> [UInt8] {
        let document = OpenAPIBuilder(prefix: configuration.pathPrefix, maxUploadSize: platform.uploads.configuration.maxUploadSize,
                                      maxJSONBody: configuration.maximumJSONBodySize).document()
        let data = (try? JSONSerialization.data(withJSONObject: document, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data("{}".utf8)
        return Array(data)
    }
}

/// What the document says of one operation.
struct OperationSpec {
    var id: String
    var summary: String
    var parameters: [[String: Any]] = []
    var body: String? = nil
    var bodyRequired = true
    var success: [String: [String: Any]]
    var errors: [Int]
}

struct OpenAPIBuilder {
    let prefix: String
    let maxUploadSize: Int64
    let maxJSONBody: Int

    static func ref(_ name: String) -> [String: Any] { ["$ref": "#/components/schemas/\(name)"] }
    static func json(_ schema: String, _ description: String, headers: [String: Any]? = nil) -> [String: Any] {
        var response: [String: Any] = ["description": description, "content": ["application/json": ["schema": ref(schema)]]]
        if let headers { response["headers"] = headers }
        return response
    }
    static func header(_ description: String, _ schema: [String: Any] = ["type": "string"]) -> [String: Any] {
        ["description": description, "schema": schema]
    }
    nonisolated(unsafe) static let idParameter: [String: Any] = ["name": "id", "in": "path", "required": true, "description": "The video's id.", "schema": ["type": "string", "maxLength": 64]]
    nonisolated(unsafe) static let uploadIDParameter: [String: Any] = ["name": "id", "in": "path", "required": true, "description": "The upload's id (the last part of its Location).", "schema": ["type": "string"]]
    static func query(_ name: String, _ description: String, _ schema: [String: Any]) -> [String: Any] {
        ["name": name, "in": "query", "required": false, "description": description, "schema": schema]
    }
    nonisolated(unsafe) static let limit: [String: Any] = query("limit", "Items per page, 1 to 100.", ["type": "integer", "minimum": 1, "maximum": 100, "default": 20])
    nonisolated(unsafe) static let cursor: [String: Any] = query("cursor", "The nextCursor of the previous page, unchanged.", ["type": "string", "maxLength": 4096])
    static func requestHeader(_ name: String, _ description: String, required: Bool, _ schema: [String: Any]) -> [String: Any] {
        ["name": name, "in": "header", "required": required, "description": description, "schema": schema]
    }
    // Not "required" and not an enum: tus answers a missing or other version with 412 (and
    // Tus-Version), which the operations document, rather than with a generic 400.
    nonisolated(unsafe) static let tusResumable: [String: Any] = requestHeader(
        "Tus-Resumable", "The tus version the client speaks; this server speaks 1.0.0 and answers anything else (or nothing) with 412.",
        required: false, ["type": "string"])
    nonisolated(unsafe) static let digits: [String: Any] = ["type": "string", "pattern": "^[0-9]{1,19}$"]

    static let errorDescriptions: [Int: String] = [
        400: "invalid_request: malformed JSON, wrong types, missing or oversized fields, bad ids, cursors or query parameters.",
        401: "unauthorized: no, malformed, expired or revoked credentials.",
        403: "forbidden: signed in, but not the owner or an admin.",
        404: "not_found: no such thing, or not visible to the caller.",
        409: "conflict: a duplicate, a state that does not allow it, or a tus offset mismatch.",
        412: "precondition_failed: the tus version is missing or unsupported.",
        413: "payload_too_large: the body, the upload or the quota is over its limit.",
        415: "unsupported_media_type: the body's Content-Type is not the one expected.",
        423: "locked: another request is writing to this upload.",
        429: "rate_limited: too many requests; retry after Retry-After seconds.",
        460: "checksum_mismatch: the chunk does not match its Upload-Checksum; it was discarded.",
    ]

    nonisolated(unsafe) static let tusResponseHeaders: [String: Any] = [
        "Tus-Resumable": header("The tus version."),
        "Upload-Offset": header("Bytes received.", digits),
        "Upload-Expires": header("When the unfinished upload expires (HTTP date)."),
    ]

    func specs() -> [String: OperationSpec] {
        typealias O = OperationSpec
        let video = Self.json("Video", "The video.")
        let body400 = [400, 413, 415, 429]
        return [
            "POST /auth/signup": O(id: "signUp", summary: "Register an account.", body: "SignUpRequest",
                                   success: ["201": Self.json("User", "The new user.", headers: ["Location": Self.header("The user's resource (/me).")])],
                                   errors: body400 + [409]),
            "POST /auth/signin": O(id: "signIn", summary: "Sign in with email and password.", body: "SignInRequest",
                                   success: ["200": Self.json("Session", "Tokens and the user.")], errors: body400 + [401]),
            "POST /auth/refresh": O(id: "refresh", summary: "Exchange a refresh token for new tokens.", body: "RefreshRequest",
                                    success: ["200": Self.json("Session", "New tokens and the user.")], errors: body400 + [401]),
            "POST /auth/signout": O(id: "signOut", summary: "End the session of the bearer token and/or of a refresh token.",
                                    body: "SignOutRequest", bodyRequired: false, success: ["204": ["description": "Signed out."]], errors: body400 + [401]),
            "POST /auth/signout-all": O(id: "signOutEverywhere", summary: "End every session of the signed-in account.",
                                        success: ["204": ["description": "Every session ended."]], errors: [401, 429]),
            "GET /me": O(id: "me", summary: "The signed-in user, with their email.", success: ["200": Self.json("User", "The user.")], errors: [401, 429]),
            "OPTIONS /uploads": O(id: "tusDiscover", summary: "tus discovery and CORS preflight.", success: ["204": tusOptionsResponse()], errors: []),
            "POST /uploads": O(id: "tusCreate", summary: "Create an upload (tus creation, creation-with-upload, creation-defer-length); the video it becomes is named in Video-Id.",
                               parameters: [
                                   Self.tusResumable,
                                   Self.requestHeader("Upload-Length", "The file's size in bytes.", required: false, Self.digits),
                                   Self.requestHeader("Upload-Defer-Length", "1 to send the length later.", required: false, ["type": "string", "enum": ["1"]]),
                                   Self.requestHeader("Upload-Metadata", "Comma-separated 'key base64value' pairs: filename, title, description, tags (comma separated), visibility.", required: false, ["type": "string", "maxLength": 8192]),
                                   Self.requestHeader("Upload-Checksum", "'sha256 <base64 digest>' of the body.", required: false, ["type": "string", "maxLength": 256]),
                               ],
                               body: "binary", bodyRequired: false,
                               success: ["201": ["description": "Created; the body's bytes, if any, are stored.", "headers": Self.tusResponseHeaders.merging([
                                   "Location": Self.header("The upload's URL."), "Video-Id": Self.header("The id of the video the upload becomes."),
                               ]) { $1 }]],
                               errors: [400, 401, 412, 413, 415, 429]),
            "OPTIONS /uploads/{id}": O(id: "tusUploadOptions", summary: "tus discovery and CORS preflight for one upload.", parameters: [Self.uploadIDParameter],
                                       success: ["204": tusOptionsResponse()], errors: []),
            "HEAD /uploads/{id}": O(id: "tusStatus", summary: "The offset to resume at (tus HEAD).", parameters: [Self.uploadIDParameter, Self.tusResumable],
                                    success: ["200": ["description": "The upload's state.", "headers": Self.tusResponseHeaders.merging([
                                        "Upload-Length": Self.header("The file's size.", Self.digits), "Upload-Metadata": Self.header("The metadata as sent."),
                                        "Video-Id": Self.header("The video the upload becomes."),
                                    ]) { $1 }]],
                                    errors: [400, 401, 404, 412, 429]),
            "PATCH /uploads/{id}": O(id: "tusAppend", summary: "Append the body at Upload-Offset (tus PATCH); the last chunk hands the file to processing.",
                                     parameters: [
                                         Self.uploadIDParameter, Self.tusResumable,
                                         Self.requestHeader("Upload-Offset", "Where this chunk starts; must be the upload's offset.", required: true, Self.digits),
                                         Self.requestHeader("Upload-Length", "The length of a deferred-length upload, once.", required: false, Self.digits),
                                         Self.requestHeader("Upload-Checksum", "'sha256 <base64 digest>' of this chunk.", required: false, ["type": "string", "maxLength": 256]),
                                     ],
                                     body: "binary",
                                     success: ["204": ["description": "Stored; Upload-Offset is the new offset.", "headers": Self.tusResponseHeaders]],
                                     errors: [400, 401, 404, 409, 412, 413, 415, 423, 429, 460]),
            "DELETE /uploads/{id}": O(id: "tusTerminate", summary: "End an unfinished upload and remove the video it was to become (tus termination).",
                                      parameters: [Self.uploadIDParameter, Self.tusResumable],
                                      success: ["204": ["description": "Terminated.", "headers": ["Tus-Resumable": Self.header("The tus version.")]]],
                                      errors: [400, 401, 404, 409, 412, 423, 429]),
            "GET /videos/{id}": O(id: "getVideo", summary: "A video, with media URLs signed for the caller where needed.", parameters: [Self.idParameter],
                                  success: ["200": video], errors: [400, 401, 404, 429]),
            "PATCH /videos/{id}": O(id: "updateVideo", summary: "Change a video's title, description, tags or visibility (owner or admin).",
                                    parameters: [Self.idParameter], body: "UpdateVideoRequest", success: ["200": video], errors: body400 + [401, 403, 404, 409]),
            "DELETE /videos/{id}": O(id: "deleteVideo", summary: "Delete a video and everything it left (owner or admin).", parameters: [Self.idParameter],
                                     success: ["204": ["description": "Deleted."]], errors: [400, 401, 403, 404, 429]),
            "GET /users/{username}/videos": O(id: "userVideos", summary: "A user's videos, newest first: all of them for the user and admins, public playable ones for others.",
                                              parameters: [["name": "username", "in": "path", "required": true, "schema": ["type": "string"]], Self.limit, Self.cursor],
                                              success: ["200": Self.json("VideoPage", "A page of videos.")], errors: [400, 401, 404, 429]),
            "GET /search": O(id: "search", summary: "Search public videos (and the caller's own) with prefixes and typo tolerance.",
                             parameters: [
                                 Self.query("q", "What the user typed; empty browses.", ["type": "string", "maxLength": SearchQuery.maxTextBytes]),
                                 Self.query("sort", "The order.", ["type": "string", "enum": SearchSort.allCases.map(\.rawValue)]),
                                 Self.cursor, Self.limit,
                                 Self.query("uploader", "Only this user's videos.", ["type": "string"]),
                                 Self.query("minDuration", "Shortest length, seconds.", ["type": "number", "minimum": 0, "maximum": 1e9]),
                                 Self.query("maxDuration", "Longest length, seconds.", ["type": "number", "minimum": 0, "maximum": 1e9]),
                                 Self.query("after", "Uploaded at or after (ISO 8601).", ["type": "string", "format": "date-time"]),
                                 Self.query("before", "Uploaded at or before (ISO 8601).", ["type": "string", "format": "date-time"]),
                             ],
                             success: ["200": Self.json("SearchPage", "A page of results.")], errors: [400, 401, 429]),
            "POST /videos/{id}/reviews": O(id: "postReview", summary: "Review a ready video; a second review by the same user replaces the first.",
                                           parameters: [Self.idParameter], body: "ReviewRequest",
                                           success: ["201": Self.json("Review", "The new review."), "200": Self.json("Review", "The review that replaced the user's earlier one.")],
                                           errors: body400 + [401, 404, 409]),
            "GET /videos/{id}/reviews": O(id: "reviews", summary: "A video's reviews, newest first.", parameters: [Self.idParameter, Self.limit, Self.cursor],
                                          success: ["200": Self.json("ReviewPage", "A page of reviews.")], errors: [400, 401, 404, 429]),
            "POST /videos/{id}/share": O(id: "share", summary: "Make a share link to a video the caller may see.", parameters: [Self.idParameter],
                                         success: ["201": Self.json("ShareLink", "The link.", headers: ["Location": Self.header("The link's URL.")])],
                                         errors: [400, 401, 404, 429]),
            "POST /videos/{id}/views": O(id: "recordView", summary: "Count a view (once per viewer per hour).", parameters: [Self.idParameter],
                                         success: ["200": Self.json("ViewCount", "Whether it counted, and the count.")], errors: [400, 401, 404, 429]),
            "POST /live": O(id: "createLive", summary: "Create a live stream owned by the caller: a video that goes live when its key publishes over RTMP.",
                            body: "CreateLiveRequest", success: ["201": Self.json("LiveStream", "The stream's video, key (shown only now) and ingest address.")],
                            errors: body400 + [401, 404]),
            "POST /live/{id}/key": O(id: "rotateLiveKey", summary: "Replace a live stream's key; the old one is refused from now on (owner or admin).",
                                     parameters: [Self.idParameter], success: ["200": Self.json("LiveKey", "The new key.")], errors: [400, 401, 403, 404, 409, 429]),
            "DELETE /live/{id}": O(id: "deleteLive", summary: "End a live stream, revoke its key and delete its video (owner or admin).",
                                   parameters: [Self.idParameter], success: ["204": ["description": "Deleted."]], errors: [400, 401, 403, 404, 429]),
            "GET /healthz": O(id: "health", summary: "Whether the API is serving.", success: ["200": Self.json("Health", "Serving.")], errors: [429]),
        ]
    }

    func tusOptionsResponse() -> [String: Any] {
        ["description": "What the server speaks, and the CORS preflight answer.", "headers": [
            "Tus-Version": Self.header("Supported versions."), "Tus-Extension": Self.header("Supported extensions."),
            "Tus-Max-Size": Self.header("The largest upload in bytes.", Self.digits), "Tus-Checksum-Algorithm": Self.header("Checksum algorithms."),
            "Access-Control-Allow-Methods": Self.header("Methods allowed."), "Access-Control-Allow-Headers": Self.header("Request fields allowed."),
        ]]
    }

    func operation(_ endpoint: Endpoint, specs: [String: OperationSpec]) -> [String: Any]? {
        let key = "\(endpoint.method.rawValue) \(endpoint.path)"
        var spec: OperationSpec
        if let found = specs[key] {
            spec = found
        } else if endpoint.method == .head, var get = specs["GET \(endpoint.path)"] {
            get.id = "head" + get.id.prefix(1).uppercased() + get.id.dropFirst()
            get.summary = "Like GET, without the body."
            get.success = get.success.mapValues { response in response.filter { $0.key != "content" } }
            spec = get
        } else if endpoint.method == .options {
            let id = endpoint.path.split(whereSeparator: { !$0.isLetter }).map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined()
            let parameters: [[String: Any]] = endpoint.path.contains("{") ? endpoint.path.split(separator: "/").filter { $0.hasPrefix("{") }.map {
                ["name": String($0.dropFirst().dropLast()), "in": "path", "required": true, "schema": ["type": "string"]]
            } : []
            spec = OperationSpec(id: "preflight" + id, summary: "CORS preflight.", parameters: parameters, success: ["204": [
                "description": "The methods and request fields allowed.", "headers": [
                    "Access-Control-Allow-Methods": Self.header("Methods allowed."), "Access-Control-Allow-Headers": Self.header("Request fields allowed."),
                ],
            ]], errors: [])
        } else {
            return nil
        }
        var responses: [String: Any] = spec.success
        let headless = endpoint.method == .head
        for code in spec.errors {
            var response: [String: Any] = ["description": Self.errorDescriptions[code] ?? "An error."]
            if !headless { response["content"] = ["application/json": ["schema": Self.ref("Error")]] }
            if code == 429 { response["headers"] = ["Retry-After": Self.header("Seconds to wait.", ["type": "string", "pattern": "^[0-9]+$"])] }
            if code == 401 { response["headers"] = ["WWW-Authenticate": Self.header("The Bearer challenge.")] }
            responses[String(code)] = response
        }
        var result: [String: Any] = ["operationId": spec.id, "summary": spec.summary, "responses": responses]
        if !spec.parameters.isEmpty { result["parameters"] = spec.parameters }
        switch endpoint.authentication {
        case .none: result["security"] = [[String: Any]]()
        case .optional: result["security"] = [[String: Any](), ["bearerAuth": [String]()]]
        case .required: result["security"] = [["bearerAuth": [String]()]]
        }
        if let body = spec.body {
            let content: [String: Any] = body == "binary"
                ? ["application/offset+octet-stream": ["schema": ["type": "string", "format": "binary"]]]
                : ["application/json": ["schema": Self.ref(body)]]
            result["requestBody"] = ["required": spec.bodyRequired, "content": content]
        }
        return result
    }

    func document() -> [String: Any] {
        let specs = specs()
        var paths: [String: [String: Any]] = [:]
        for endpoint in VideoStackAPI.routePlan {
            guard let operation = operation(endpoint, specs: specs) else { continue }
            paths[prefix + endpoint.path, default: [:]][endpoint.method.rawValue.lowercased()] = operation
        }
        paths["/s/{code}"] = ["get": [
            "operationId": "followShareLink", "summary": "Follow a share link to the video's watch page.", "security": [[String: Any]](),
            "parameters": [["name": "code", "in": "path", "required": true, "schema": ["type": "string"]]],
            "responses": [
                "302": ["description": "To /watch/<videoId>.", "headers": ["Location": Self.header("The watch page.")]],
                "404": ["description": "An HTML page: the link is unknown, or its video was deleted or is private.", "content": ["text/html": ["schema": ["type": "string"]]]],
            ],
        ]]
        paths["/openapi.json"] = ["get": [
            "operationId": "openAPIDocument", "summary": "This document.", "security": [[String: Any]](),
            "responses": ["200": ["description": "The OpenAPI 3.1 document.", "content": ["application/json": ["schema": ["type": "object"]]]]],
        ]]
        return [
            "openapi": "3.1.0",
            "info": [
                "title": "VideoStack API", "version": "1.0.0",
                "description": "Accounts, tus uploads, videos, search, reviews, share links and views of a VideoStack platform. Errors are {\"error\": {\"code\", \"message\", \"requestId\"}}; every response carries X-Request-Id.",
            ],
            "servers": [["url": "/"]],
            "paths": paths,
            "components": ["securitySchemes": ["bearerAuth": ["type": "http", "scheme": "bearer", "bearerFormat": "JWT"]], "schemas": schemas()],
        ]
    }

    func schemas() -> [String: Any] {
        let string: [String: Any] = ["type": "string"]
        let time: [String: Any] = ["type": "string", "format": "date-time"]
        let nullableString: [String: Any] = ["type": ["string", "null"]]
        func object(_ properties: [String: Any], required: [String]? = nil) -> [String: Any] {
            ["type": "object", "properties": properties, "required": required ?? Array(properties.keys).sorted()]
        }
        return [
            "Error": object(["error": object(["code": string, "message": string, "requestId": string])]),
            "User": object(["username": string, "name": string, "role": ["type": "string", "enum": ["member", "admin"]], "createdAt": time, "email": string],
                           required: ["username", "name", "role", "createdAt"]),
            "Session": object(["accessToken": string, "refreshToken": string, "expiresIn": ["type": "integer", "minimum": 0], "user": Self.ref("User")]),
            "Video": object([
                "id": string, "title": string, "description": string, "tags": ["type": "array", "items": string], "owner": string,
                "status": ["type": "string", "enum": ["uploading", "processing", "ready", "failed", "live", "ended"]],
                "failureReason": nullableString, "progress": ["type": "number", "minimum": 0, "maximum": 1], "step": nullableString,
                "duration": ["type": ["number", "null"], "minimum": 0], "views": ["type": "integer", "minimum": 0],
                "rating": object(["average": ["type": ["number", "null"]], "count": ["type": "integer", "minimum": 0]]),
                "visibility": ["type": "string", "enum": ["public", "unlisted", "private"]], "createdAt": time, "updatedAt": time,
                "playbackUrl": nullableString, "posterUrl": nullableString, "storyboardUrl": nullableString,
                "viewers": ["type": "integer", "minimum": 0, "description": "Watching now; present only while the video is live."],
            ], required: ["id", "title", "description", "tags", "owner", "status", "failureReason", "progress", "step", "duration", "views",
                          "rating", "visibility", "createdAt", "updatedAt", "playbackUrl", "posterUrl", "storyboardUrl"]),
            "Review": object(["videoId": string, "author": string, "rating": ["type": "integer", "minimum": 1, "maximum": 5], "comment": string, "createdAt": time]),
            "VideoPage": object(["items": ["type": "array", "items": Self.ref("Video")], "nextCursor": nullableString]),
            "ReviewPage": object(["items": ["type": "array", "items": Self.ref("Review")], "nextCursor": nullableString]),
            "SearchPage": object([
                "items": ["type": "array", "items": object([
                    "video": Self.ref("Video"),
                    "highlights": object(["title": ["type": "array", "description": "Matched spans of the title as [start, end) UTF-16 offsets.",
                                                    "items": ["type": "array", "items": ["type": "integer", "minimum": 0], "minItems": 2, "maxItems": 2]]], required: []),
                ])],
                "nextCursor": nullableString, "total": ["type": ["integer", "null"]],
            ], required: ["items", "nextCursor"]),
            "ShareLink": object(["code": string, "url": string]),
            "ViewCount": object(["counted": ["type": "boolean"], "views": ["type": "integer", "minimum": 0]]),
            "Health": object(["status": ["type": "string", "enum": ["ok"]]]),
            "LiveStream": object(["videoId": string, "streamKey": string, "ingestUrl": string]),
            "LiveKey": object(["streamKey": string, "ingestUrl": string]),
            "CreateLiveRequest": object([
                "title": ["type": "string", "description": "1 to 100 characters, no line breaks."],
                "description": ["type": "string", "description": "At most 5,000 bytes of UTF-8."],
                "tags": ["type": "array", "items": string, "maxItems": 50], "visibility": ["type": "string", "enum": ["public", "unlisted", "private"]],
            ], required: ["title"]),
            "SignUpRequest": object([
                "username": ["type": "string", "minLength": 3, "maxLength": 32, "pattern": "^[A-Za-z0-9_.-]+$"],
                "email": ["type": "string", "maxLength": 254], "password": ["type": "string", "maxLength": 256],
                "name": ["type": ["string", "null"], "description": "At most 64 characters; empty or null means the username."],
            ], required: ["username", "email", "password"]),
            "SignInRequest": object(["email": ["type": "string", "maxLength": 254], "password": ["type": "string", "maxLength": 1024]]),
            "RefreshRequest": object(["refreshToken": ["type": "string", "maxLength": 4096]]),
            "SignOutRequest": object(["refreshToken": ["type": ["string", "null"], "maxLength": 4096]], required: []),
            "UpdateVideoRequest": object([
                "title": ["type": ["string", "null"], "description": "1 to 100 characters, no line breaks; null leaves it."],
                "description": ["type": ["string", "null"], "description": "At most 5,000 bytes of UTF-8; null leaves it."],
                "tags": ["type": ["array", "null"], "items": string, "maxItems": 50],
                "visibility": ["type": ["string", "null"], "enum": ["public", "unlisted", "private", NSNull()]],
            ], required: []),
            "ReviewRequest": object(["rating": ["type": "integer", "minimum": 1, "maximum": 5], "comment": ["type": ["string", "null"], "description": "At most 5,000 characters; null is empty."]],
                                    required: ["rating"]),
        ]
    }
}
