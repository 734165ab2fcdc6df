internal import Foundation
internal import NIOHTTP1

extension VideoStackClient {
    // MARK: Accounts

    /// `POST /auth/signup`: creates an account (it does not sign in).
    ///
    /// - Throws: ``APIClientError`` `.conflict` for a taken username or email, `.invalidRequest` for bad fields.
    public func signUp(username: String, email: String, password: String, name: String) async throws -> User {
        struct Body: Encodable { var username, email, password, name: String }
        return try await call(.POST, "/auth/signup", json: Body(username: username, email: email, password: password, name: name), expect: [201])
    }

    /// `POST /auth/signin`: signs in and keeps the tokens for the calls that follow.
    ///
    /// - Throws: ``APIClientError`` `.unauthorized` for a wrong email or password, `.rateLimited` on lockout.
    @discardableResult
    public func signIn(email: String, password: String) async throws -> Session {
        struct Body: Encodable { var email, password: String }
        let session: Session = try await call(.POST, "/auth/signin", json: Body(email: email, password: password), expect: [200])
        keep(session)
        return session
    }

    /// Signs up and then signs in, the way the web page does.
    @discardableResult
    public func signUpAndIn(username: String, email: String? = nil, password: String = "correct-horse-battery-staple", name: String? = nil) async throws -> Session {
        let email = email ?? "\(username)@example.com"
        _ = try await signUp(username: username, email: email, password: password, name: name ?? username)
        return try await signIn(email: email, password: password)
    }

    /// `POST /auth/refresh`: swaps the refresh token for new tokens.
    @discardableResult
    public func refresh() async throws -> Session {
        struct Body: Encodable { var refreshToken: String }
        let session: Session = try await call(.POST, "/auth/refresh", json: Body(refreshToken: refreshToken ?? ""), expect: [200])
        keep(session)
        return session
    }

    /// `POST /auth/signout`: ends this session and forgets the tokens.
    public func signOut() async throws {
        struct Body: Encodable { var refreshToken: String? }
        try await callRaw(.POST, "/auth/signout", json: Body(refreshToken: refreshToken), expect: [204])
        accessToken = nil
        refreshToken = nil
    }

    /// `POST /auth/signout-all`: ends every session of the user.
    public func signOutEverywhere() async throws {
        try await callRaw(.POST, "/auth/signout-all", expect: [204])
        accessToken = nil
        refreshToken = nil
    }

    /// `GET /me`.
    public func me() async throws -> User {
        try await call(.GET, "/me", expect: [200])
    }

    private func keep(_ session: Session) {
        accessToken = session.accessToken
        refreshToken = session.refreshToken
    }

    // MARK: Videos

    /// `GET /videos/{id}`.
    ///
    /// - Throws: ``APIClientError`` `.notFound` for missing videos and those the viewer may not see.
    public func video(_ id: String) async throws -> Video {
        try await call(.GET, "/videos/\(Self.escape(id))", expect: [200])
    }

    /// `PATCH /videos/{id}` (owner or admin).
    public func updateVideo(_ id: String, _ changes: VideoChanges) async throws -> Video {
        try await call(.PATCH, "/videos/\(Self.escape(id))", json: changes, expect: [200])
    }

    /// `DELETE /videos/{id}` (owner or admin).
    public func deleteVideo(_ id: String) async throws {
        try await callRaw(.DELETE, "/videos/\(Self.escape(id))", expect: [204])
    }

    // MARK: Live

    /// `POST /live`: creates a live stream (a video in status `live` once it is published).
    ///
    /// - Throws: ``APIClientError`` `.unauthorized` when not signed in, `.notFound` when the
    ///   server has no RTMP ingest.
    public func createLiveStream(title: String, description: String? = nil, tags: [String]? = nil, visibility: String? = nil) async throws -> LiveStream {
        struct Body: Encodable { var title: String; var description: String?; var tags: [String]?; var visibility: String? }
        return try await call(.POST, "/live", json: Body(title: title, description: description, tags: tags, visibility: visibility), expect: [201])
    }

    /// `POST /live/{videoId}/key`: a new stream key; the old one is refused from now on.
    public func rotateStreamKey(of videoID: String) async throws -> LiveKey {
        try await call(.POST, "/live/\(Self.escape(videoID))/key", expect: [200])
    }

    /// `DELETE /live/{videoId}`: ends the live stream (the publisher is disconnected) and removes it.
    public func deleteLiveStream(_ videoID: String) async throws {
        try await callRaw(.DELETE, "/live/\(Self.escape(videoID))", expect: [204])
    }

    /// `GET /users/{username}/videos`, newest first.
    public func videos(of username: String, limit: Int? = nil, cursor: String? = nil) async throws -> Page<Video> {
        try await call(.GET, "/users/\(Self.escape(username))/videos" + Self.query(["limit": limit.map(String.init), "cursor": cursor]), expect: [200])
    }

