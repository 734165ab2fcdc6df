import Foundation
import HTTPTypes
import Testing
import VideoCore
import VideoPlatform
@testable import VideoStackHTTP

/// Hostile and broken input of every kind: each is a 4xx with the contract's JSON error and a
/// request id, never a 500.
@Suite struct MalformedInputTests {
    @Test func badBodiesQueriesIdsAndMethods() async throws {
        let fixture = try await APIFixture.make()
        try await fixture.withServer { api in
            let token = try await api.signUp("prober")
            let video = try await fixture.makeVideo(owner: "prober")
            let signup = "/api/v1/auth/signup"
            var cases: [(String, Reply, Int, String)] = []
            func check(_ name: String, _ reply: Reply, _ status: Int, _ code: String) { cases.append((name, reply, status, code)) }

            check("not JSON", try await api.call(.post, signup, json: "{username: nope"), 400, "invalid_request")
            check("empty body", try await api.call(.post, signup, json: ""), 400, "invalid_request")
            check("JSON array", try await api.call(.post, signup, json: "[1,2]"), 400, "invalid_request")
            check("JSON null", try await api.call(.post, signup, json: "null"), 400, "invalid_request")
            check("wrong type", try await api.call(.post, signup, json: #"{"username":42,"email":"a@b.co","password":"x"}"#), 400, "invalid_request")
            check("missing field", try await api.call(.post, signup, json: #"{"username":"abc","password":"x"}"#), 400, "invalid_request")
            check("null field", try await api.call(.post, signup, json: #"{"username":null,"email":"a@b.co","password":"x"}"#), 400, "invalid_request")
            check("bad UTF-8", try await api.call(.post, signup, headers: ["Content-Type": "application/json"],
                                                  body: Array(#"{"username":""#.utf8) + [0xC3, 0x28, 0xFF] + Array(#"","email":"a@b.co","password":"x"}"#.utf8)), 400, "invalid_request")
            check("NUL in username", try await api.call(.post, signup, json: #"{"username":"ab\u0000c","email":"a@b.co","password":"\#(APIFixture.password)"}"#), 400, "invalid_request")
            check("huge field", try await api.call(.post, signup, json: #"{"username":"\#(String(repeating: "a", count: 50_000))","email":"a@b.co","password":"x"}"#), 400, "invalid_request")
            check("huge body", try await api.call(.post, signup, json: #"{"username":"\#(String(repeating: "a", count: 100_000))"}"#), 413, "payload_too_large")
            check("not JSON content type", try await api.call(.post, signup, headers: ["Content-Type": "text/plain"], body: Array("hello".utf8)), 415, "unsupported_media_type")
            check("no content type", try await api.call(.post, signup, body: Array(#"{"username":"abc"}"#.utf8)), 415, "unsupported_media_type")
            check("bad email", try await api.call(.post, signup, json: #"{"username":"abcd","email":"nope","password":"\#(APIFixture.password)"}"#), 400, "invalid_request")
            check("weak password", try await api.call(.post, signup, json: #"{"username":"abcd","email":"a@b.co","password":"123"}"#), 400, "invalid_request")
            check("huge number", try await api.call(.post, "/api/v1/videos/\(video.id)/reviews", token: token, json: #"{"rating":1e400,"comment":""}"#), 400, "invalid_request")
            check("fraction rating", try await api.call(.post, "/api/v1/videos/\(video.id)/reviews", token: token, json: #"{"rating":2.5}"#), 400, "invalid_request")
            check("long comment", try await api.call(.post, "/api/v1/videos/\(video.id)/reviews", token: token, json: #"{"rating":2,"comment":"\#(String(repeating: "é", count: 6000))"}"#), 400, "invalid_request")
            check("bad visibility", try await api.call(.patch, "/api/v1/videos/\(video.id)", token: token, json: #"{"visibility":"everyone"}"#), 400, "invalid_request")
            check("tags not strings", try await api.call(.patch, "/api/v1/videos/\(video.id)", token: token, json: #"{"tags":[1,2]}"#), 400, "invalid_request")
            check("long title", try await api.call(.patch, "/api/v1/videos/\(video.id)", token: token, json: #"{"title":"\#(String(repeating: "t", count: 500))"}"#), 400, "invalid_request")
            check("control in title", try await api.call(.patch, "/api/v1/videos/\(video.id)", token: token, json: #"{"title":"a\nb"}"#), 400, "invalid_request")
            check("bad id", try await api.call(.get, "/api/v1/videos/not-an-id"), 400, "invalid_request")
            check("encoded junk id", try await api.call(.get, "/api/v1/videos/%FF%FE"), 400, "invalid_request")
            check("long id", try await api.call(.get, "/api/v1/videos/" + String(repeating: "9", count: 300)), 400, "invalid_request")
            check("unknown id", try await api.call(.get, "/api/v1/videos/\(VideoID())"), 404, "not_found")
            check("bad cursor", try await api.call(.get, "/api/v1/videos/\(video.id)/reviews?cursor=%22%3C%3E"), 400, "invalid_request")
            check("forged cursor", try await api.call(.get, "/api/v1/videos/\(video.id)/reviews?cursor=AAAAAAAAAAAA"), 400, "invalid_request")
            check("bad limit", try await api.call(.get, "/api/v1/videos/\(video.id)/reviews?limit=abc"), 400, "invalid_request")
            check("bad percent", try await api.call(.get, "/api/v1/search?q=%zz"), 400, "invalid_request")
            check("bad UTF-8 query", try await api.call(.get, "/api/v1/search?q=%C3%28"), 400, "invalid_request")
            check("bad username", try await api.call(.get, "/api/v1/users/a%20b/videos"), 400, "invalid_request")
            check("bad bearer", try await api.call(.get, "/api/v1/me", token: "not.a.token"), 401, "unauthorized")
            check("basic auth", try await api.call(.get, "/api/v1/me", headers: ["Authorization": "Basic YTpi"]), 401, "unauthorized")
            check("bad refresh", try await api.call(.post, "/api/v1/auth/refresh", json: #"{"refreshToken":"garbage"}"#), 401, "unauthorized")
            check("unknown path", try await api.call(.get, "/api/v1/nothing/here"), 404, "not_found")
            check("wrong method", try await api.call(.put, "/api/v1/videos/\(video.id)"), 405, "method_not_allowed")
            check("wrong method on search", try await api.call(.delete, "/api/v1/search"), 405, "method_not_allowed")

            for (name, reply, status, code) in cases {
                #expect(reply.status == status, "\(name): \(reply.status) \(reply.text.prefix(300))")
                #expect(reply.errorCode == code, "\(name): \(reply.text.prefix(300))")
                let error = reply["error"] as? [String: Any]
                #expect((error?["message"] as? String)?.isEmpty == false, "\(name)")
                #expect(error?["requestId"] as? String == reply.header("X-Request-Id"), "\(name)")
                #expect(reply.header("Content-Type")?.hasPrefix("application/json") == true, "\(name)")
            }
            let refused = try await api.call(.put, "/api/v1/videos/\(video.id)")
            #expect(refused.header("Allow")?.contains("PATCH") == true)
            // A sane request id is echoed, an insane one replaced.
            #expect(try await api.call(.get, "/api/v1/healthz", headers: ["X-Request-Id": "client-id-1"]).header("X-Request-Id") == "client-id-1")
            let replaced = try await api.call(.get, "/api/v1/healthz", headers: ["X-Request-Id": "bad id with spaces"]).header("X-Request-Id")
            #expect(replaced != nil && replaced != "bad id with spaces")
        }
    }

    @Test func rateLimitsPerAddressAndPerUserAnswer429WithRetryAfter() async throws {
        let fixture = try await APIFixture.make { configuration in
            // Refills an hour apart: on a starved machine (the whole suite at once on 2 cores) the
            // test once took over a minute, and two tokens came back at 30 s.
            configuration.rateLimits = RateLimitConfiguration(perAddress: TokenBucketPolicy(capacity: 8, refillInterval: .seconds(3600)),
                                                              perUser: TokenBucketPolicy(capacity: 3, refillInterval: .seconds(3600)))
        }
        try await fixture.withServer { api in
            // Per user: sign-up and sign-in take 2 of the address's 8; three calls as the user pass.
            let token = try await api.signUp("busy")
            for _ in 0..<3 { #expect(try await api.call(.get, "/api/v1/me", token: token).status == 200) }
            let limited = try await api.call(.get, "/api/v1/me", token: token)
            #expect(limited.status == 429)
            #expect(limited.errorCode == "rate_limited")
            let retry = try #require(limited.header("Retry-After").flatMap(Int.init))
            #expect(retry >= 1 && retry <= 3600)
            // Per address: the rest of the address's tokens, then 429 for anonymous calls too.
            var statuses: [Int] = []
            for _ in 0..<4 { statuses.append(try await api.call(.get, "/api/v1/healthz").status) }
            #expect(statuses.contains(429))
            #expect(statuses.first == 200)
            let anonymous = try await api.call(.get, "/api/v1/healthz")
            #expect(anonymous.status == 429)
            #expect(anonymous.header("Retry-After").flatMap(Int.init).map { $0 >= 1 } == true)
        }
    }

    @Test func signInLockoutIs429WithRetryAfter() async throws {
        let fixture = try await APIFixture.make { configuration in
            configuration.accounts.signInAttemptsPerAccount = TokenBucketPolicy(capacity: 2, refillInterval: .seconds(60))
        }
        try await fixture.withServer { api in
            try await api.signUp("locked")
            var last: Reply?
            for _ in 0..<4 {
                last = try await api.call(.post, "/api/v1/auth/signin", json: #"{"email":"locked@example.com","password":"wrong wrong wrong"}"#)
            }
            #expect(last?.status == 429)
            #expect(last?.header("Retry-After").flatMap(Int.init).map { $0 >= 1 } == true)
        }
    }
}
