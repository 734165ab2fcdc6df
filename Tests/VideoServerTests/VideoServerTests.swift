import Foundation
import NIOHTTP1
import TestSupport
import Testing
import VideoStackTesting

/// The example server as a user runs it: the real executable on a free port, a temporary data
/// directory, and real clients (curl, Chromium, tuspy, ffprobe, GStreamer).
@Suite(.serialized) struct VideoServerTests {
    /// First start: the page, its assets with caching, health, metrics, the OpenAPI document and
    /// the sample video; SIGTERM stops it cleanly; a second start keeps the data and does not seed again.
    @Test func servesThePageAndKeepsItsDataAcrossARestart() async throws {
        try await withTemporaryDirectory(prefix: "videoserver") { directory in
            let data = directory.appendingPathComponent("data")
            let server = try await ServerProcess.start(dataDirectory: data)
            let client = server.client()
            defer { Task { [client] in try? await client.shutdown() } }

            let page = try await client.send(.GET, "/")
            #expect(page.status == 200)
            #expect(page.header("Content-Type") == "text/html; charset=utf-8")
            #expect(page.header("Cache-Control") == "no-cache")
            #expect(page.text.contains("<html lang=\"en\">"))
            #expect(page.header("Content-Security-Policy")?.contains("default-src 'self'") == true)
            // Page paths all answer with the page; the script routes on the path.
            for path in ["/watch/01ARZ3NDEKTSV4RRFFQ69G5FAV", "/signin", "/upload"] {
                let other = try await client.send(.GET, path)
                #expect(other.status == 200 && other.body == page.body, "\(path)")
            }

            // Assets: versioned URLs in the page are immutable; plain ones revalidate; ETags give 304s.
            let script = try #require(page.text.firstMatch(of: /src="(\/assets\/app\.js\?v=[0-9a-f]+)"/)?.1)
            let versioned = try await client.send(.GET, String(script))
            #expect(versioned.status == 200)
            #expect(versioned.header("Content-Type") == "text/javascript; charset=utf-8")
            #expect(versioned.header("Cache-Control") == "public, max-age=31536000, immutable")
            let plain = try await client.send(.GET, "/assets/app.js")
            #expect(plain.header("Cache-Control") == "no-cache")
            let etag = try #require(plain.header("ETag"))
            let revalidated = try await client.send(.GET, "/assets/app.js", headers: [("If-None-Match", "W/\(etag), \"other\"")])
            #expect(revalidated.status == 304 && revalidated.body.isEmpty)
            for (name, type) in [("app.css", "text/css; charset=utf-8"), ("tus.js", "text/javascript; charset=utf-8"), ("favicon.svg", "image/svg+xml")] {
                #expect(try await client.send(.GET, "/assets/\(name)").header("Content-Type") == type)
            }
            #expect(try await client.send(.GET, "/assets/missing.js").status == 404)
            #expect(try await client.send(.GET, "/assets/..%2Fpackage.swift").status == 404)

            let health = try await client.send(.GET, "/healthz")
            #expect(health.status == 200 && health.text == #"{"status":"ok"}"#)

            let openAPI = try await client.send(.GET, "/openapi.json")
            #expect(openAPI.status == 200)
            let document = try JSONSerialization.jsonObject(with: openAPI.body) as? [String: Any]
            #expect((document?["openapi"] as? String)?.hasPrefix("3.1") == true)

            // The sample video was published on the first start and becomes ready.
            let samples = try await waitForSample(client)
            #expect(samples.count == 1)
            let sample = try await client.waitForVideo(samples[0].id, toReach: "ready", timeout: .seconds(300))
            #expect(sample.playbackUrl?.hasPrefix("/media/videos/\(sample.id)/") == true)
            #expect(sample.duration.map { abs($0 - 12) < 0.5 } == true)

            // Metrics: Prometheus text with the requests made above, by route: the API's and the
            // media delivery's own records (they replace Hummingbird's MetricsMiddleware).
            let playlist = try await client.send(.GET, sample.playbackUrl ?? "/media/missing")
            #expect(playlist.status == 200)
            let metrics = try await client.send(.GET, "/metrics")
            #expect(metrics.status == 200)
            #expect(metrics.header("Content-Type")?.hasPrefix("text/plain; version=0.0.4") == true)
            #expect(metrics.text.contains("# TYPE"))
            let lines = metrics.text.split(separator: "\n")
            let videoRequests = lines.filter { $0.hasPrefix("hb_requests{") && $0.contains(#"http_route="/api/v1/videos/{id}""#) }
            #expect(videoRequests.contains { $0.contains(#"http_request_method="GET""#) && $0.contains(#"http_response_status_code="200""#) },
                    "\(lines.filter { $0.hasPrefix("hb_requests") })")
            #expect(lines.contains { $0.hasPrefix("http_server_request_duration") && $0.contains(#"http_route="/api/v1/videos/{id}""#) })
            #expect(lines.contains { $0.hasPrefix("hb_requests{") && $0.contains(#"http_route="/media/**""#) })
            #expect(lines.contains { $0.hasPrefix("http_server_active_requests") })

            let stopped = try await server.stop()
            #expect(stopped.status == 0, "\(stopped.stderr.suffix(2000))")
            #expect(stopped.output.contains("VideoServer stopped"))

            // Second start: the same data, no second sample.
            let again = try await ServerProcess.start(dataDirectory: data)
            let second = again.client()
            let videos = try await second.videos(of: "videostack")
            #expect(videos.items.map(\.id) == [sample.id])
            #expect(try await second.video(sample.id).status == "ready")
            try await second.shutdown()
            let stoppedAgain = try await again.stop()
            #expect(stoppedAgain.status == 0)
        }
    }

    /// Bad settings are refused at start with a message that says what to change.
    @Test func refusesBadSettingsClearly() async throws {
        try await withTemporaryDirectory(prefix: "videoserver") { directory in
            let executable = try ServerProcess.executable.path
            let s3 = try await ToolProcess.run([executable, "--blobs", "s3", "--data-dir", directory.path])
            #expect(s3.status != 0)
            #expect(s3.stderr.contains("--bucket"))
            let table = try await ToolProcess.run([executable, "--table", "videos", "--data-dir", directory.path])
            #expect(table.status != 0 && table.stderr.contains("--store dynamodb"))
            let port = try await ToolProcess.run([executable, "--port", "70000", "--data-dir", directory.path])
            #expect(port.status != 0 && port.stderr.contains("70000"))
            let environment = try await ToolProcess.run([executable, "--data-dir", directory.path], environment: ["VIDEOSTACK_PORT": "eighty"])
            #expect(environment.status != 0 && environment.stderr.contains("VIDEOSTACK_PORT"))
        }
    }

    /// The environment variables stand in for the flags.
    @Test func takesItsSettingsFromTheEnvironment() async throws {
        try await withTemporaryDirectory(prefix: "videoserver") { directory in
            let data = directory.appendingPathComponent("from-env")
            let process = try ToolProcess([try ServerProcess.executable.path, "--no-sample"],
                                          environment: ["VIDEOSTACK_PORT": "0", "VIDEOSTACK_DATA_DIR": data.path, "VIDEOSTACK_HOST": "127.0.0.1"])
            let deadline = ContinuousClock.now + .seconds(120)
            while !process.stdoutSoFar.contains("VideoServer ready at http://127.0.0.1:"), ContinuousClock.now < deadline, process.exitedResult() == nil {
                try await Task.sleep(for: .milliseconds(50))
            }
            #expect(process.stdoutSoFar.contains("(data in \(data.path))"))
            #expect(FileManager.default.fileExists(atPath: data.appendingPathComponent("videostack.sqlite").path))
            process.send(SIGINT)   // Ctrl-C
            let result = try await process.wait()
            #expect(result.status == 0)
        }
    }

    /// `--role worker` runs only the job workers: no HTTP, and SIGTERM stops it cleanly.
    @Test func theWorkerRoleServesNoHTTP() async throws {
        try await withTemporaryDirectory(prefix: "videoserver-worker") { directory in
            let process = try ToolProcess([try ServerProcess.executable.path, "--role", "worker", "--data-dir", directory.path, "--log-level", "warning"])
            let deadline = ContinuousClock.now + .seconds(120)
            while !process.stdoutSoFar.contains("VideoServer worker running"), ContinuousClock.now < deadline, process.exitedResult() == nil {
                try await Task.sleep(for: .milliseconds(50))
            }
            #expect(process.stdoutSoFar.contains("no HTTP in this role"))
            #expect(!process.stdoutSoFar.contains("ready at"))
            let result = try await process.stop()
            #expect(result.status == 0 && result.output.contains("VideoServer stopped"))
        }
    }

    private func waitForSample(_ client: VideoStackClient) async throws -> [VideoStackClient.Video] {
        let deadline = ContinuousClock.now + .seconds(120)
        while true {
            do {
                let page = try await client.videos(of: "videostack")
                if !page.items.isEmpty { return page.items }
            } catch let error as APIClientError where error.code == .notFound {
                // The sample's account is made a moment after the server starts.
            }
            if ContinuousClock.now >= deadline { throw ServerFailure("no sample video after 120 s") }
            try await Task.sleep(for: .milliseconds(200))
        }
    }
}
