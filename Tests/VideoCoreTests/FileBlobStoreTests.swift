import Foundation
import Logging
import Testing
import TestSupport
import VideoCore

@Suite struct FileBlobStoreTests {
    let logger: Logger = {
        var logger = Logger(label: "FileBlobStoreTests")
        logger.logLevel = .warning
        return logger
    }()

    func withStore<T>(_ body: (FileBlobStore, URL) async throws -> T) async throws -> T {
        try await withTemporaryDirectory(prefix: "blobs") { root in
            try await body(try FileBlobStore(root: root, logger: logger), root)
        }
    }

    @Test func putGetRangeListDelete() async throws {
        try await withStore { store, root in
            let bytes = (0..<100_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
            let meta = try await store.put("videos/v1/720p/seg_00001.m4s", bytes: bytes)
            #expect(meta.size == 100_000)
            #expect(meta.contentType == "video/iso.segment")
            #expect(try await store.get("videos/v1/720p/seg_00001.m4s") == bytes)
            #expect(try await store.get("videos/v1/720p/seg_00001.m4s", range: 10..<20) == Array(bytes[10..<20]))
            // A range past the end is clamped; one starting past the end is an error.
            #expect(try await store.get("videos/v1/720p/seg_00001.m4s", range: 99_990..<200_000) == Array(bytes[99_990...]))
            let outOfRange = await catchCode { try await store.get("videos/v1/720p/seg_00001.m4s", range: 100_000..<100_001) }
            #expect(outOfRange == .outOfRange)

            var streamed: [UInt8] = []
            for try await chunk in try await store.read("videos/v1/720p/seg_00001.m4s", range: 1000..<90_000, chunkSize: 4096) {
                #expect(chunk.count <= 4096)
                streamed += chunk
            }
            #expect(streamed == Array(bytes[1000..<90_000]))

            try await store.put("videos/v1/master.m3u8", string: "#EXTM3U\n")
            try await store.put("videos/v2/master.m3u8", string: "#EXTM3U\n")
            try await store.put("other/x", string: "x")
            let listed = try await store.listAll(prefix: "videos/v1/").map(\.key)
            #expect(listed == ["videos/v1/720p/seg_00001.m4s", "videos/v1/master.m3u8"])
            let page = try await store.list(prefix: "videos/", after: nil, limit: 2)
            #expect(page.objects.count == 2 && page.nextAfter == "videos/v1/master.m3u8")
            let rest = try await store.list(prefix: "videos/", after: page.nextAfter, limit: 2)
            #expect(rest.objects.map(\.key) == ["videos/v2/master.m3u8"] && rest.nextAfter == nil)

            try await store.delete("videos/v1/720p/seg_00001.m4s")
            #expect(try await store.metadata("videos/v1/720p/seg_00001.m4s") == nil)
            #expect(await catchCode { try await store.get("videos/v1/720p/seg_00001.m4s") } == .notFound)
            // The emptied directory is gone; deleting again is fine.
            #expect(!FileManager.default.fileExists(atPath: root.appendingPathComponent("videos/v1/720p").path))
            try await store.delete("videos/v1/720p/seg_00001.m4s")
            // No temporary files are left behind, and they never show up in listings.
            #expect(try FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent(".videostack-tmp").path).isEmpty)
            #expect(try await store.listAll(prefix: "").count == 3)
        }
    }

    @Test func replacingChangesTheETagAndIsAtomic() async throws {
        try await withStore { store, _ in
            let first = try await store.put("a/file.bin", bytes: [UInt8](repeating: 1, count: 1 << 20))
            // Readers racing a replacement see the old or the new object, never a mix.
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    for i in 0..<20 { try await store.put("a/file.bin", bytes: [UInt8](repeating: UInt8(2 + i % 2), count: 1 << 20)) }
                }
                group.addTask {
                    for _ in 0..<60 {
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

    @Test func hostileKeysAreRejected() async throws {
        try await withStore { store, root in
            let hostile = ["", "/etc/passwd", "../escape", "a/../../escape", "a/./b", "a//b", "a/", "nul\u{0}byte", "back\\slash",
                           "ctrl\u{7}", ".videostack-tmp/x", String(repeating: "k", count: 1025), "..", "."]
            for key in hostile {
                #expect(await catchCode { try await store.put(key, string: "x") } == .invalidInput, "accepted \(key.debugDescription)")
                #expect(await catchCode { try await store.get(key) } == .invalidInput)
                #expect(await catchCode { try await store.delete(key) } == .invalidInput)
            }
            #expect(!FileManager.default.fileExists(atPath: root.deletingLastPathComponent().appendingPathComponent("escape").path))
            // Unicode keys are fine.
            try await store.put("vidéos/日本/ok.txt", string: "ok")
            #expect(try await store.get("vidéos/日本/ok.txt") == Array("ok".utf8))
            // An object where a directory is needed is a conflict, not a crash.
            #expect(await catchCode { try await store.put("vidéos/日本/ok.txt/child", string: "x") } == .conflict)
        }
    }

    @Test func failedOrEmptyUploadsLeaveNothingBehind() async throws {
        try await withStore { store, root in
            struct Broken: Error {}
            let chunks = AsyncThrowingStream<[UInt8], any Error> { continuation in
                continuation.yield([1, 2, 3])
                continuation.finish(throwing: Broken())
            }
            await #expect(throws: Broken.self) { try await store.put("up/partial", chunks: chunks, contentType: nil) }
            #expect(try await store.metadata("up/partial") == nil)
            #expect(try FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent(".videostack-tmp").path).isEmpty)
            // An empty object is a real, zero-byte object.
            try await store.put("up/empty", bytes: [])
            #expect(try await store.metadata("up/empty")?.size == 0)
            #expect(try await store.get("up/empty") == [])
        }
    }

    @Test func failedSystemCallsNameTheCallAndErrno() async throws {
        try await withStore { store, root in
            try await store.put("media/real.txt", string: "real")
            // A symbolic link where an object is asked for: the store never follows one.
            try FileManager.default.createSymbolicLink(atPath: root.appendingPathComponent("media/link.txt").path,
                                                       withDestinationPath: root.appendingPathComponent("media/real.txt").path)
            do {
                _ = try await store.get("media/link.txt")
                Issue.record("read an object through a symbolic link")
            } catch let error as VideoStackError {
                #expect(error.code == .io)
                let failure = try #require(error.cause as? SystemCallError, "\(error)")
                #expect(failure.systemCall == "open" && failure.errno.rawValue == ELOOP)
                #expect(error.message.contains(failure.errno.description))
            }
            // A directory where the object should be: the final rename fails, and says so.
            try FileManager.default.createDirectory(at: root.appendingPathComponent("media/taken/inner"), withIntermediateDirectories: true)
            do {
                try await store.put("media/taken", string: "x")
                Issue.record("replaced a directory with an object")
            } catch let error as VideoStackError {
                let failure = try #require(error.cause as? SystemCallError, "\(error)")
                #expect(failure.systemCall == "rename" && [EISDIR, ENOTEMPTY, EEXIST].contains(failure.errno.rawValue))
            }
            #expect(try FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent(".videostack-tmp").path).isEmpty)
        }
    }

    @Test func openingRemovesTemporaryFilesOfInterruptedPuts() async throws {
        try await withTemporaryDirectory(prefix: "blobs") { root in
            let temporary = root.appendingPathComponent(".videostack-tmp")
            try FileManager.default.createDirectory(at: temporary, withIntermediateDirectories: true)
            let abandoned = temporary.appendingPathComponent("put-abandoned")
            let recent = temporary.appendingPathComponent("put-recent")
            try Data(repeating: 1, count: 100).write(to: abandoned)
            try Data(repeating: 2, count: 100).write(to: recent)
            // Last written two days ago, as a put a crash interrupted would be.
            try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSinceNow: -2 * 24 * 3600)], ofItemAtPath: abandoned.path)
            let store = try FileBlobStore(root: root, configuration: .init(abandonedWriteAge: .seconds(24 * 3600)), logger: logger)
            #expect(!FileManager.default.fileExists(atPath: abandoned.path))
            // A recent one may be another store's put in progress: it stays.
            #expect(FileManager.default.fileExists(atPath: recent.path))
            #expect(try await store.listAll(prefix: "").isEmpty)
        }
    }

    @Test func theRootMustBeADirectoryGivenByAFileURL() async throws {
        try await withTemporaryDirectory(prefix: "blobs") { root in
            #expect(catchCode { try FileBlobStore(root: URL(string: "s3://bucket/videos")!, logger: logger) } == .invalidInput)
            let file = root.appendingPathComponent("file")
            try Data([1]).write(to: file)
            #expect(catchCode { try FileBlobStore(root: file, logger: logger) } == .conflict)
            // A root whose parents are missing is made, parents and all; a link to a directory is fine.
            let nested = root.appendingPathComponent("a/b/c")
            _ = try FileBlobStore(root: nested, logger: logger)
            try FileManager.default.createSymbolicLink(at: root.appendingPathComponent("link"), withDestinationURL: nested)
            let linked = try FileBlobStore(root: root.appendingPathComponent("link"), logger: logger)
            try await linked.put("x.txt", string: "x")
            #expect(FileManager.default.fileExists(atPath: nested.appendingPathComponent("x.txt").path))
        }
    }

    @Test func mimeTypesFollowTheExtension() {
        #expect(BlobMetadata.mimeType(forKey: "videos/a/master.m3u8") == "application/vnd.apple.mpegurl")
        #expect(BlobMetadata.mimeType(forKey: "videos/a/720p/seg_00001.M4S") == "video/iso.segment")
        #expect(BlobMetadata.mimeType(forKey: "videos/a.b/README") == "application/octet-stream")
    }

    func catchCode<T>(_ body: () throws -> T) -> VideoStackError.Code? {
        do {
            _ = try body()
            return nil
        } catch let error as VideoStackError {
            #expect(!error.message.isEmpty)
            return error.code
        } catch {
            return nil
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
            return nil
        }
    }
}
