public import Foundation
public import Logging
internal import ServiceLifecycle
internal import TranscodePipeline
public import VideoCore
public import VideoPlatform
internal import Synchronization

/// A whole ``VideoPlatform/Platform`` on the embedded defaults (SQLite, local files, in-process
/// workers) in a fresh temporary directory, running as a service until ``stop()``: what a host
/// application's integration tests start in one call.
///
/// ```swift
/// try await TestPlatform.withPlatform(logger: logger) { test in
///     try await test.platform.accounts.signUp(username: "ada", email: "ada@example.com",
///                                             password: "analytical-engine-1843", displayName: "Ada")
/// }
/// ```
///
/// The default configuration (``testConfiguration(dataDirectory:)``) encodes a two-rung ladder
/// (360p and 240p) with x264's fastest preset, so a few-second clip is ready in a few seconds on
/// a small machine; change anything through the `configure` closure.
public final class TestPlatform: Sendable {
    /// The running platform.
    public let platform: Platform
    /// The temporary data directory (removed by ``stop()`` unless it was given by the caller).
    public let dataDirectory: URL
    private let group: ServiceGroup
    private let running: Task<Void, any Error>
    private let removeDirectory: Bool
    private let stopped = Mutex(false)

    private init(platform: Platform, dataDirectory: URL, removeDirectory: Bool, logger: Logger) {
        self.platform = platform
        self.dataDirectory = dataDirectory
        self.removeDirectory = removeDirectory
        let group = ServiceGroup(configuration: ServiceGroupConfiguration(services: [platform], logger: logger))
        self.group = group
        running = Task { try await group.run() }
    }

    /// A configuration for tests: everything under `dataDirectory`, a 360p and 240p ladder with
    /// x264's ultrafast preset and 2-second segments, view totals rolled up every 200 ms.
    public static func testConfiguration(dataDirectory: URL) -> PlatformConfiguration {
        var configuration = PlatformConfiguration(dataDirectory: dataDirectory)
        configuration.ladder = Ladder(Array(Ladder.standard.renditions.suffix(2)))
        configuration.transcode.preset = .ultrafast
        configuration.segmentDuration = .seconds(2)
        configuration.viewRollUpInterval = .milliseconds(200)
        return configuration
    }

    /// Opens a platform in a new temporary directory (or in `dataDirectory`, kept at the end, to
    /// test restarts) and starts its background work.
    ///
    /// - Parameters:
    ///   - dataDirectory: where to keep the data; nil makes a temporary directory that ``stop()`` removes.
    ///   - configure: changes to ``testConfiguration(dataDirectory:)``.
    ///   - logger: the platform's logger.
    /// - Throws: whatever ``VideoPlatform/Platform/init(configuration:logger:)`` throws.
    public static func start(dataDirectory: URL? = nil, configure: (inout PlatformConfiguration) throws -> Void = { _ in },
                             logger: Logger) async throws -> TestPlatform {
        let directory = dataDirectory ?? FileManager.default.temporaryDirectory
            .appendingPathComponent("videostack-testing-\(UUID().uuidString)", isDirectory: true)
        do {
            var configuration = testConfiguration(dataDirectory: directory)
            try configure(&configuration)
            let platform = try await Platform(configuration: configuration, logger: logger)
            return TestPlatform(platform: platform, dataDirectory: directory, removeDirectory: dataDirectory == nil, logger: logger)
        } catch {
            if dataDirectory == nil { try? FileManager.default.removeItem(at: directory) }
            throw error
        }
    }

    /// Starts a platform, runs `body` with it and stops it, also when `body` throws.
    public static func withPlatform<T: Sendable>(dataDirectory: URL? = nil, configure: (inout PlatformConfiguration) throws -> Void = { _ in },
                                                 logger: Logger, _ body: (TestPlatform) async throws -> T) async throws -> T {
        let test = try await start(dataDirectory: dataDirectory, configure: configure, logger: logger)
        let result: T
        do {
            result = try await body(test)
        } catch {
            try? await test.stop()
            throw error
        }
        try await test.stop()
        return result
    }

    /// Shuts the platform down gracefully (running jobs are released, the search snapshot is
    /// written), closes its store and removes the temporary directory. Calling it again does nothing.
    ///
    /// - Throws: the error the platform's service failed with, if it failed while running.
    public func stop() async throws {
        let first = stopped.withLock { stopped in
            defer { stopped = true }
            return !stopped
        }
        guard first else { return }
        await group.triggerGracefulShutdown()
        let outcome = await running.result
        platform.close()
        if removeDirectory { try? FileManager.default.removeItem(at: dataDirectory) }
        try outcome.get()
    }

    // MARK: Shortcuts for tests that skip HTTP

    /// Signs a user up and in; the password is `password` (long enough for the default policy).
    ///
    /// - Returns: the signed-in user, for the platform's methods that take one.
    @discardableResult
    public func signUp(username: String, email: String? = nil, password: String = "correct-horse-battery-staple",
                       displayName: String? = nil) async throws -> AuthenticatedUser {
        let email = email ?? "\(username)@example.com"
        try await platform.accounts.signUp(username: username, email: email, password: password, displayName: displayName ?? username)
        return try await platform.accounts.signIn(email: email, password: password).user
    }

    /// Uploads `bytes` as a video of `owner` through the platform's tus service in one piece and
    /// returns its id; the publish saga picks it up (see ``waitForVideo(_:toReach:timeout:)``).
    public func upload(_ bytes: Data, owner: String, title: String, description: String = "", tags: [String] = [],
                       visibility: Visibility = .public, filename: String = "clip.mp4") async throws -> VideoID {
        let (upload, video) = try await platform.startUpload(owner: owner, length: Int64(bytes.count), metadata: [
            "filename": filename, "title": title, "description": description,
            "tags": tags.joined(separator: ","), "visibility": visibility.rawValue,
        ])
        try await platform.uploads.append(upload.id, at: 0, bytes: [UInt8](bytes))
        return video
    }

    /// Waits until the video's status is `status`, checking every 100 ms.
    ///
    /// - Throws: ``WaitError`` when the video fails (and `status` is not `.failed`), disappears,
    ///   or has not reached `status` after `timeout`.
    @discardableResult
    public func waitForVideo(_ id: VideoID, toReach status: VideoStatus = .ready, timeout: Duration = .seconds(120)) async throws -> Video {
        let deadline = ContinuousClock.now + timeout
        var last: Video?
        while true {
            last = try await platform.catalog.video(id)
            guard let video = last else { throw WaitError(what: "video \(id) to be \(status)", last: "it does not exist") }
            if video.status == status { return video }
            if video.status == .failed {
                throw WaitError(what: "video \(id) to be \(status)", last: "it failed: \(video.failureReason ?? "no reason given")")
            }
            if ContinuousClock.now >= deadline {
                throw WaitError(what: "video \(id) to be \(status)", last: "still \(video.status) after \(timeout)")
            }
            try await Task.sleep(for: .milliseconds(100))
        }
    }
}

/// A wait of VideoStackTesting that ended without what it waited for.
public struct WaitError: Error, Sendable, CustomStringConvertible {
    /// What was awaited ("video 01J… to be ready").
    public var what: String
    /// How it ended ("still processing after 120 seconds", "it failed: …").
    public var last: String

    public init(what: String, last: String) {
        self.what = what
        self.last = last
    }

    public var description: String { "Waited for \(what), but \(last)." }
}
