import Foundation
import Logging
import NIOHTTP1
import Testing
import TestSupport
import VideoCore
@testable import VideoStackAWS

/// What only the S3 store has: multipart uploads, presigned URLs, addressing styles, buckets.
@Suite("S3BlobStore")
struct S3BlobStoreTests {
    static let multipart = S3BlobStoreConfiguration(bucket: "multipart-test", addressing: .path, multipartThreshold: 5 << 20, partSize: 5 << 20,
                                                    uploadConcurrency: 2, createsBucket: true)

    /// Chunks of `total` bytes in pieces of `piece` (a pattern that shows any misplaced byte).
    static func pattern(_ total: Int) -> [UInt8] { (0..<total).map { UInt8(truncatingIfNeeded: ($0 &* 2_654_435_761) >> 13) } }

    static func chunks(_ bytes: [UInt8], piece: Int, failAfter: Int? = nil) -> AsyncThrowingStream<[UInt8], any Error> {
        AsyncThrowingStream { continuation in
            var offset = 0
            while offset < bytes.count {
                if let failAfter, offset >= failAfter {
                    continuation.finish(throwing: VideoStackError(.io, "the source broke"))
                    return
                }
                continuation.yield(Array(bytes[offset..<min(bytes.count, offset + piece)]))
                offset += piece
            }
            continuation.finish()
        }
    }

    /// Multipart uploads still open in the bucket (ListMultipartUploads).
    static func openUploads(_ store: S3BlobStore) async throws -> [String] {
        let response = try await store.client.send(store.request("GET", key: nil, query: [("uploads", nil)]), service: .s3, operation: "ListMultipartUploads")
        return try XMLNode.parse(response.body, what: "ListMultipartUploads").all("Upload").compactMap { $0.string("UploadId") }
    }

    @Test(arguments: Emulator.allCases)
    func largeObjectsGoUpInParts(_ emulator: Emulator) async throws {
        try await emulator.run { endpoint in
            let store = try await S3BlobStore(client: Emulator.client(endpoint: endpoint), configuration: Self.multipart)
            let bytes = Self.pattern(12 * 1024 * 1024 + 123)
            let meta = try await store.put("big/video.mp4", chunks: Self.chunks(bytes, piece: 700_001), contentType: nil)
            #expect(meta.size == Int64(bytes.count))
            // S3 marks multipart ETags with the part count: 12 MiB + 123 bytes in 5 MiB parts is 3.
            #expect(meta.etag.hasSuffix("-3"), "\(meta.etag)")
            #expect(try await store.get("big/video.mp4") == bytes)
            // A whole read comes in ranged GETs of a part each: exact multiples, one byte over,
            // and an empty object (which has no byte 0 for a range to name).
            for size in [10 << 20, (5 << 20) + 1, 1, 0] {
                let object = Self.pattern(size)
                _ = try await store.put("big/\(size).bin", bytes: object)
                #expect(try await store.get("big/\(size).bin") == object, "size \(size)")
            }
            #expect(try await store.metadata("big/video.mp4")?.contentType == "video/mp4")
            let tail = try await store.get("big/video.mp4", range: Int64(bytes.count - 10)..<Int64(bytes.count + 50))
            #expect(tail == Array(bytes.suffix(10)))
            #expect(try await Self.openUploads(store).isEmpty)
            // At the threshold exactly, one PUT (no part count in the ETag).
            let single = try await store.put("big/exact.bin", chunks: Self.chunks(Self.pattern(5 << 20), piece: 1 << 20), contentType: nil)
            #expect(!single.etag.contains("-"))
        }
    }

