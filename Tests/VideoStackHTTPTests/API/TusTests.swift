import Crypto
import Foundation
import HTTPTypes
import Testing
import VideoCore
import VideoPlatform
@testable import VideoStackHTTP

/// tus 1.0.0 through the HTTP layer: discovery, creation (with upload), resume at the offset,
/// conflicts, checksums, size limits, termination, and the hand-over to the platform.
@Suite struct TusTests {
    static let tus = ["Tus-Resumable": "1.0.0"]
    static let stream = "application/offset+octet-stream"

    static func metadata(_ pairs: [String: String]) -> String {
        pairs.sorted { $0.key < $1.key }.map { "\($0.key) \(Data($0.value.utf8).base64EncodedString())" }.joined(separator: ",")
    }

    @Test func optionsAdvertiseTheProtocolAndCORS() async throws {
        let fixture = try await APIFixture.make()
        try await fixture.withServer { api in
            let options = try await api.call(.options, "/api/v1/uploads", headers: ["Origin": "http://elsewhere.example", "Access-Control-Request-Method": "POST"])
            #expect(options.status == 204)
            #expect(options.header("Tus-Version") == "1.0.0")
            #expect(options.header("Tus-Resumable") == "1.0.0")
            #expect(options.header("Tus-Extension")?.split(separator: ",").contains("creation-with-upload") == true)
            #expect(options.header("Tus-Max-Size") == String(fixture.platform.uploads.configuration.maxUploadSize))
            #expect(options.header("Tus-Checksum-Algorithm") == "sha256")
            #expect(options.header("Access-Control-Allow-Origin") == "*")
            #expect(options.header("Access-Control-Allow-Methods")?.contains("POST") == true)
            for name in ["Authorization", "Content-Type", "Upload-Offset", "Upload-Metadata", "Tus-Resumable"] {
                #expect(options.header("Access-Control-Allow-Headers")?.contains(name) == true, "\(name)")
            }
            let item = try await api.call(.options, "/api/v1/uploads/abc")
            #expect(item.header("Access-Control-Allow-Methods")?.contains("PATCH") == true)
            // Any API path answers its preflight.
            let preflight = try await api.call(.options, "/api/v1/videos/\(VideoID())")
            #expect(preflight.status == 204)
            #expect(preflight.header("Access-Control-Allow-Methods")?.contains("PATCH") == true)
            let exposed = try await api.call(.get, "/api/v1/healthz").header("Access-Control-Expose-Headers") ?? ""
            for name in ["Location", "Upload-Offset", "Upload-Length", "Tus-Version", "Video-Id", "Upload-Expires"] {
                #expect(exposed.contains(name), "\(name)")
            }
        }
    }

