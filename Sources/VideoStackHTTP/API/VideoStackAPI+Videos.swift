internal import Crypto
internal import Foundation
internal import HTTPTypes
internal import Hummingbird
internal import SearchIndex
internal import SingleTableStore
internal import VideoCore
internal import VideoPlatform

// Videos, collections, search, reviews, share links and views.
extension VideoStackAPI {
    /// The contract's JSON of a video the viewer may see, media URLs signed where needed.
    func resource(_ video: Video, viewer: AuthenticatedUser?) -> VideoResource {
        let grant = video.media == nil ? nil : try? platform.playback.grant(for: video, viewer: viewer)
        return VideoResource(video, grant: grant)
    }

    /// The video if the caller may see it, else 404 (as for one that does not exist).
    func visibleVideo(_ call: APICall) async throws -> Video {
        let id = try call.videoID()
        guard let video = try await platform.video(id, viewer: call.user) else { throw APIError.notFound("There is no video \(id).") }
        return video
    }

    func getVideo(_ call: APICall) async throws -> Response {
        try json(resource(try await visibleVideo(call), viewer: call.user))
    }

    func updateVideo(_ call: APICall) async throws -> Response {
        let user = try call.requireUser()
        let id = try call.videoID()
        let body = try await call.decodeJSON(UpdateVideoRequest.self)
        let changes = VideoMetadataChanges(title: body.title, description: body.description, tags: body.tags, visibility: body.visibility)
        guard !changes.isEmpty else {
            throw APIError.invalidRequest("Send at least one of title, description, tags or visibility.")
        }
        let video = try await platform.updateVideo(id, changes, by: user)
        return try json(resource(video, viewer: user))
    }

    func deleteVideo(_ call: APICall) async throws -> Response {
        let user = try call.requireUser()
        let id = try call.videoID()
        try await platform.deleteVideo(id, by: user)
        configuration.videoDeleted?(id)
        return empty()
    }

    func userVideos(_ call: APICall) async throws -> Response {
        let query = try call.query()
        let limit = try query.integer("limit", in: 1...100, default: 20)
        let cursor = try query.cursor()
        let raw = try call.parameter("username")
        let username: String
        do {
            username = try User.normalizedUsername(raw)
        } catch {
            throw APIError.invalidRequest("'\(raw.prefix(40))' is not a username (3 to 32 of a-z, 0-9, '_', '-', '.').")
        }
        guard try await platform.catalog.user(named: username) != nil else { throw APIError.notFound("There is no user '\(username)'.") }
        let seesAll = call.user?.mayManage(ownedBy: username) == true
        let page = try await platform.catalog.videos(of: username, limit: limit, after: cursor.map(PageToken.init))
        var items: [VideoResource] = []
        for summary in page.videos {
            guard let video = try await platform.catalog.video(summary.id) else { continue }
            guard seesAll || (video.visibility == .public && video.status.isPlayable) else { continue }
            items.append(resource(video, viewer: call.user))
        }
        return try json(PageResource(items: items, nextCursor: page.next?.text))
    }

