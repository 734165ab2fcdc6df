import Foundation
import HTTPTypes
import Testing
import TestSupport
import VideoCore
import VideoPlatform
@testable import VideoStackHTTP

/// The OpenAPI document against what the server does: the same routes both ways, and
/// schemathesis finding no 5xx and no answer that breaks the schema.
@Suite struct OpenAPITests {
    static func operations(_ document: [String: Any]) -> Set<String> {
        var result = Set<String>()
        for (path, item) in document["paths"] as? [String: [String: Any]] ?? [:] {
            for method in item.keys { result.insert("\(method.uppercased()) \(path)") }
        }
        return result
    }

    @Test func documentListsExactlyTheRegisteredRoutes() async throws {
        let fixture = try await APIFixture.make()
        try await fixture.withServer { api in
            let served = try await api.call(.get, "/openapi.json")
            #expect(served.status == 200)
            let document = try #require(try JSONSerialization.jsonObject(with: Data(served.body)) as? [String: Any])
            #expect(document["openapi"] as? String == "3.1.0")
            let documented = Self.operations(document)
            var registered = Set(VideoStackAPI.routePlan.map { "\($0.method.rawValue) /api/v1\($0.path)" })
            registered.insert("GET /s/{code}")
            registered.insert("GET /openapi.json")
            #expect(documented == registered)
            // Every operation names its responses, and JSON bodies point at a schema that exists.
            let schemas = ((document["components"] as? [String: Any])?["schemas"] as? [String: Any]) ?? [:]
            let text = served.text
            for match in text.matches(of: /#\/components\/schemas\/([A-Za-z]+)/) {
                #expect(schemas[String(match.1)] != nil, "\(match.1)")
            }

            // Live: every documented operation is routed to an endpoint (not the unknown-path
            // answer), and every other method on a documented path is 405.
            let token = try await api.signUp("documenter")
            let video = try await fixture.makeVideo(owner: "documenter")
            let upload = try await api.call(.post, "/api/v1/uploads", token: token, headers: ["Tus-Resumable": "1.0.0", "Upload-Length": "5"])
            let uploadID = String(upload.header("Location")?.split(separator: "/").last ?? "")
            for operation in documented.sorted() {
                let parts = operation.split(separator: " ", maxSplits: 1)
                let method = HTTPRequest.Method(String(parts[0]))!
                let path = String(parts[1]).replacingOccurrences(of: "{username}", with: "documenter").replacingOccurrences(of: "{code}", with: "abc")
                    .replacingOccurrences(of: "{id}", with: Self.idFor(String(parts[1]), video: video.id, upload: uploadID))
                guard !(method == .post && path.hasSuffix("/signout-all")), !(method == .post && path.hasSuffix("/signout")) else { continue }
                let reply = try await api.call(method, path, token: token)
                #expect(reply.status != 405, "\(operation)")
                let message = ((reply["error"] as? [String: Any])?["message"] as? String) ?? ""
                #expect(!message.hasPrefix("There is no API endpoint"), "\(operation) → \(reply.status) \(message)")
            }
            let methods: [HTTPRequest.Method] = [.get, .post, .put, .patch, .delete]
            for path in Set(documented.map { String($0.split(separator: " ", maxSplits: 1)[1]) }) where path.hasPrefix("/api/v1") {
                let concrete = path.replacingOccurrences(of: "{username}", with: "documenter").replacingOccurrences(of: "{id}", with: video.id.description)
                for method in methods where !documented.contains("\(method.rawValue) \(path)") {
                    let reply = try await api.call(method, concrete, token: token)
                    #expect(reply.status == 405, "\(method.rawValue) \(path) → \(reply.status)")
                    #expect(reply.header("Allow") != nil)
                }
            }
        }
    }

    static func idFor(_ template: String, video: VideoID, upload: String) -> String {
        template.contains("/uploads/") ? upload : video.description
    }

    @Test func schemathesisFindsNoServerErrorsAndNoSchemaViolations() async throws {
        let fixture = try await APIFixture.make()
        try await fixture.withServer { api in
            let token = try await api.signUp("fuzzer")
            for index in 0..<3 { _ = try await fixture.makeVideo(owner: "fuzzer", title: "Fuzz target \(index)") }
            let report = try TemporaryDirectory(prefix: "schemathesis")
            defer { report.cleanup() }
            // tus bodies are raw bytes: schemathesis sends them as it sends application/octet-stream.
            try "import schemathesis\nschemathesis.serializer.alias(\"application/offset+octet-stream\", \"application/octet-stream\")\n"
                .write(to: report.url.appendingPathComponent("videostack_hooks.py"), atomically: true, encoding: .utf8)
            let result = try await ToolProcess.run([
                "schemathesis", "run", "http://127.0.0.1:\(api.port)/openapi.json",
                "--header", "Authorization: Bearer \(token)",
                "--checks", "all", "--exclude-checks", "positive_data_acceptance",
                "--exclude-operation-id", "signOut", "--exclude-operation-id", "signOutEverywhere",
                "--max-examples", "25", "--workers", "1", "--seed", "7", "--no-color",
                "--phases", "examples,coverage,fuzzing",
                "--request-timeout", "20", "--max-redirects", "0", "--generation-database", "none",
            ], environment: ["NO_COLOR": "1", "SCHEMATHESIS_HOOKS": "videostack_hooks", "PYTHONPATH": report.url.path])
            let output = result.output + result.stderr
            #expect(result.status == 0, "schemathesis failed:\n\(output)")
            #expect(output.contains("generated"), "\(output.suffix(2000))")
            print(output.split(separator: "\n").filter { $0.contains("generated") || $0.contains("passed") || $0.contains("Tested") }.joined(separator: "\n"))
        }
    }
}
