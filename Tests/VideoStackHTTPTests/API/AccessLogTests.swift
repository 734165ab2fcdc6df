import Foundation
import HTTPTypes
import Logging
import Synchronization
import Testing
import TestSupport
import VideoCore
import VideoPlatform
@testable import VideoStackHTTP

/// The access log: one structured line per request, through the logger the host passes in.
@Suite struct AccessLogTests {
    /// Keeps every record it is given.
    final class Recorder: Sendable {
        struct Record: Sendable {
            var level: Logger.Level
            var message: String
            var metadata: [String: String]
        }

        let records = Mutex<[Record]>([])
    }

    struct RecordingHandler: LogHandler {
        let recorder: Recorder
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .info

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            let merged = metadata.merging(event.metadata ?? [:]) { $1 }
            recorder.records.withLock {
                $0.append(.init(level: event.level, message: "\(event.message)", metadata: merged.mapValues { "\($0)" }))
            }
        }
    }

    @Test func everyRequestLogsRouteStatusUserAndRequestID() async throws {
        let recorder = Recorder()
        let directory = try TemporaryDirectory(prefix: "videostack-api-log")
        defer { directory.cleanup() }
        var configuration = PlatformConfiguration(dataDirectory: directory.url.appendingPathComponent("data"))
        configuration.roles = .api
        configuration.accounts.passwordHashing = PasswordHashingConfiguration(memoryKiB: 1024, iterations: 1, threads: 2)
        var quiet = Logger(label: "quiet")
        quiet.logLevel = .critical
        let platform = try await Platform(configuration: configuration, logger: quiet)
        let logger = Logger(label: "api") { _ in RecordingHandler(recorder: recorder) }
        let fixture = APIFixture(directory: try TemporaryDirectory(prefix: "videostack-api-log-unused"), platform: platform,
                                 api: VideoStackAPI(platform: platform, logger: logger),
                                 delivery: MediaDelivery(blobs: platform.blobs))
        let token = try await fixture.withServer { api in
            let token = try await api.signUp("logged")
            _ = try await api.call(.get, "/api/v1/me", token: token, headers: ["X-Request-Id": "trace-me-1"])
            _ = try await api.call(.get, "/api/v1/videos/nope")
            return token
        }
        let lines = recorder.records.withLock { $0 }.filter { $0.message == "request" }
        let me = try #require(lines.first { $0.metadata["request.id"] == "trace-me-1" })
        #expect(me.level == .info)
        #expect(me.metadata["http.method"] == "GET")
        #expect(me.metadata["http.route"] == "/api/v1/me")
        #expect(me.metadata["http.status"] == "200")
        #expect(me.metadata["user"] == "logged")
        #expect(me.metadata["client"] == "127.0.0.1")
        #expect(me.metadata["duration_ms"].flatMap(Int.init) != nil)
        let bad = try #require(lines.first { $0.metadata["http.path"] == "/api/v1/videos/nope" })
        #expect(bad.metadata["http.status"] == "400")
        #expect(bad.metadata["http.route"] == "/api/v1/videos/{id}")
        // Passwords and tokens never reach the log.
        let everything = recorder.records.withLock { $0 }.map { "\($0.message) \($0.metadata)" }.joined()
        #expect(!everything.contains(APIFixture.password))
        #expect(!everything.contains(token))
    }
}
