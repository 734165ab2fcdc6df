import Foundation
import Testing
import TestSupport
import VideoCore

/// The blob-store behaviour every backend shares, written once against ``BlobStore``. This file
/// runs here on `FileBlobStore` and is linked into VideoStackAWSTests, where it runs on S3 on two
/// independent emulators; each target's `BlobBackend` says which stores it opens.
@Suite("BlobStore conformance")
struct BlobStoreConformanceTests {
    @Test(arguments: BlobBackend.allCases)
    func putGetRangeListDelete(_ backend: BlobBackend) async throws {
        try await backend.withStore { store in
            let bytes = (0..<100_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
            let meta = try await store.put("videos/v1/720p/seg_00001.m4s", bytes: bytes)
            #expect(meta.size == 100_000)
            #expect(meta.contentType == "video/iso.segment")
            #expect(!meta.etag.isEmpty)
            #expect(try await store.get("videos/v1/720p/seg_00001.m4s") == bytes)
            #expect(try await store.get("videos/v1/720p/seg_00001.m4s", range: 10..<20) == Array(bytes[10..<20]))
            // A range past the end is clamped; one starting past the end is an error.
            #expect(try await store.get("videos/v1/720p/seg_00001.m4s", range: 99_990..<200_000) == Array(bytes[99_990...]))
            #expect(await catchCode { try await store.get("videos/v1/720p/seg_00001.m4s", range: 100_000..<100_001) } == .outOfRange)
            #expect(await catchCode { try await store.get("videos/v1/720p/seg_00001.m4s", range: 5..<5) } == .outOfRange)

            var streamed: [UInt8] = []
            for try await chunk in try await store.read("videos/v1/720p/seg_00001.m4s", range: 1000..<90_000, chunkSize: 4096) {
                #expect(chunk.count <= 4096)
                streamed += chunk
            }
            #expect(streamed == Array(bytes[1000..<90_000]))
            var whole: [UInt8] = []
            for try await chunk in try await store.read("videos/v1/720p/seg_00001.m4s", range: nil, chunkSize: 10_000) { whole += chunk }
            #expect(whole == bytes)
            #expect(await catchCode { try await store.read("videos/v1/720p/seg_00001.m4s", range: 200_000..<200_010, chunkSize: 4096) } == .outOfRange)
            #expect(await catchCode { try await store.read("videos/missing", range: nil, chunkSize: 4096) } == .notFound)

            let stored = try #require(try await store.metadata("videos/v1/720p/seg_00001.m4s"))
            #expect(stored.size == 100_000 && stored.etag == meta.etag)

            try await store.put("videos/v1/master.m3u8", string: "#EXTM3U\n")
            try await store.put("videos/v2/master.m3u8", string: "#EXTM3U\n")
            try await store.put("other/x", string: "x")
            let listed = try await store.listAll(prefix: "videos/v1/")
            #expect(listed.map(\.key) == ["videos/v1/720p/seg_00001.m4s", "videos/v1/master.m3u8"])
            #expect(listed.map(\.size) == [100_000, 8])
            #expect(listed.last?.contentType == "application/vnd.apple.mpegurl")
            let page = try await store.list(prefix: "videos/", after: nil, limit: 2)
            #expect(page.objects.count == 2 && page.nextAfter == "videos/v1/master.m3u8")
            let rest = try await store.list(prefix: "videos/", after: page.nextAfter, limit: 2)
            #expect(rest.objects.map(\.key) == ["videos/v2/master.m3u8"] && rest.nextAfter == nil)
            // Exactly `limit` objects left: no next page.
            #expect(try await store.list(prefix: "videos/", after: page.nextAfter, limit: 1).nextAfter == nil)
            #expect(await catchCode { try await store.list(prefix: "", after: nil, limit: 0) } == .invalidInput)

            try await store.delete("videos/v1/720p/seg_00001.m4s")
            #expect(try await store.metadata("videos/v1/720p/seg_00001.m4s") == nil)
            #expect(await catchCode { try await store.get("videos/v1/720p/seg_00001.m4s") } == .notFound)
            #expect(await catchCode { try await store.get("videos/v1/720p/seg_00001.m4s", range: 0..<10) } == .notFound)
            // Deleting again is fine.
            try await store.delete("videos/v1/720p/seg_00001.m4s")
            #expect(try await store.listAll(prefix: "").count == 3)
        }
    }

    @Test(arguments: BlobBackend.allCases)
    func listingPagesInUTF8Order(_ backend: BlobBackend) async throws {
        try await backend.withStore { store in
            // Byte order, not Unicode collation: 'Z' < 'a' < 'é'; more objects than one page.
            let keys = (0..<25).map { String(format: "p/%03d", $0) } + ["p/Z", "p/a", "p/é", "p/日本"]
            for key in keys.shuffled() { try await store.put(key, string: key) }
            var seen: [String] = []
            var after: String?
            repeat {
                let page = try await store.list(prefix: "p/", after: after, limit: 7)
                #expect(page.objects.count <= 7)
                seen += page.objects.map(\.key)
                after = page.nextAfter
            } while after != nil
            #expect(seen == keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) })
        }
    }

    @Test(arguments: BlobBackend.allCases)
    func replacingChangesTheETagAndIsAtomic(_ backend: BlobBackend) async throws {
        try await backend.withStore { store in
            let first = try await store.put("a/file.bin", bytes: [UInt8](repeating: 1, count: 1 << 20))
            // Readers racing a replacement see the old or the new object, never a mix.
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    for i in 0..<8 { try await store.put("a/file.bin", bytes: [UInt8](repeating: UInt8(2 + i % 2), count: 1 << 20)) }
                }
                group.addTask {
                    for _ in 0..<16 {
                        let read = try await store.get("a/file.bin")
                        #expect(read.count == 1 << 20)
                        #expect(Set(read).count == 1, "saw a torn write")
                    }
                }
                try await group.waitForAll()
            }
            let second = try #require(try await store.metadata("a/file.bin"))
            #expect(second.etag != first.etag)
        }
    }

    @Test(arguments: BlobBackend.allCases)
    func hostileKeysAreRejected(_ backend: BlobBackend) async throws {
        try await backend.withStore { store in
            let hostile = ["", "/etc/passwd", "../escape", "a/../../escape", "a/./b", "a//b", "a/", "nul\u{0}byte", "back\\slash",
                           "ctrl\u{7}", ".videostack-tmp/x", String(repeating: "k", count: 1025), "..", "."]
            for key in hostile {
                #expect(await catchCode { try await store.put(key, string: "x") } == .invalidInput, "accepted \(key.debugDescription)")
                #expect(await catchCode { try await store.get(key) } == .invalidInput)
                #expect(await catchCode { try await store.delete(key) } == .invalidInput)
                #expect(await catchCode { try await store.metadata(key) } == .invalidInput)
            }
            #expect(try await store.listAll(prefix: "").isEmpty)
            // Unicode keys and characters S3 treats specially are fine.
            for key in ["vidéos/日本/ok.txt", "a b/c+d=e&f?g#h%i.txt", "emoji/🎬.mp4", "~tilde/!$'()*,;@[]"] {
                try await store.put(key, string: "ok")
                #expect(try await store.get(key) == Array("ok".utf8), "\(key)")
                #expect(try await store.metadata(key)?.size == 2)
            }
            #expect(try await store.listAll(prefix: "a b/").map(\.key) == ["a b/c+d=e&f?g#h%i.txt"])
            // An object where a directory is needed: a conflict for files; S3 has no directories.
            let nested = await catchCode { try await store.put("vidéos/日本/ok.txt/child", string: "x") }
            #expect(nested == (backend.isS3 ? nil : .conflict))
        }
    }

    @Test(arguments: BlobBackend.allCases)
    func failedOrEmptyUploadsLeaveNothingBehind(_ backend: BlobBackend) async throws {
        try await backend.withStore { store in
            struct Broken: Error {}
            let chunks = AsyncThrowingStream<[UInt8], any Error> { continuation in
                continuation.yield([1, 2, 3])
                continuation.finish(throwing: Broken())
            }
            await #expect(throws: Broken.self) { try await store.put("up/partial", chunks: chunks, contentType: nil) }
            #expect(try await store.metadata("up/partial") == nil)
            // An empty object is a real, zero-byte object.
            try await store.put("up/empty", bytes: [])
            #expect(try await store.metadata("up/empty")?.size == 0)
            #expect(try await store.get("up/empty") == [])
            #expect(await catchCode { try await store.get("up/empty", range: 0..<1) } == .outOfRange)
            var chunks2 = 0
            for try await _ in try await store.read("up/empty", range: nil, chunkSize: 4096) { chunks2 += 1 }
            #expect(chunks2 == 0)
            // Many small chunks make one object.
            let pieces = AsyncStream<[UInt8]> { continuation in
                for i in 0..<100 { continuation.yield([UInt8(i)]) }
                continuation.finish()
            }
            let meta = try await store.put("up/pieces", chunks: pieces, contentType: "application/x-test")
            #expect(meta.size == 100)
            #expect(try await store.get("up/pieces") == (0..<100).map(UInt8.init))
            if backend.isS3 { #expect(try await store.metadata("up/pieces")?.contentType == "application/x-test") }
        }
    }

    func catchCode<T>(_ body: () async throws -> T) async -> VideoStackError.Code? {
        do {
            _ = try await body()
            return nil
        } catch let error as VideoStackError {
            #expect(!error.message.isEmpty)
            return error.code
        } catch {
            Issue.record("not a VideoStackError: \(error)")
            return nil
        }
    }
}
