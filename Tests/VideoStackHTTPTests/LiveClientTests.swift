import Foundation
import Testing
import TestSupport
import VideoCore
import VideoStackHTTP

/// Real clients against a real server on 127.0.0.1: curl (with `--path-as-is` for hostile
/// paths), Python's `http.client`/`urllib` and raw sockets, and players (ffprobe, ffmpeg,
/// GStreamer) on an HLS rendition made by the ffmpeg CLI.
@Suite struct LiveClientTests {
    static let segmentKey = "videos/v1/720p/seg_00001.m4s"

    @Test func curlNeverEscapesTheMediaRoot() async throws {
        let fixture = try DeliveryFixture()
        defer { fixture.cleanup() }
        // A file outside the media root that a traversal would reach.
        let secret = "top secret \(UUID().uuidString)"
        try secret.write(to: fixture.directory.url.appendingPathComponent("secret.txt"), atomically: true, encoding: .utf8)
        try await fixture.store.put(Self.segmentKey, bytes: patternBytes(1000))
        try await fixture.withLiveServer { port in
            let base = "http://127.0.0.1:\(port)"
            let hostile = [
                "/media/../secret.txt", "/media/videos/../../secret.txt", "/media/%2e%2e/secret.txt", "/media/%2E%2E/secret.txt",
                "/media/.%2e/secret.txt", "/media/..%2fsecret.txt", "/media/videos%2f..%2f..%2fsecret.txt", "/media/..%5csecret.txt",
                "/media/..\\secret.txt", "/media/videos/..%00/secret.txt", "/media//secret.txt", "/media/%c0%ae%c0%ae/secret.txt",
                "/media/%252e%252e/secret.txt", "/media/videos/v1/720p/seg_00001.m4s/..", "/media/" + String(repeating: "a/", count: 800) + "x",
                "/media/.videostack-tmp/x", "/media/%2fetc%2fpasswd",
            ]
            for path in hostile {
                let response = try await CurlResponse.fetch(["--path-as-is", base + path])
                #expect([400, 404].contains(response.status), "\(path) -> \(response.status)")
                #expect(!String(decoding: response.body, as: UTF8.self).contains("top secret"), "\(path)")
            }
            // The server is unharmed.
            let ok = try await CurlResponse.fetch([base + "/media/" + Self.segmentKey])
            #expect(ok.status == 200)
            #expect(Array(ok.body) == patternBytes(1000))
        }
    }

