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

    // What every blob store does is checked by BlobStoreConformanceTests (on this store and on
    // S3); these tests check what only the file store can show: the files on disk.

    @Test func deletesRemoveEmptiedDirectoriesAndNoTemporaryFilesAreLeft() async throws {
        try await withStore { store, root in
            try await store.put("videos/v1/720p/seg_00001.m4s", bytes: [UInt8](repeating: 7, count: 100_000))
            try await store.put("videos/v1/master.m3u8", string: "#EXTM3U\n")
            try await store.delete("videos/v1/720p/seg_00001.m4s")
            #expect(!FileManager.default.fileExists(atPath: root.appendingPathComponent("videos/v1/720p").path))
            #expect(FileManager.default.fileExists(atPath: root.appendingPathComponent("videos/v1/master.m3u8").path))
            // A put whose source fails leaves no temporary file; temporary files never show in listings.
            struct Broken: Error {}
            let chunks = AsyncThrowingStream<[UInt8], any Error> { continuation in
                continuation.yield([1, 2, 3])
                continuation.finish(throwing: Broken())
            }
            await #expect(throws: Broken.self) { try await store.put("up/partial", chunks: chunks, contentType: nil) }
            #expect(try FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent(".videostack-tmp").path).isEmpty)
            #expect(try await store.listAll(prefix: "").map(\.key) == ["videos/v1/master.m3u8"])
        }
    }

    @Test func hostileKeysNeverReachOutsideTheRoot() async throws {
        try await withStore { store, root in
            for key in ["../escape", "a/../../escape", "/etc/passwd"] {
                #expect(await catchCode { try await store.put(key, string: "x") } == .invalidInput)
            }
            #expect(!FileManager.default.fileExists(atPath: root.deletingLastPathComponent().appendingPathComponent("escape").path))
            let entries = try FileManager.default.contentsOfDirectory(atPath: root.path)
            #expect(entries.allSatisfy { $0 == ".videostack-tmp" }, "\(entries)")
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