    /// `GET /search`.
    public func search(_ text: String, sort: SearchSort? = nil, limit: Int? = nil, cursor: String? = nil,
                       filters: SearchFilters = SearchFilters()) async throws -> SearchPage {
        let iso = Date.ISO8601FormatStyle()
        let query = Self.query([
            "q": text, "sort": sort?.rawValue, "limit": limit.map(String.init), "cursor": cursor,
            "uploader": filters.uploader, "minDuration": filters.minDuration.map { String($0) },
            "maxDuration": filters.maxDuration.map { String($0) },
            "after": filters.after.map { iso.format($0) }, "before": filters.before.map { iso.format($0) },
        ])
        return try await call(.GET, "/search" + query, expect: [200])
    }

    // MARK: Reviews, shares, views

    /// `POST /videos/{id}/reviews`; `replaced` is true when it replaced the user's earlier review (200).
    public func postReview(of id: String, rating: Int, comment: String) async throws -> (review: Review, replaced: Bool) {
        struct Body: Encodable { var rating: Int; var comment: String }
        let response = try await callRaw(.POST, "/videos/\(Self.escape(id))/reviews", json: Body(rating: rating, comment: comment), expect: [200, 201])
        return (try Self.decoder.decode(Review.self, from: response.body), response.status == 200)
    }

    /// `GET /videos/{id}/reviews`, newest first.
    public func reviews(of id: String, limit: Int? = nil, cursor: String? = nil) async throws -> Page<Review> {
        try await call(.GET, "/videos/\(Self.escape(id))/reviews" + Self.query(["limit": limit.map(String.init), "cursor": cursor]), expect: [200])
    }

    /// `POST /videos/{id}/share`.
    public func share(_ id: String) async throws -> ShareLink {
        try await call(.POST, "/videos/\(Self.escape(id))/share", expect: [201])
    }

    /// `GET /s/{code}`: the redirect's `Location` (the watch page of the video).
    ///
    /// - Throws: ``APIClientError`` `.notFound` when the answer is not a redirect.
    public func resolveShare(_ code: String) async throws -> String {
        let response = try await send(.GET, "/s/\(Self.escape(code))", headers: [("Accept", "text/html")])
        guard (300..<400).contains(response.status), let location = response.header("Location") else {
            throw APIClientError(status: response.status, code: .notFound, message: "The share link did not redirect.", request: "GET /s/\(code)")
        }
        return location
    }

    /// `POST /videos/{id}/views`.
    public func recordView(of id: String) async throws -> ViewCount {
        try await call(.POST, "/videos/\(Self.escape(id))/views", expect: [200])
    }

    // MARK: Waiting

    /// Polls `GET /videos/{id}` every 200 ms until the status is `status`.
    ///
    /// - Throws: ``WaitError`` when the video fails (unless `status` is `"failed"`) or `timeout` passes;
    ///   ``APIClientError`` when the video cannot be read.
    @discardableResult
    public func waitForVideo(_ id: String, toReach status: String = "ready", timeout: Duration = .seconds(120)) async throws -> Video {
        try await wait(for: "video \(id) to be \(status)", timeout: timeout, id: id) { $0.status == status }
    }

    /// Polls `GET /videos/{id}` until the video has a playback URL (an EVENT playlist while it
    /// still processes, or the finished VOD one).
    @discardableResult
    public func waitUntilPlayable(_ id: String, timeout: Duration = .seconds(120)) async throws -> Video {
        try await wait(for: "video \(id) to be playable", timeout: timeout, id: id) { $0.isPlayable }
    }

    /// Polls `GET /search` until `text` finds the video `id` (the search replica follows the store).
    @discardableResult
    public func waitUntilSearchable(_ text: String, finds id: String, timeout: Duration = .seconds(60)) async throws -> SearchPage {
        let deadline = ContinuousClock.now + timeout
        while true {
            let page = try await search(text)
            if page.items.contains(where: { $0.video.id == id }) { return page }
            if ContinuousClock.now >= deadline {
                throw WaitError(what: "a search for '\(text)' to find video \(id)", last: "it found \(page.items.map(\.video.id)) after \(timeout)")
            }
            try await Task.sleep(for: .milliseconds(200))
        }
    }

    private func wait(for what: String, timeout: Duration, id: String, until done: (Video) -> Bool) async throws -> Video {
        let deadline = ContinuousClock.now + timeout
        while true {
            let video = try await video(id)
            if done(video) { return video }
            if video.status == "failed" {
                throw WaitError(what: what, last: "it failed: \(video.failureReason ?? "no reason given")")
            }
            if ContinuousClock.now >= deadline {
                throw WaitError(what: what, last: "still \(video.status) (\(Int(video.progress * 100))%) after \(timeout)")
            }
            try await Task.sleep(for: .milliseconds(200))
        }
    }

    /// `?name=value&…` of the non-nil values, sorted by name; empty when all are nil.
    static func query(_ items: [String: String?]) -> String {
        let pairs = items.compactMap { name, value in value.map { "\(name)=\(escape($0))" } }.sorted()
        return pairs.isEmpty ? "" : "?" + pairs.joined(separator: "&")
    }
}