    @Test func rawSocketsWithNULBackslashesAndHugeTargets() async throws {
        let fixture = try DeliveryFixture()
        defer { fixture.cleanup() }
        try await fixture.store.put(Self.segmentKey, bytes: patternBytes(1000))
        try await fixture.withLiveServer { port in
            // Each request goes on its own connection; the status line (or "closed") is printed.
            let script = #"""
            import socket, sys
            port = int(sys.argv[1])
            targets = [
                b"/media/a\x00b.m4s", b"/media/..\\..\\secret.txt", b"/media/videos/v1/720p/seg_00001.m4s\x00.jpg",
                b"http://127.0.0.1/media/../../secret.txt", b"/media/\xff\xfe", b"/media/" + b"a" * 200000,
                b"/media/%00", b"/media/a\tb",
            ]
            for target in targets:
                s = socket.create_connection(("127.0.0.1", port), timeout=10)
                s.sendall(b"GET " + target + b" HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
                data = b""
                try:
                    while True:
                        chunk = s.recv(65536)
                        if not chunk:
                            break
                        data += chunk
                except (ConnectionResetError, socket.timeout):
                    pass
                s.close()
                line = data.split(b"\r\n", 1)[0].decode("latin-1") if data else "closed"
                print(line)
            """#
            let result = try await ToolProcess.run(["python3", "-c", script, String(port)])
            #expect(result.status == 0, "\(result.stderr)")
            let lines = result.output.split(separator: "\n").map(String.init)
            #expect(lines.count == 8)
            for line in lines {
                // The parser or the delivery refuses each; none is served, none is a 500.
                let refused = line == "closed" || ["400", "404", "414", "431"].contains(line.split(separator: " ").dropFirst().first.map(String.init) ?? "")
                #expect(refused, "\(line)")
            }
            let ok = try await CurlResponse.fetch(["http://127.0.0.1:\(port)/media/" + Self.segmentKey])
            #expect(ok.status == 200)
        }
    }

    @Test func pythonClientsSeeRangesValidatorsAndHead() async throws {
        let fixture = try DeliveryFixture()
        defer { fixture.cleanup() }
        let segment = patternBytes(200_000)
        try await fixture.store.put(Self.segmentKey, bytes: segment)
        try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSinceNow: -120)],
                                              ofItemAtPath: fixture.store.root.appendingPathComponent(Self.segmentKey).path)
        try await fixture.withLiveServer { port in
            // One keep-alive connection for everything, as a player would use.
            let script = #"""
            import http.client, json, sys, urllib.request, hashlib
            port, path = int(sys.argv[1]), sys.argv[2]
            out = {}
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            def req(method, headers={}):
                c.request(method, path, headers=headers)
                r = c.getresponse()
                body = r.read()
                return r.status, {k.lower(): v for k, v in r.getheaders()}, body
            s, h, b = req("GET")
            out["full"] = [s, len(b), hashlib.sha256(b).hexdigest(), h.get("content-type"), h.get("etag"), h.get("last-modified")]
            etag, lm = h["etag"], h["last-modified"]
            s, h, b = req("GET", {"Range": "bytes=100-199"})
            out["range"] = [s, h.get("content-range"), hashlib.sha256(b).hexdigest()]
            s, h, b = req("GET", {"Range": "bytes=-10"})
            out["suffix"] = [s, h.get("content-range"), len(b)]
            s, h, b = req("GET", {"Range": "bytes=500000-"})
            out["unsatisfiable"] = [s, h.get("content-range")]
            s, h, b = req("GET", {"If-None-Match": etag})
            out["inm"] = [s, len(b), h.get("etag")]
            s, h, b = req("GET", {"If-None-Match": "\"x\", W/" + etag})
            out["inm_weak_list"] = [s]
            s, h, b = req("GET", {"If-Modified-Since": lm})
            out["ims"] = [s, len(b)]
            s, h, b = req("GET", {"Range": "bytes=0-9", "If-Range": etag})
            out["if_range_match"] = [s, len(b)]
            s, h, b = req("GET", {"Range": "bytes=0-9", "If-Range": "\"stale\""})
            out["if_range_stale"] = [s, len(b)]
            s, h, b = req("GET", {"Range": "bytes=0-9", "If-Range": lm})
            out["if_range_date"] = [s, len(b)]
            s, h, b = req("HEAD")
            out["head"] = [s, h.get("content-length"), len(b)]
            with urllib.request.urlopen("http://127.0.0.1:%d%s" % (port, path)) as r:
                out["urllib"] = [r.status, hashlib.sha256(r.read()).hexdigest()]
            print(json.dumps(out))
            """#
            let result = try await ToolProcess.run(["python3", "-c", script, String(port), "/media/" + Self.segmentKey])
            #expect(result.status == 0, "\(result.stderr)")
            let out = try #require(try JSONSerialization.jsonObject(with: result.stdout) as? [String: [Any]])
            let digest = { (bytes: ArraySlice<UInt8>) in sha256Hex(Array(bytes)) }
            #expect(out["full"]?[0] as? Int == 200)
            #expect(out["full"]?[1] as? Int == 200_000)
            #expect(out["full"]?[2] as? String == digest(segment[...]))
            #expect(out["full"]?[3] as? String == "video/iso.segment")
            #expect(out["range"]?[0] as? Int == 206)
            #expect(out["range"]?[1] as? String == "bytes 100-199/200000")
            #expect(out["range"]?[2] as? String == digest(segment[100..<200]))
            #expect(out["suffix"]?[1] as? String == "bytes 199990-199999/200000")
            #expect(out["unsatisfiable"]?[0] as? Int == 416)
            #expect(out["unsatisfiable"]?[1] as? String == "bytes */200000")
            #expect(out["inm"]?[0] as? Int == 304)
            #expect(out["inm"]?[1] as? Int == 0)
            #expect(out["inm_weak_list"]?[0] as? Int == 304)
            #expect(out["ims"]?[0] as? Int == 304)
            #expect(out["if_range_match"]?[0] as? Int == 206)
            #expect(out["if_range_stale"]?[0] as? Int == 200)
            #expect(out["if_range_stale"]?[1] as? Int == 200_000)
            #expect(out["if_range_date"]?[0] as? Int == 206)
            #expect(out["head"]?[0] as? Int == 200)
            #expect(out["head"]?[1] as? String == "200000")
            #expect(out["head"]?[2] as? Int == 0)
            #expect(out["urllib"]?[1] as? String == digest(segment[...]))
        }
    }

    @Test func curlHeadAndConditionalFetches() async throws {
        let fixture = try DeliveryFixture()
        defer { fixture.cleanup() }
        try await fixture.store.put(Self.segmentKey, bytes: patternBytes(5000))
        try await fixture.withLiveServer { port in
            let url = "http://127.0.0.1:\(port)/media/" + Self.segmentKey
            let head = try await CurlResponse.fetch(["-I", url])
            #expect(head.status == 200)
            #expect(head.headers["content-length"] == "5000")
            // (curl -I prints the headers as its output; Python's test above checks the empty body.)
            // curl -z sends If-Modified-Since.
            let notModified = try await CurlResponse.fetch(["-z", try #require(head.headers["last-modified"]), url])
            #expect(notModified.status == 304)
            let range = try await CurlResponse.fetch(["-r", "4990-", url])
            #expect(range.status == 206)
            #expect(Array(range.body) == Array(patternBytes(5000)[4990...]))
            let preflight = try await CurlResponse.fetch([
                "-X", "OPTIONS", "-H", "Origin: https://player.example", "-H", "Access-Control-Request-Method: GET",
                "-H", "Access-Control-Request-Headers: range", url,
            ])
            #expect(preflight.status == 204)
            #expect(preflight.headers["access-control-allow-origin"] == "*")
        }
    }

    // MARK: Players

    /// An fMP4 HLS ladder of one rendition plus a master playlist, made by the ffmpeg CLI and
    /// stored under `videos/p1/`.
    static func storeHLS(in fixture: DeliveryFixture) async throws {
        let output = fixture.directory.url.appendingPathComponent("hls")
        try FileManager.default.createDirectory(at: output, withIntermediateDirectories: true)
        let make = try await ToolProcess.run([
            "ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25:duration=4",
            "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100:duration=4",
            "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-g", "25", "-c:a", "aac",
            "-f", "hls", "-hls_time", "1", "-hls_segment_type", "fmp4", "-hls_playlist_type", "vod",
            "-master_pl_name", "master.m3u8", "-hls_segment_filename", output.appendingPathComponent("seg_%03d.m4s").path,
            output.appendingPathComponent("index.m3u8").path,
        ])
        #expect(make.status == 0, "\(make.stderr)")
        for name in try FileManager.default.contentsOfDirectory(atPath: output.path) {
            let bytes = try [UInt8](Data(contentsOf: output.appendingPathComponent(name)))
            try await fixture.store.put("videos/p1/" + name, bytes: bytes)
        }
    }

    @Test func ffprobeAndFFmpegPlayTheServedHLS() async throws {
        let fixture = try DeliveryFixture()
        defer { fixture.cleanup() }
        try await Self.storeHLS(in: fixture)
        try await fixture.withLiveServer { port in
            let url = "http://127.0.0.1:\(port)/media/videos/p1/master.m3u8"
            let probe = try await ToolProcess.run(["ffprobe", "-v", "error", "-show_entries", "format=duration:stream=codec_type", "-of", "json", url])
            #expect(probe.status == 0, "\(probe.stderr)")
            let json = try #require(try JSONSerialization.jsonObject(with: probe.stdout) as? [String: Any])
            let duration = Double(((json["format"] as? [String: Any])?["duration"] as? String) ?? "") ?? 0
            #expect(abs(duration - 4) < 0.5, "duration \(duration)")
            let types = ((json["streams"] as? [[String: Any]]) ?? []).compactMap { $0["codec_type"] as? String }
            #expect(Set(types) == ["video", "audio"])
            // ffmpeg exits 0 even when a segment fails to load, so its log must be empty too.
            let decode = try await ToolProcess.run(["ffmpeg", "-v", "error", "-i", url, "-f", "null", "-"])
            #expect(decode.status == 0)
            #expect(decode.stderr.isEmpty, "\(decode.stderr)")
            // Every segment went through the delivery.
            #expect(fixture.requests.count("/media/videos/p1/seg_003.m4s") >= 1)
        }
    }

    @Test func gstreamerPlaysTheServedHLS() async throws {
        let fixture = try DeliveryFixture()
        defer { fixture.cleanup() }
        try await Self.storeHLS(in: fixture)
        try await fixture.withLiveServer { port in
            let url = "http://127.0.0.1:\(port)/media/videos/p1/master.m3u8"
            let play = try await ToolProcess.run([
                "gst-launch-1.0", "-q", "playbin3", "uri=\(url)", "video-sink=fakesink", "audio-sink=fakesink",
            ])
            #expect(play.status == 0, "\(play.stderr) \(play.output)")
            #expect(fixture.requests.count("/media/videos/p1/seg_003.m4s") >= 1)
        }
    }
}

/// SHA-256 of `bytes` in hex, computed by Python's hashlib on the other side and by
/// `sha256sum` here (no crypto dependency in the tests).
func sha256Hex(_ bytes: [UInt8]) -> String {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("sha-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: url) }
    try? Data(bytes).write(to: url)
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/sha256sum")
    process.arguments = [url.path]
    let pipe = Pipe()
    process.standardOutput = pipe
    try? process.run()
    let output = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return String(decoding: output, as: UTF8.self).split(separator: " ").first.map(String.init) ?? ""
}