    @Test(arguments: Emulator.allCases)
    func aFailedMultipartUploadIsAbortedAndStoresNothing(_ emulator: Emulator) async throws {
        try await emulator.run { endpoint in
            let store = try await S3BlobStore(client: Emulator.client(endpoint: endpoint), configuration: Self.multipart)
            let bytes = Self.pattern(14 << 20)
            await #expect(throws: VideoStackError.self) {
                try await store.put("big/broken.bin", chunks: Self.chunks(bytes, piece: 1 << 20, failAfter: 11 << 20), contentType: nil)
            }
            #expect(try await store.metadata("big/broken.bin") == nil)
            #expect(try await Self.openUploads(store).isEmpty, "the multipart upload was left open")
            // A cancelled upload is aborted too.
            let task = Task {
                let endless = AsyncStream<[UInt8]> { continuation in
                    for _ in 0..<40 { continuation.yield([UInt8](repeating: 9, count: 1 << 20)) }
                    // never finishes: only cancellation ends the put
                }
                return try await store.put("big/cancelled.bin", chunks: endless, contentType: nil)
            }
            // Cancel once the upload exists, so the abort path is the one exercised.
            while try await Self.openUploads(store).isEmpty { try await Task.sleep(for: .milliseconds(20)) }
            task.cancel()
            let result = await task.result
            #expect(throws: VideoStackError.self) { try result.get() }
            #expect(try await Self.openUploads(store).isEmpty)
            #expect(try await store.metadata("big/cancelled.bin") == nil)
        }
    }

    @Test(arguments: Emulator.allCases)
    func presignedURLsWorkWithAPlainHTTPClient(_ emulator: Emulator) async throws {
        try await emulator.run { endpoint in
            let store = try await S3BlobStore(client: Emulator.client(endpoint: endpoint), configuration: Self.multipart)
            let key = "shared/my clip+ünï.m3u8"
            try await store.put(key, string: "#EXTM3U\n#EXT-X-VERSION:7\n")
            let url = try await store.presignedURL(for: key, expires: .seconds(600))
            let query = URLComponents(url: url, resolvingAgainstBaseURL: false)?.queryItems ?? []
            #expect(query.first { $0.name == "X-Amz-Expires" }?.value == "600")
            #expect(query.first { $0.name == "X-Amz-Signature" }?.value?.count == 64)
            // curl, a client that knows nothing of AWS, fetches it as is.
            let output = try await runProcess("curl", ["-sS", "--fail", url.absoluteString])
            #expect(output.status == 0, "\(output.stderrText)")
            #expect(String(decoding: output.stdout, as: UTF8.self) == "#EXTM3U\n#EXT-X-VERSION:7\n")
            await #expect(throws: VideoStackError.self) { try await store.presignedURL(for: key, expires: .seconds(700_000)) }
            await #expect(throws: VideoStackError.self) { try await store.presignedURL(for: "../x", expires: .seconds(60)) }
        }
    }

    @Test func virtualHostedAddressingNamesTheBucketInTheHost() async throws {
        // moto reads the bucket from an amazonaws.com host name; the client connects to it on
        // 127.0.0.1 while signing for the name, as a DNS entry would.
        try await Emulator.moto.run { endpoint in
            let port = endpoint.port!
            let awsLike = URL(string: "http://s3.eu-west-1.amazonaws.com:\(port)")!
            let client = AWSClient(configuration: AWSConfiguration(region: Emulator.region, credentials: Emulator.credentials, endpoint: awsLike),
                                   hostAddresses: ["vhost-test.s3.eu-west-1.amazonaws.com": "127.0.0.1", "s3.eu-west-1.amazonaws.com": "127.0.0.1"],
                                   logger: Logger(label: "test"))
            let virtual = try await S3BlobStore(client: client, configuration: S3BlobStoreConfiguration(bucket: "vhost-test", addressing: .virtualHosted, createsBucket: true))
            #expect(virtual.request("GET", key: "a/b").host == "vhost-test.s3.eu-west-1.amazonaws.com")
            #expect(virtual.request("GET", key: "a/b").path == "/a/b")
            try await virtual.put("a/b c.txt", string: "virtual")
            // The same object through path-style addressing on the plain endpoint.
            let path = try await S3BlobStore(client: Emulator.client(endpoint: endpoint), configuration: S3BlobStoreConfiguration(bucket: "vhost-test", addressing: .path))
            #expect(path.request("GET", key: "a/b").path == "/vhost-test/a/b")
            #expect(try await path.get("a/b c.txt") == Array("virtual".utf8))
            #expect(try await virtual.listAll(prefix: "a/").map(\.key) == ["a/b c.txt"])
            // Automatic addressing: virtual on AWS's hosts, path style elsewhere.
            #expect(try await S3BlobStore(client: client, configuration: S3BlobStoreConfiguration(bucket: "vhost-test")).usesVirtualHost)
            #expect(try await !S3BlobStore(client: Emulator.client(endpoint: endpoint), configuration: S3BlobStoreConfiguration(bucket: "vhost-test")).usesVirtualHost)
        }
    }

    @Test func ministackChecksPresignedSignatures() async throws {
        // ministack verifies the SigV4 signature of presigned S3 URLs against its own credentials:
        // ours passes (presignedURLsWorkWithAPlainHTTPClient), one made with a wrong secret fails.
        try await Emulator.ministack.run { endpoint in
            let store = try await S3BlobStore(client: Emulator.client(endpoint: endpoint), configuration: S3BlobStoreConfiguration(bucket: "signed-test", addressing: .path, createsBucket: true))
            try await store.put("a b/ü.txt", string: "signed")
            let wrong = AWSClient(configuration: AWSConfiguration(region: Emulator.region, credentials: AWSCredentials(accessKeyID: Emulator.credentials.accessKeyID, secretAccessKey: "not-the-secret"), endpoint: endpoint),
                                  logger: Logger(label: "test"))
            let forged = try await S3BlobStore(client: wrong, configuration: S3BlobStoreConfiguration(bucket: "signed-test", addressing: .path))
            let refused = try await runProcess("curl", ["-sS", "-o", "/dev/null", "-w", "%{http_code}", try await forged.presignedURL(for: "a b/ü.txt").absoluteString])
            #expect(String(decoding: refused.stdout, as: UTF8.self) == "403")
            let accepted = try await runProcess("curl", ["-sS", try await store.presignedURL(for: "a b/ü.txt").absoluteString])
            #expect(String(decoding: accepted.stdout, as: UTF8.self) == "signed")
        }
    }

    @Test(arguments: Emulator.allCases)
    func bucketsAreCheckedOrCreated(_ emulator: Emulator) async throws {
        try await emulator.run { endpoint in
            let client = Emulator.client(endpoint: endpoint)
            let missing = await #expect(throws: VideoStackError.self) {
                try await S3BlobStore(client: client, configuration: S3BlobStoreConfiguration(bucket: "no-such-bucket", addressing: .path))
            }
            #expect(missing?.code == .notFound)
            // Created once, then found by a second store (and by a second create).
            _ = try await S3BlobStore(client: client, configuration: S3BlobStoreConfiguration(bucket: "made-here", addressing: .path, createsBucket: true))
            _ = try await S3BlobStore(client: client, configuration: S3BlobStoreConfiguration(bucket: "made-here", addressing: .path, createsBucket: true))
            _ = try await S3BlobStore(client: client, configuration: S3BlobStoreConfiguration(bucket: "made-here", addressing: .path))
            for bad in ["UPPER", "ab", "-dash", "a..b", "under_score", String(repeating: "a", count: 64)] {
                let error = await #expect(throws: VideoStackError.self) { try await S3BlobStore(client: client, configuration: S3BlobStoreConfiguration(bucket: bad)) }
                #expect(error?.code == .invalidInput, "\(bad)")
            }
            let small = await #expect(throws: VideoStackError.self) {
                try await S3BlobStore(client: client, configuration: S3BlobStoreConfiguration(bucket: "made-here", partSize: 1 << 20))
            }
            #expect(small?.code == .invalidInput)
        }
    }
}