    func search(_ call: APICall) async throws -> Response {
        let query = try call.query()
        let text = query["q"] ?? ""
        guard text.utf8.count <= SearchQuery.maxTextBytes else {
            throw APIError.invalidRequest("The search text may have at most \(SearchQuery.maxTextBytes) bytes.")
        }
        var sort = SearchSort.relevance
        if let name = query["sort"] {
            guard let parsed = SearchSort(rawValue: name) else {
                throw APIError.invalidRequest("'sort' is one of \(SearchSort.allCases.map(\.rawValue).joined(separator: ", ")); got '\(name.prefix(40))'.")
            }
            sort = parsed
        }
        var filter = SearchFilter()
        if let uploader = query["uploader"], !uploader.isEmpty {
            guard let name = try? User.normalizedUsername(uploader) else {
                throw APIError.invalidRequest("'uploader' is not a username; got '\(uploader.prefix(40))'.")
            }
            filter.uploader = name
        }
        let minimum = try query.seconds("minDuration"), maximum = try query.seconds("maxDuration")
        if minimum != nil || maximum != nil {
            let low = minimum ?? 0, high = maximum ?? 1e9
            guard low <= high else { throw APIError.invalidRequest("'minDuration' is more than 'maxDuration'.") }
            filter.duration = Duration.seconds(low)...Duration.seconds(high)
        }
        let after = try query.date("after"), before = try query.date("before")
        if after != nil || before != nil {
            let low = after ?? .distantPast, high = before ?? .distantFuture
            guard low <= high else { throw APIError.invalidRequest("'after' is later than 'before'.") }
            filter.uploadedAt = low...high
        }
        let limit = try query.integer("limit", in: 1...100, default: 20)
        let results = try platform.searchVideos(SearchQuery(text, filter: filter, sort: sort, limit: limit, cursor: try query.cursor()),
                                                viewer: call.user)
        var items: [SearchItemResource] = []
        for hit in results.hits {
            // The replica may lag the catalog by a moment: show the video as it is now, if still
            // visible, with the query's matches marked in its current title.
            guard let id = VideoID(hit.id), let video = try await platform.video(id, viewer: call.user) else { continue }
            let ranges = SearchItemResource.utf16Ranges(video.title == hit.title.text ? hit.title : results.highlight(video.title))
            items.append(SearchItemResource(video: resource(video, viewer: call.user), highlights: .init(title: ranges.isEmpty ? nil : ranges)))
        }
        return try json(PageResource(items: items, nextCursor: results.nextCursor))
    }

    func postReview(_ call: APICall) async throws -> Response {
        let user = try call.requireUser()
        let id = try call.videoID()
        let body = try await call.decodeJSON(ReviewRequest.self)
        let (review, replaced) = try await platform.submitReview(of: id, rating: body.rating, comment: body.comment ?? "", by: user)
        return try json(ReviewResource(review), status: replaced ? .ok : .created)
    }

    func reviews(_ call: APICall) async throws -> Response {
        let query = try call.query()
        let limit = try query.integer("limit", in: 1...100, default: 20)
        let cursor = try query.cursor()
        let video = try await visibleVideo(call)
        let page = try await platform.catalog.reviews(of: video.id, limit: limit, after: cursor.map(PageToken.init))
        return try json(PageResource(items: page.reviews.map(ReviewResource.init), nextCursor: page.next?.text))
    }

    func share(_ call: APICall) async throws -> Response {
        let user = try call.requireUser()
        let link = try await platform.shareLinks.create(for: try call.videoID(), by: user)
        let url = "\(baseURL(of: call.request))/s/\(link.code)"
        var fields = HTTPFields()
        fields[.location] = url
        return try json(ShareResource(code: link.code, url: url), status: .created, headers: fields)
    }

    func recordView(_ call: APICall) async throws -> Response {
        let id = try call.videoID()
        let viewer: String
        if let user = call.user {
            viewer = "user:\(user.username)"
        } else if let address = call.address {
            // The address itself is not stored, only a digest of it.
            viewer = "addr:" + SHA256.hash(data: Array(address.utf8)).prefix(12).lowercaseHex
        } else {
            viewer = "anonymous"
        }
        let counted = try await platform.recordView(of: id, viewer: viewer, as: call.user)
        let views = try await platform.views.count(id)
        let stored = try await platform.catalog.video(id)?.views ?? 0
        return try json(ViewResource(counted: counted, views: max(views, stored)))
    }

    static let hostField = HTTPField.Name("Host")!

    /// `scheme://host` for absolute links: the configured one, else `http://` and the request's
    /// authority when it is a plausible host name.
    func baseURL(of request: Request) -> String {
        if let base = configuration.publicBaseURL { return base.hasSuffix("/") ? String(base.dropLast()) : base }
        let authority = request.head.authority ?? request.headers[Self.hostField] ?? ""
        let plausible = !authority.isEmpty && authority.utf8.count <= 255
            && authority.utf8.allSatisfy { byte in
                (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte) || "-.:[]".utf8.contains(byte)
            }
        return "http://" + (plausible ? authority : "localhost")
    }
}
