import Foundation
import Logging
import SearchIndex
import ServiceLifecycle
import SingleTableStore
import Testing
import TestSupport
import VideoCore
import VideoPlatform

/// Media made by the ffmpeg command-line tool for the publish tests.
enum PublishMedia {
    /// A test pattern with a tone, as an MP4 (H.264/AAC) of `seconds` seconds.
    static func clip(seconds: Int = 4, size: String = "320x240", in directory: URL, name: String = "clip.mp4", extra: [String] = []) throws -> URL {
        let url = directory.appendingPathComponent(name)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/ffmpeg")
        process.arguments = ["-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=\(size):rate=25:duration=\(seconds)",
                             "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000:duration=\(seconds)",
                             "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-g", "25", "-c:a", "aac", "-shortest"] + extra + [url.path]
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw VideoStackError(.io, "ffmpeg could not make \(name)") }
        return url
    }
}

@Suite(.serialized) struct PublishTests {
    let logger = Logger(label: "test.publish", factory: { _ in SwiftLogNoOpLogHandler() })

    func configuration(_ directory: URL) -> PlatformConfiguration {
        var configuration = PlatformConfiguration(dataDirectory: directory.appendingPathComponent("data"))
        configuration.ladder = Ladder(Array(Ladder.standard.renditions.suffix(2)))
        configuration.segmentDuration = .seconds(2)
        configuration.workers = JobWorkerConfiguration(concurrency: 1, visibilityTimeout: .seconds(60), heartbeatInterval: .seconds(5), pollWait: .milliseconds(50))
        configuration.retries = RetryPolicy(initialDelay: .milliseconds(10), maxDelay: .milliseconds(50), maxAttempts: 3)
        configuration.accounts.passwordHashing = PasswordHashingConfiguration(memoryKiB: 1024, iterations: 1, threads: 1)
        return configuration
    }

    func running<T: Sendable>(_ platform: Platform, _ body: @Sendable () async throws -> T) async throws -> T {
        try await platform.whileRunning(logger: logger, body)
    }

    /// Uploads `bytes` through the tus service in three chunks; returns the video id.
    static func send(_ bytes: [UInt8], to platform: Platform, owner: String, metadata: [String: String]) async throws -> VideoID {
        let started = try await platform.startUpload(owner: owner, length: Int64(bytes.count), metadata: metadata)
        var offset: Int64 = 0
        let chunk = max(1, bytes.count / 3 + 1)
        while offset < bytes.count {
            let end = min(bytes.count, Int(offset) + chunk)
            let piece = Array(bytes[Int(offset)..<end])
            let body = AsyncStream<[UInt8]> { continuation in
                continuation.yield(piece)
                continuation.finish()
            }
            offset = try await platform.uploads.append(started.upload.id, at: offset, body: body).offset
        }
        return started.video
    }

    /// The text of the first variant's media playlist that `master` (a blob key) lists.
    static func firstRungPlaylist(_ master: String, in blobs: any BlobStore) async throws -> String {
        let text = String(decoding: try await blobs.get(master), as: UTF8.self)
        let uri = try #require(text.split(separator: "\n").first { !$0.hasPrefix("#") && !$0.isEmpty }, "no variant in \(text)")
        let base = master.lastIndex(of: "/").map { String(master[...$0]) } ?? ""
        return String(decoding: try await blobs.get(base + uri), as: UTF8.self)
    }

    /// The EXTINF durations of a media playlist, in seconds.
    static func segmentDurations(_ playlist: String) -> [Double] {
        playlist.split(separator: "\n").compactMap { line in
            guard line.hasPrefix("#EXTINF:") else { return nil }
            return Double(line.dropFirst("#EXTINF:".count).prefix { $0 != "," })
        }
    }

