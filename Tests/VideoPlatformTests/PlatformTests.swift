import Foundation
import Logging
import SearchIndex
import ServiceLifecycle
import SingleTableStore
import Testing
import TestSupport
import VideoCore
import VideoPlatform

@Suite struct PlatformTests {
    let logger = Logger(label: "test.platform", factory: { _ in SwiftLogNoOpLogHandler() })

    func configuration(_ directory: URL) -> PlatformConfiguration {
        var configuration = PlatformConfiguration(dataDirectory: directory.appendingPathComponent("data"))
        configuration.viewRollUpInterval = .milliseconds(20)
        configuration.workers.pollWait = .milliseconds(50)
        return configuration
    }

    func running<T: Sendable>(_ platform: Platform, _ body: @Sendable () async throws -> T) async throws -> T {
        try await platform.whileRunning(logger: logger, body)
    }

    @Test func theSearchReplicaFollowsTheCatalogAndRestartsFromItsSnapshot() async throws {
        try await withTemporaryDirectory(prefix: "platform") { directory in
            let configuration = configuration(directory)
            let platform = try await Platform(configuration: configuration, logger: logger)
            defer { platform.close() }
            let id = try await running(platform) {
                try await platform.catalog.register(User(username: "ada", email: "ada@example.com"))
                var video = Video(owner: "ada", title: "Analytical engines explained", visibility: .public)
                video.status = .ready
                try await platform.catalog.create(video)
                while try platform.searchIndex.search(SearchQuery("analytical")).hits.isEmpty {
                    try await Task.sleep(for: .milliseconds(10))
                }
                return video.id
            }
            #expect(FileManager.default.fileExists(atPath: configuration.dataDirectory.appendingPathComponent("search.snapshot").path))

            // A second start on the same directory answers from the snapshot before run().
            let restarted = try await Platform(configuration: configuration, logger: logger)
            defer { restarted.close() }
            #expect(try restarted.searchIndex.search(SearchQuery("analytical")).hits.map(\.id) == [id.description])
            #expect(restarted.searchIndex.feedPosition != nil)
            let title = try await running(restarted) { try await restarted.catalog.video(id)?.title }
            #expect(title == "Analytical engines explained")
        }
    }

    @Test func viewsRollUpIntoTheVideoWhileRunning() async throws {
        try await withTemporaryDirectory(prefix: "platform-views") { directory in
            let platform = try await Platform(configuration: configuration(directory), logger: logger)
            defer { platform.close() }
            try await running(platform) {
                try await platform.catalog.register(User(username: "ada", email: "ada@example.com"))
                let video = Video(owner: "ada", title: "Popular")
                try await platform.catalog.create(video)
                for viewer in 0..<10 { try await platform.views.record(video.id, viewer: "viewer\(viewer)") }
                while try await platform.catalog.video(video.id)?.views != 10 { try await Task.sleep(for: .milliseconds(10)) }
            }
        }
    }

    @Test func aDamagedSnapshotMeansARebuildNotAFailedStart() async throws {
        try await withTemporaryDirectory(prefix: "platform-snapshot") { directory in
            let configuration = configuration(directory)
            try FileManager.default.createDirectory(at: configuration.dataDirectory, withIntermediateDirectories: true)
            try Data("not a snapshot".utf8).write(to: configuration.dataDirectory.appendingPathComponent("search.snapshot"))
            let platform = try await Platform(configuration: configuration, logger: logger)
            defer { platform.close() }
            #expect(platform.searchIndex.count == 0)
            try await running(platform) {
                try await platform.catalog.register(User(username: "ada", email: "ada@example.com"))
                var video = Video(owner: "ada", title: "Rebuilt index")
                video.status = .ready
                try await platform.catalog.create(video)
                while try platform.searchIndex.search(SearchQuery("rebuilt")).hits.isEmpty { try await Task.sleep(for: .milliseconds(10)) }
            }
        }
    }

    @Test func anUnwritableDataDirectoryIsAClearError() async throws {
        let configuration = PlatformConfiguration(dataDirectory: URL(fileURLWithPath: "/proc/videostack-cannot-exist/data"))
        await #expect(throws: VideoStackError.self) { _ = try await Platform(configuration: configuration, logger: logger) }
    }
}