    @Test func createResumeConflictChecksumAndComplete() async throws {
        let fixture = try await APIFixture.make()
        try await fixture.withServer { api in
            let token = try await api.signUp("uploader")
            let file = (0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
            // Creation with the first 100 kB in the body.
            let created = try await api.call(.post, "/api/v1/uploads", token: token, headers: Self.tus.merging([
                "Upload-Length": String(file.count), "Content-Type": Self.stream,
                "Upload-Metadata": Self.metadata(["filename": "holiday.mp4", "title": "Holiday ünïcode", "description": "Sea", "tags": "sea, sun", "visibility": "unlisted"]),
            ]) { $1 }, body: Array(file[0..<100_000]))
            #expect(created.status == 201, "\(created.text)")
            let location = try #require(created.header("Location"))
            #expect(location.hasPrefix("/api/v1/uploads/"))
            #expect(created.header("Upload-Offset") == "100000")
            #expect(created.header("Upload-Expires") != nil)
            let videoID = try #require(created.header("Video-Id").flatMap(VideoID.init))
            let video = try await api.call(.get, "/api/v1/videos/\(videoID)", token: token)
            #expect(video["status"] as? String == "uploading")
            #expect(video["title"] as? String == "Holiday ünïcode")
            #expect(video["tags"] as? [String] == ["sea", "sun"])
            #expect(video["visibility"] as? String == "unlisted")

            let head = try await api.call(.head, location, token: token, headers: Self.tus)
            #expect(head.status == 200)
            #expect(head.header("Upload-Offset") == "100000")
            #expect(head.header("Upload-Length") == String(file.count))
            #expect(head.header("Cache-Control") == "no-store")

            // Wrong offset: 409, and the upload is unchanged.
            let wrong = try await api.call(.patch, location, token: token,
                                           headers: Self.tus.merging(["Upload-Offset": "5", "Content-Type": Self.stream]) { $1 }, body: [1, 2, 3])
            #expect(wrong.status == 409)
            #expect(wrong.errorCode == "conflict")
            // A checksum that does not match: 460, nothing kept.
            let chunk = Array(file[100_000..<200_000])
            var bad = UploadChecksum.sha256(of: chunk).digest
            bad[0] ^= 0xFF
            let mismatch = try await api.call(.patch, location, token: token, headers: Self.tus.merging([
                "Upload-Offset": "100000", "Content-Type": Self.stream, "Upload-Checksum": "sha256 \(Data(bad).base64EncodedString())",
            ]) { $1 }, body: chunk)
            #expect(mismatch.status == 460)
            #expect(mismatch.errorCode == "checksum_mismatch")
            #expect(try await api.call(.head, location, token: token, headers: Self.tus).header("Upload-Offset") == "100000")
            let unknownAlgorithm = try await api.call(.patch, location, token: token, headers: Self.tus.merging([
                "Upload-Offset": "100000", "Content-Type": Self.stream, "Upload-Checksum": "md5 AAAA",
            ]) { $1 }, body: chunk)
            #expect(unknownAlgorithm.status == 400)
            // The right checksum: resumes at 100000.
            let good = try await api.call(.patch, location, token: token, headers: Self.tus.merging([
                "Upload-Offset": "100000", "Content-Type": Self.stream, "Upload-Checksum": UploadChecksum.sha256(of: chunk).header,
            ]) { $1 }, body: chunk)
            #expect(good.status == 204)
            #expect(good.header("Upload-Offset") == "200000")
            // Past the length: 413, nothing kept.
            let tooLong = try await api.call(.patch, location, token: token,
                                             headers: Self.tus.merging(["Upload-Offset": "200000", "Content-Type": Self.stream]) { $1 },
                                             body: Array(file[200_000...]) + [0])
            #expect(tooLong.status == 413)
            #expect(try await api.call(.head, location, token: token, headers: Self.tus).header("Upload-Offset") == "200000")
            // Wrong content type and missing version.
            #expect(try await api.call(.patch, location, token: token, headers: Self.tus.merging(["Upload-Offset": "200000", "Content-Type": "text/plain"]) { $1 },
                                       body: [1]).status == 415)
            let noVersion = try await api.call(.patch, location, token: token, headers: ["Upload-Offset": "200000", "Content-Type": Self.stream], body: [1])
            #expect(noVersion.status == 412)
            #expect(noVersion.header("Tus-Version") == "1.0.0")
            #expect(try await api.call(.patch, location, token: token, headers: Self.tus.merging(["Upload-Offset": "-1", "Content-Type": Self.stream]) { $1 },
                                       body: [1]).status == 400)

            let last = try await api.call(.patch, location, token: token,
                                          headers: Self.tus.merging(["Upload-Offset": "200000", "Content-Type": Self.stream]) { $1 }, body: Array(file[200_000...]))
            #expect(last.status == 204)
            #expect(last.header("Upload-Offset") == String(file.count))
            // Handed over: the raw file is in the blob store, byte for byte, and the video moved on.
            let after = try await fixture.platform.catalog.video(videoID)
            #expect(after?.status == .processing)
            let raw = try await fixture.platform.blobs.listAll(prefix: "uploads/\(videoID)/")
            #expect(raw.count == 1)
            if let key = raw.first?.key {
                #expect(try await fixture.platform.blobs.get(key) == file)
            }
        }
    }

    @Test func limitsDeferredLengthAndTermination() async throws {
        let fixture = try await APIFixture.make { configuration in
            configuration.uploads.maxUploadSize = 1_000
        }
        try await fixture.withServer { api in
            let token = try await api.signUp("limited")
            let tooBig = try await api.call(.post, "/api/v1/uploads", token: token, headers: Self.tus.merging(["Upload-Length": "1001"]) { $1 })
            #expect(tooBig.status == 413)
            #expect(tooBig.errorCode == "payload_too_large")
            #expect(try await api.call(.post, "/api/v1/uploads", token: token, headers: Self.tus).status == 400)
            #expect(try await api.call(.post, "/api/v1/uploads", token: token, headers: Self.tus.merging(["Upload-Length": "ten"]) { $1 }).status == 400)
            #expect(try await api.call(.post, "/api/v1/uploads", token: token,
                                       headers: Self.tus.merging(["Upload-Length": "10", "Upload-Metadata": "title !!notbase64"]) { $1 }).status == 400)
            #expect(try await api.call(.post, "/api/v1/uploads", token: token,
                                       headers: Self.tus.merging(["Upload-Length": "10", "Upload-Metadata": Self.metadata(["title": String(repeating: "x", count: 300)])]) { $1 }).status == 400)
            #expect(try await api.call(.post, "/api/v1/uploads", headers: Self.tus.merging(["Upload-Length": "10"]) { $1 }).status == 401)
            #expect(try await api.call(.post, "/api/v1/uploads", token: token, headers: ["Upload-Length": "10"]).status == 412)

            // Deferred length: the length comes with a PATCH; past the maximum it is 413.
            let deferred = try await api.call(.post, "/api/v1/uploads", token: token, headers: Self.tus.merging(["Upload-Defer-Length": "1"]) { $1 })
            #expect(deferred.status == 201)
            let location = try #require(deferred.header("Location"))
            #expect(try await api.call(.head, location, token: token, headers: Self.tus).header("Upload-Defer-Length") == "1")
            let over = try await api.call(.patch, location, token: token, headers: Self.tus.merging([
                "Upload-Offset": "0", "Content-Type": Self.stream, "Upload-Length": "5000",
            ]) { $1 }, body: [1, 2, 3])
            #expect(over.status == 413)

            // Termination removes the upload and the video it was to become.
            let videoID = try #require(deferred.header("Video-Id"))
            #expect(try await api.call(.delete, location, token: token, headers: Self.tus).status == 204)
            #expect(try await api.call(.head, location, token: token, headers: Self.tus).status == 404)
            #expect(try await api.call(.get, "/api/v1/videos/\(videoID)", token: token).status == 404)
            #expect(try await api.call(.head, "/api/v1/uploads/nonsense", token: token, headers: Self.tus).status == 404)
        }
    }
}