    func waitUntil(_ platform: Platform, _ id: VideoID, isNot statuses: Set<VideoStatus>) async throws -> Video {
        while true {
            let video = try #require(try await platform.catalog.video(id))
            if !statuses.contains(video.status) { return video }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    @Test func anUploadIsPublishedPlayableWhileProcessingAndSearchable() async throws {
        try await withTemporaryDirectory(prefix: "publish") { directory in
            let platform = try await Platform(configuration: configuration(directory), logger: logger)
            defer { platform.close() }
            let clip = try PublishMedia.clip(seconds: 6, size: "640x360", in: directory)
            let bytes = try [UInt8](Data(contentsOf: clip))
            try await platform.accounts.signUp(username: "ada", email: "ada@example.com", password: "Vq8-zr-Lumen-42x", displayName: "Ada")
            let (video, sawPlaylistWhileProcessing) = try await running(platform) { () async throws -> (Video, Bool) in
                let id = try await Self.send(bytes, to: platform, owner: "ada", metadata: ["filename": "clip.mp4", "title": "Lighthouse keepers"])
                var sawPlaylist = false
                while true {
                    let video = try #require(try await platform.catalog.video(id))
                    if !sawPlaylist, video.status == .processing, let media = video.media, try await platform.blobs.metadata(media.playlist) != nil {
                        // Recorded while the encode runs: the first rung's playlist is still an open EVENT playlist.
                        let rung = try await Self.firstRungPlaylist(media.playlist, in: platform.blobs)
                        #expect(rung.contains("#EXT-X-PLAYLIST-TYPE:EVENT") && !rung.contains("#EXT-X-ENDLIST"), "\(rung)")
                        #expect(Self.segmentDurations(rung).first.map { abs($0 - 1) < 0.05 } == true, "the playable playlist opens with a 1 s segment: \(rung)")
                        sawPlaylist = true
                    }
                    if video.status != .uploading && video.status != .processing {
                        // The search replica follows the change feed: wait for it to list the video.
                        while video.status == .ready, try platform.searchIndex.search(SearchQuery("lighthouse")).hits.isEmpty {
                            try await Task.sleep(for: .milliseconds(20))
                        }
                        return (video, sawPlaylist)
                    }
                    try await Task.sleep(for: .milliseconds(20))
                }
            }
            #expect(video.status == .ready, "failed: \(video.failureReason ?? "")")
            #expect(video.renditions.count >= 2)
            #expect(video.duration.map { abs($0 / .seconds(1) - 6) < 0.5 } == true)
            let media = try #require(video.media)
            let master = String(decoding: try await platform.blobs.get(media.playlist), as: UTF8.self)
            #expect(master.hasPrefix("#EXTM3U"))
            #expect(master.contains("#EXT-X-STREAM-INF"))
            // Poster and storyboard from the same decode, beside the playlist.
            let poster = try await platform.blobs.get(try #require(media.poster))
            #expect(poster.starts(with: [0xFF, 0xD8]))
            let storyboard = String(decoding: try await platform.blobs.get(try #require(media.storyboard)), as: UTF8.self)
            #expect(storyboard.hasPrefix("WEBVTT") && storyboard.contains("#xywh="))
            // The growing EVENT playlist was recorded before the video was ready (a 6 s clip in 2 s segments).
            #expect(sawPlaylistWhileProcessing)
            // The default opening boundaries (1 s, 2 s) with 2-second segments: a 1-second segment first,
            // then the regular grid; the target duration stays the segment length.
            let rung = try await Self.firstRungPlaylist(media.playlist, in: platform.blobs)
            #expect(Self.segmentDurations(rung).map { ($0 * 10).rounded() / 10 } == [1, 1, 2, 2], "\(rung)")
            #expect(rung.contains("#EXT-X-TARGETDURATION:2\n") && rung.contains("#EXT-X-ENDLIST"))
            // The upload left the staging directory and lives in the blob store.
            #expect(try await platform.blobs.listAll(prefix: "uploads/\(video.id)/").count == 1)
            // A restart answers from the snapshot written at shutdown.
            let restarted = try await Platform(configuration: configuration(directory), logger: logger)
            defer { restarted.close() }
            #expect(try restarted.searchIndex.search(SearchQuery("lighthouse")).hits.map(\.id) == [video.id.description])
        }
    }

    /// The real-world case that once failed after the transcode: Matroska written to a pipe (no
    /// cues, no duration, cannot seek back), MPEG-4 Part 2 video and AAC audio.
    @Test func matroskaWithoutCuesPublishes() async throws {
        try await withTemporaryDirectory(prefix: "publish-mkv") { directory in
            let platform = try await Platform(configuration: configuration(directory), logger: logger)
            defer { platform.close() }
            try await platform.accounts.signUp(username: "ada", email: "ada@example.com", password: "Vq8-zr-Lumen-42x", displayName: "Ada")
            let mkv = directory.appendingPathComponent("piped.mkv")
            let shell = Process()
            shell.executableURL = URL(fileURLWithPath: "/bin/sh")
            shell.arguments = ["-c", "ffmpeg -v error -f lavfi -i testsrc2=size=480x270:rate=25:duration=4 -f lavfi -i sine=duration=4 "
                + "-c:v mpeg4 -c:a aac -shortest -f matroska - > '\(mkv.path)'"]
            try shell.run()
            shell.waitUntilExit()
            #expect(shell.terminationStatus == 0)
            let bytes = try [UInt8](Data(contentsOf: mkv))
            let video = try await running(platform) { () async throws -> Video in
                let id = try await Self.send(bytes, to: platform, owner: "ada", metadata: ["filename": "piped.mkv"])
                return try await waitUntil(platform, id, isNot: [.uploading, .processing])
            }
            #expect(video.status == .ready, "\(video.failureReason ?? "")")
            #expect(video.media?.poster != nil && video.media?.storyboard != nil)
        }
    }

    @Test func uploadsThatAreNotVideosFailWithAReasonAndLeaveNoMedia() async throws {
        try await withTemporaryDirectory(prefix: "publish-bad") { directory in
            let platform = try await Platform(configuration: configuration(directory), logger: logger)
            defer { platform.close() }
            try await platform.accounts.signUp(username: "ada", email: "ada@example.com", password: "Vq8-zr-Lumen-42x", displayName: "Ada")
            let clip = try PublishMedia.clip(seconds: 4, in: directory)
            var truncated = try [UInt8](Data(contentsOf: try PublishMedia.clip(seconds: 8, in: directory, name: "front.mp4", extra: ["-movflags", "+faststart"])))
            truncated.removeLast(truncated.count / 2)
            let cases: [(name: String, bytes: [UInt8], expect: String)] = [
                ("notes.txt", Array("These are my notes, not a video.\n".utf8), "not a media file"),
                ("noise.mp4", (0..<50_000).map { UInt8(truncatingIfNeeded: $0 &* 2_654_435_761 >> 7) }, "not a media file"),
                ("half.mp4", truncated, "truncated"),
                ("audio.m4a", try [UInt8](Data(contentsOf: try audioOnly(from: clip, in: directory))), "no video"),
            ]
            let outcomes = try await running(platform) { () async throws -> [(String, Video)] in
                var outcomes: [(String, Video)] = []
                for item in cases {
                    let id = try await Self.send(item.bytes, to: platform, owner: "ada", metadata: ["filename": item.name, "title": item.name])
                    outcomes.append((item.expect, try await waitUntil(platform, id, isNot: [.uploading, .processing])))
                }
                return outcomes
            }
            for (expected, video) in outcomes {
                #expect(video.status == .failed, "\(video.title) ended \(video.status)")
                let reason = try #require(video.failureReason)
                #expect(reason.lowercased().contains(expected), "\(video.title): \(reason)")
                #expect(try await platform.blobs.listAll(prefix: "videos/\(video.id)/").isEmpty, "\(video.title) left media behind")
            }
            let dead = try await platform.queue.deadLetters(limit: 10, after: nil).letters
            #expect(dead.count == cases.count)
        }
    }

    func audioOnly(from clip: URL, in directory: URL) throws -> URL {
        let url = directory.appendingPathComponent("audio.m4a")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/ffmpeg")
        process.arguments = ["-v", "error", "-y", "-i", clip.path, "-vn", "-c:a", "copy", url.path]
        try process.run()
        process.waitUntilExit()
        return url
    }

    @Test func deletingAVideoRemovesItsMediaAndCounters() async throws {
        try await withTemporaryDirectory(prefix: "publish-delete") { directory in
            let platform = try await Platform(configuration: configuration(directory), logger: logger)
            defer { platform.close() }
            try await platform.accounts.signUp(username: "ada", email: "ada@example.com", password: "Vq8-zr-Lumen-42x", displayName: "Ada")
            try await platform.accounts.signUp(username: "bob", email: "bob@example.com", password: "Kp4-zr-Harbor-77q", displayName: "Bob")
            let bytes = try [UInt8](Data(contentsOf: try PublishMedia.clip(seconds: 2, in: directory)))
            let ada = try await platform.accounts.authenticate(accessToken: try await platform.accounts.signIn(email: "ada@example.com", password: "Vq8-zr-Lumen-42x").accessToken)
            let bob = try await platform.accounts.authenticate(accessToken: try await platform.accounts.signIn(email: "bob@example.com", password: "Kp4-zr-Harbor-77q").accessToken)
            let video = try await running(platform) { () async throws -> Video in
                let id = try await Self.send(bytes, to: platform, owner: "ada", metadata: ["filename": "short.mp4"])
                return try await waitUntil(platform, id, isNot: [.uploading, .processing])
            }
            #expect(video.status == .ready)
            #expect(video.title == "short")
            try await platform.views.record(video.id, viewer: "bob")
            await #expect(throws: VideoStackError.self) { try await platform.deleteVideo(video.id, by: bob) }
            try await platform.deleteVideo(video.id, by: ada)
            #expect(try await platform.catalog.video(video.id) == nil)
            #expect(try await platform.blobs.listAll(prefix: "videos/\(video.id)/").isEmpty)
            #expect(try await platform.blobs.listAll(prefix: "uploads/\(video.id)/").isEmpty)
            #expect(try await platform.views.count(video.id) == 0)
        }
    }
}
