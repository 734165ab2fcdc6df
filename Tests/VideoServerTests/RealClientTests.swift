import Foundation
import NIOHTTP1
import TestSupport
import Testing
import VideoStackTesting

/// Third-party clients against the real server: Chromium through Playwright, tuspy, ffprobe,
/// GStreamer and curl.
@Suite(.serialized) struct RealClientTests {
    /// A clip big enough for several tus chunks of 256 KiB.
    static func makeClip(in directory: URL, seconds: Double = 10, width: Int = 640, height: Int = 360) async throws -> URL {
        let url = directory.appendingPathComponent("clip.mp4")
        try await TestMedia.write(to: url, seconds: seconds, width: width, height: height, frameRate: 30, logger: testLogger)
        return url
    }

    /// The whole page in headless Chromium: sign up, upload, status, search by prefix, play past
    /// 3 s, review, share link; no console errors. Screenshots stay in the temporary directory
    /// while the test runs (VIDEOSTACK_SCREENSHOTS keeps them elsewhere).
    @Test func theWebPageInChromium() async throws {
        try await withTemporaryDirectory(prefix: "videoserver-browser") { directory in
            let clip = try await Self.makeClip(in: directory, seconds: 8)
            let server = try await ServerProcess.start(dataDirectory: directory.appendingPathComponent("data"), arguments: ["--no-sample"])
            let shots = ProcessInfo.processInfo.environment["VIDEOSTACK_SCREENSHOTS"] ?? directory.appendingPathComponent("shots").path
            let (result, json) = try await Scripts.run("browser_flow.py", [server.baseURL.absoluteString, clip.path, shots])
            #expect(result.status == 0, "browser flow: \(result.output.suffix(4000)) \(result.stderr.suffix(3000))")
            #expect(json["ok"] as? Bool == true)
            #expect((json["currentTime"] as? Double ?? 0) > 3)
            #expect((json["console"] as? [String])?.isEmpty == true, "console: \(json["console"] ?? "")")
            // The status changed while the page watched: processing first, then ready.
            let states = json["states"] as? [String] ?? []
            #expect(states.contains { $0.hasPrefix("Processing") }, "states seen: \(states)")
            #expect((json["badges"] as? [String]) == ["ready"])
            #expect((json["shareUrl"] as? String)?.hasPrefix(server.baseURL.absoluteString + "s/") == true)

            // What the page did is what the API says.
            let client = server.client()
            let id = try #require(json["videoId"] as? String)
            let video = try await client.video(id)
            #expect(video.title == json["title"] as? String)
            #expect(video.rating.count == 1 && video.rating.average == 4)
            #expect(video.views >= 1)
            try await client.shutdown()
            #expect(try await server.stop().status == 0)
        }
    }

    /// tuspy uploads part of a file, stops; a new tuspy uploader resumes from the stored URL; the
    /// stored file is byte-identical and becomes a ready video.
    @Test func tuspyResumesAnInterruptedUpload() async throws {
        try await withTemporaryDirectory(prefix: "videoserver-tus") { directory in
            let clip = try await Self.makeClip(in: directory)
            let original = try Data(contentsOf: clip)
            try #require(original.count > 4 * 256 * 1024, "the clip is too small for the test: \(original.count) bytes")
            let data = directory.appendingPathComponent("data")
            let server = try await ServerProcess.start(dataDirectory: data, arguments: ["--no-sample"])
            let client = server.client()
            let session = try await client.signUpAndIn(username: "tusfan")
            let (result, json) = try await Scripts.run("tus_resume.py", ["interrupt", server.baseURL.absoluteString, session.accessToken, clip.path])
            #expect(result.status == 0, "\(result.output) \(result.stderr.suffix(3000))")
            #expect(json["resumedAt"] as? Int == 3 * 256 * 1024)
            #expect(json["offset"] as? Int == original.count)

            let video = try #require(try await client.videos(of: "tusfan").items.first)
            #expect(video.title == "tuspy interrupted upload")
            _ = try await client.waitForVideo(video.id, toReach: "ready")
            let stored = try Data(contentsOf: data.appendingPathComponent("media/uploads/\(video.id)/tuspy.mp4"))
            #expect(stored == original)
            try await client.shutdown()
            #expect(try await server.stop().status == 0)
        }
    }

    /// The server is killed with SIGKILL in the middle of a PATCH, restarted on the same data
    /// directory (on another port), and tuspy finishes the upload from the offset the server kept.
    @Test func anUploadResumesAfterTheServerIsKilled() async throws {
        try await withTemporaryDirectory(prefix: "videoserver-crash") { directory in
            let clip = try await Self.makeClip(in: directory)
            let original = try Data(contentsOf: clip)
            let data = directory.appendingPathComponent("data")
            var server = try await ServerProcess.start(dataDirectory: data, arguments: ["--no-sample"])
            let client = server.client()
            let session = try await client.signUpAndIn(username: "crashy")
            try await client.shutdown()

            let uploader = try ToolProcess(["python3", Scripts.path("tus_resume.py"), "start", server.baseURL.absoluteString,
                                            session.accessToken, clip.path])
            let deadline = ContinuousClock.now + .seconds(120)
            while !uploader.stdoutSoFar.contains("MIDPATCH"), uploader.exitedResult() == nil, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(20))
            }
            let started = try #require(uploader.stdoutSoFar.split(separator: "\n").first.flatMap {
                try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
            }, "the uploader did not start: \(uploader.stdoutSoFar) \(uploader.stderrSoFar.suffix(2000))")
            let committed = try #require(started["committed"] as? Int)
            let uploadURL = try #require((started["url"] as? String).flatMap(URL.init(string:)))
            try await server.crash()
            // SIGKILL: a child of the test runner may start with SIGTERM blocked, and this one is asleep.
            uploader.send(SIGKILL)
            _ = try await uploader.wait()

            server = try await ServerProcess.start(dataDirectory: data, arguments: ["--no-sample"])
            let (result, json) = try await Scripts.run("tus_resume.py", ["finish", server.baseURL.absoluteString, session.accessToken,
                                                                         clip.path, uploadURL.path])
            #expect(result.status == 0, "\(result.output) \(result.stderr.suffix(3000))")
            // Nothing acknowledged was lost: the server resumes at or after what it had acknowledged.
            let resumedAt = try #require(json["resumedAt"] as? Int)
            #expect(resumedAt >= committed && resumedAt < original.count)
            #expect(json["offset"] as? Int == original.count)

            let again = server.client()
            _ = try await again.signIn(email: "crashy@example.com", password: "correct-horse-battery-staple")
            let video = try #require(try await again.videos(of: "crashy").items.first)
            _ = try await again.waitForVideo(video.id, toReach: "ready")
            let stored = try Data(contentsOf: data.appendingPathComponent("media/uploads/\(video.id)/tuspy.mp4"))
            #expect(stored == original)
            try await again.shutdown()
            #expect(try await server.stop().status == 0)
        }
    }

    /// ffprobe and GStreamer play the playback URL through the server; curl sees ranges, 304s and
    /// the cache headers players and CDNs rely on.
    @Test func playersAndCurlThroughTheServer() async throws {
        try await withTemporaryDirectory(prefix: "videoserver-play") { directory in
            let clip = try await Self.makeClip(in: directory, seconds: 6, width: 640, height: 360)
            let server = try await ServerProcess.start(dataDirectory: directory.appendingPathComponent("data"), arguments: ["--no-sample"])
            let client = server.client()
            try await client.signUpAndIn(username: "player")
            let upload = try await client.upload(try Data(contentsOf: clip), title: "Played by others")
            let video = try await client.waitForVideo(upload.videoID, toReach: "ready")
            let playback = try #require(video.playbackUrl)
            let master = client.url(playback).absoluteString

            let probe = try await ToolProcess.run(["ffprobe", "-v", "warning", "-show_entries", "format=duration:stream=codec_name,width,height",
                                                   "-of", "json", master])
            #expect(probe.status == 0 && !probe.stderr.contains("Failed") && !probe.stderr.contains("error"), "\(probe.stderr.suffix(2000))")
            let json = try JSONSerialization.jsonObject(with: probe.stdout) as? [String: Any]
            let duration = Double((json?["format"] as? [String: Any])?["duration"] as? String ?? "") ?? 0
            #expect(abs(duration - 6) < 0.5)
            let codecs = ((json?["streams"] as? [[String: Any]]) ?? []).compactMap { $0["codec_name"] as? String }
            #expect(codecs.contains("h264") && codecs.contains("aac"))

            let gst = try await ToolProcess.run(["gst-launch-1.0", "-q", "playbin3", "uri=\(master)", "video-sink=fakesink", "audio-sink=fakesink"])
            #expect(gst.status == 0, "gst-launch: \(gst.stderr.suffix(2000))")

            // curl: the master playlist's type and lifetime, a segment's range, 304 on its ETag.
            let head = try await ToolProcess.run(["curl", "-sS", "-D", "-", "-o", "/dev/null", master])
            #expect(head.output.lowercased().contains("content-type: application/vnd.apple.mpegurl"))
            #expect(head.output.lowercased().contains("cache-control: public"))
            let masterText = try await client.send(.GET, playback).text
            let mediaPlaylistPath = try #require(masterText.split(separator: "\n").first { !$0.hasPrefix("#") && $0.hasSuffix(".m3u8") })
            let mediaURL = URL(string: String(mediaPlaylistPath), relativeTo: URL(string: master))!.absoluteString
            let mediaText = try await ToolProcess.run(["curl", "-sS", mediaURL]).output
            let segment = try #require(mediaText.split(separator: "\n").first { !$0.hasPrefix("#") && !$0.isEmpty })
            let segmentURL = URL(string: String(segment), relativeTo: URL(string: mediaURL))!.absoluteString
            let ranged = try await ToolProcess.run(["curl", "-sS", "-D", "-", "-o", "/dev/null", "-H", "Range: bytes=0-99", segmentURL])
            #expect(ranged.output.hasPrefix("HTTP/1.1 206"), "\(ranged.output)")
            #expect(ranged.output.lowercased().contains("content-length: 100"))
            #expect(ranged.output.lowercased().contains("cache-control: public, max-age=31536000, immutable"))
            let etag = try #require(ranged.output.split(separator: "\r\n").first { $0.lowercased().hasPrefix("etag:") }?
                .split(separator: ":", maxSplits: 1).last?.trimmingCharacters(in: .whitespaces))
            let notModified = try await ToolProcess.run(["curl", "-sS", "-D", "-", "-o", "/dev/null", "-H", "If-None-Match: \(etag)", segmentURL])
            #expect(notModified.output.hasPrefix("HTTP/1.1 304"), "\(notModified.output)")
            let unsatisfiable = try await ToolProcess.run(["curl", "-sS", "-D", "-", "-o", "/dev/null", "-H", "Range: bytes=99999999-", segmentURL])
            #expect(unsatisfiable.output.hasPrefix("HTTP/1.1 416"))
            try await client.shutdown()
            #expect(try await server.stop().status == 0)
        }
    }

    /// A live stream on the watch page: ffmpeg publishes over RTMP in real time, and headless
    /// Chromium shows the LIVE badge with a viewer count while its `<video>` plays the live
    /// playlist on (no console errors).
    @Test func theWatchPagePlaysALiveStream() async throws {
        try await withTemporaryDirectory(prefix: "videoserver-live") { directory in
            let server = try await ServerProcess.start(dataDirectory: directory.appendingPathComponent("data"), arguments: ["--no-sample"],
                                                       rtmpPort: try Loopback.freePort())
            let client = server.client()
            try await client.signUpAndIn(username: "streamer")
            let live = try await client.createLiveStream(title: "Live from the test")
            #expect(live.ingestUrl.hasPrefix("rtmp://127.0.0.1:") && live.ingestUrl.hasSuffix("/live"))
            let publisher = try ToolProcess(["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error",
                                             "-re", "-f", "lavfi", "-i", "testsrc2=size=640x360:rate=30:duration=60",
                                             "-re", "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100:duration=60",
                                             "-c:v", "libx264", "-preset", "veryfast", "-tune", "zerolatency", "-g", "60", "-pix_fmt", "yuv420p",
                                             "-c:a", "aac", "-b:a", "96k", "-f", "flv", live.publishUrl])
            defer { kill(publisher.pid, SIGKILL) }
            // Live and watchable once the first segments are listed.
            let deadline = ContinuousClock.now + .seconds(60)
            var video = try await client.video(live.videoId)
            while video.playbackUrl == nil, ContinuousClock.now < deadline, publisher.exitedResult() == nil {
                try await Task.sleep(for: .milliseconds(250))
                video = try await client.video(live.videoId)
            }
            #expect(video.status == "live" && video.playbackUrl != nil, "publisher: \(publisher.stderrSoFar.suffix(2000))")

            let shots = ProcessInfo.processInfo.environment["VIDEOSTACK_SCREENSHOTS"] ?? directory.appendingPathComponent("shots").path
            let (result, json) = try await Scripts.run("live_flow.py", [server.baseURL.absoluteString, live.videoId, shots])
            #expect(result.status == 0, "live flow: \(result.output.suffix(4000)) \(result.stderr.suffix(3000))")
            #expect(json["badge"] as? String == "LIVE", "live flow said: \(result.output.suffix(3000))")
            let state = json["state"] as? String ?? ""
            #expect(state.contains(/LIVE\s*[1-9][0-9]* watching/), "the page said '\(state)'")
            #expect((json["currentTime"] as? Double ?? 0) - (json["start"] as? Double ?? 0) > 4)
            #expect(json["endless"] as? Bool == true, "Chromium did not take the stream for live")
            #expect((json["console"] as? [String])?.isEmpty == true, "console: \(json["console"] ?? "")")
            #expect((json["pageErrors"] as? [String])?.isEmpty == true, "page errors: \(json["pageErrors"] ?? "")")
            // The API counts the page as a viewer (from its playlist fetches).
            #expect(try await client.video(live.videoId).viewers ?? 0 >= 1)
            try await client.shutdown()
            #expect(try await server.stop().status == 0)
        }
    }
}
