import Foundation
import SingleTableStore
import Testing
import TestSupport
import VideoCore
import VideoPlatform

@Suite("Uploads")
struct UploadTests: UploadTestCase {
    // MARK: Core: offsets, resuming, completion

    @Test func interruptedAndResumedUploadIsByteIdentical() async throws {
        try await UploadFixture.with { fixture in
            let service = try fixture.service()
            let source = randomBytes(3_000_000 + 12_345, seed: 7)
            var generator = SeededGenerator(seed: 42)
            let upload = try await service.create(owner: "ada", length: Int64(source.count), metadata: ["filename": "talk.mp4"], attachment: "video-1")
            #expect(upload.offset == 0 && upload.length == Int64(source.count) && upload.state == .receiving)
            #expect(try fixture.files() == ["\(upload.id).upload"])

            var offset: Int64 = 0
            var patches = 0
            while offset < Int64(source.count) {
                let size = min(1 + generator.below(400_000), source.count - Int(offset))
                let chunk = Array(source[Int(offset)..<Int(offset) + size])
                if patches % 4 == 1 {
                    // The connection drops part way: what arrived is kept and acknowledged.
                    let arrived = Array(chunk.prefix(max(1, size / 2)))
                    do {
                        _ = try await service.append(upload.id, at: offset, body: droppedBody(arrived))
                        Issue.record("a failing body did not fail the PATCH")
                    } catch let error as VideoStackError {
                        #expect(error.code == .io && error.message.contains("kept"))
                    }
                    let resumed = try await service.status(upload.id).offset
                    #expect(resumed == offset + Int64(arrived.count))
                    #expect(fixture.staged(upload.id).count == Int(resumed))
                    offset = resumed
                } else {
                    let pieces = (0..<generator.below(6)).map { _ in 1 + generator.below(70_000) }
                    let info = try await service.append(upload.id, at: offset, body: uploadBody(chunk, pieces: pieces))
                    #expect(info.offset == offset + Int64(size))
                    offset = info.offset
                }
                patches += 1
            }
            #expect(patches > 8)
            let deliveries = fixture.handler.deliveries
            #expect(deliveries.count == 1)
            let delivered = try #require(deliveries.first)
            #expect(digest(delivered.bytes) == digest(source))
            #expect(delivered.upload.id == upload.id && delivered.upload.owner == "ada" && delivered.upload.attachment == "video-1")
            #expect(delivered.upload.metadata == ["filename": "talk.mp4"] && delivered.upload.length == Int64(source.count) && delivered.upload.attempt == 1)
            let finished = try await service.status(upload.id)
            #expect(finished.state == .finished && finished.offset == Int64(source.count))
            // Handed over: the staging file is gone.
            #expect(try fixture.files().isEmpty)
            // A repeat of the last (empty) PATCH, as a client that lost the response sends it.
            #expect(try await service.append(upload.id, at: finished.offset, body: uploadBody([])).state == .finished)
            #expect(await errorCode { try await service.append(upload.id, at: 0, body: uploadBody([1])) } == .conflict)
            #expect(fixture.handler.deliveries.count == 1)
        }
    }

    @Test func offsetMismatchIsAConflictAndChangesNothing() async throws {
        try await UploadFixture.with { fixture in
            let service = try fixture.service()
            let upload = try await service.create(owner: "ada", length: 100)
            _ = try await service.append(upload.id, at: 0, body: uploadBody([UInt8](repeating: 1, count: 40)))
            for wrong: Int64 in [0, 39, 41, 100, Int64.max] {
                do {
                    _ = try await service.append(upload.id, at: wrong, body: uploadBody([UInt8](repeating: 2, count: 10)))
                    Issue.record("offset \(wrong) accepted")
                } catch let error as VideoStackError {
                    #expect(error.code == .conflict && error.message.contains("at 40"))
                }
            }
            #expect(try await service.status(upload.id).offset == 40)
            #expect(digest(fixture.staged(upload.id)) == digest([UInt8](repeating: 1, count: 40)))
        }
    }

    @Test func aSecondWriterIsRefusedNotInterleaved() async throws {
        try await UploadFixture.with { fixture in
            let service = try fixture.service()
            let upload = try await service.create(owner: "ada", length: 10_000)
            let (waiting, waitingContinuation) = AsyncStream.makeStream(of: Void.self)
            let (release, releaseContinuation) = AsyncStream.makeStream(of: Void.self)
            let first = [UInt8](repeating: 0xAA, count: 3000)
            let rest = [UInt8](repeating: 0xAB, count: 2000)
            let writer = Task {
                try await service.append(upload.id, at: 0, body: GatedUploadBody(first: first, rest: rest, waiting: waitingContinuation, release: release))
            }
            for await _ in waiting { break }
            // The first PATCH is half done and holds the upload: others are refused, at any offset.
            let intruder = [UInt8](repeating: 0xBB, count: 500)
            #expect(await errorCode { try await service.append(upload.id, at: 0, body: uploadBody(intruder)) } == .locked)
            #expect(await errorCode { try await service.append(upload.id, at: 3000, body: uploadBody(intruder)) } == .locked)
            // A second service instance (another server on the same directory) is refused too.
            let other = try fixture.service()
            #expect(await errorCode { try await other.append(upload.id, at: 0, body: uploadBody(intruder)) } == .locked)
            #expect(await errorCode { try await service.terminate(upload.id) } == .locked)
            releaseContinuation.yield()
            let info = try await writer.value
            #expect(info.offset == 5000)
            #expect(digest(fixture.staged(upload.id)) == digest(first + rest))
            // Once it is done, the next writer goes ahead.
            #expect(try await service.append(upload.id, at: 5000, body: uploadBody(intruder)).offset == 5500)
        }
    }

    @Test func zeroLengthUploadCompletesAtCreation() async throws {
        try await UploadFixture.with { fixture in
            let service = try fixture.service()
            let upload = try await service.create(owner: "ada", length: 0, attachment: "empty")
            #expect(upload.state == .finished && upload.isComplete)
            #expect(fixture.handler.deliveries.map(\.bytes) == [[]])
            #expect(try fixture.files().isEmpty)
        }
    }

    @Test func creationWithUploadKeepsTheUploadWhenTheChunkFails() async throws {
        try await UploadFixture.with { fixture in
            let service = try fixture.service()
            let bytes = randomBytes(10_000, seed: 3)
            let good = try await service.create(owner: "ada", length: 20_000, checksum: .sha256(of: bytes.prefix(4000)),
                                                initialChunk: uploadBody(bytes.prefix(4000), pieces: [1000, 1000]))
            #expect(good.chunkError == nil && good.upload.offset == 4000)

            let bad = try await service.create(owner: "ada", length: 20_000, checksum: .sha256(of: bytes.prefix(4000)),
                                               initialChunk: uploadBody(bytes.suffix(4000)))
            #expect(bad.chunkError?.code == .checksumMismatch)
            #expect(bad.upload.offset == 0 && bad.upload.state == .receiving)
            #expect(fixture.staged(bad.upload.id).isEmpty)
            // It resumes as any upload does.
            #expect(try await service.append(bad.upload.id, at: 0, body: uploadBody(bytes.prefix(100))).offset == 100)
        }
    }

    // MARK: Checksums

    @Test func checksumGoodAdvancesBadDiscardsTheChunk() async throws {
        try await UploadFixture.with { fixture in
            let service = try fixture.service()
            let source = randomBytes(300_000, seed: 11)
            let upload = try await service.create(owner: "ada", length: Int64(source.count))
            let first = Array(source[0..<100_000])
            let info = try await service.append(upload.id, at: 0, checksum: .sha256(of: first), body: uploadBody(first, pieces: [30_000, 30_000]))
            #expect(info.offset == 100_000)

            // Right bytes, wrong digest (or wrong bytes, right digest): discarded whole.
            let second = Array(source[100_000..<200_000])
            var corrupted = second
            corrupted[54_321] ^= 0x01
            for (body, checksum) in [(corrupted, UploadChecksum.sha256(of: second)), (second, UploadChecksum.sha256(of: corrupted))] {
                do {
                    _ = try await service.append(upload.id, at: 100_000, checksum: checksum, body: uploadBody(body, pieces: [10_000]))
                    Issue.record("a chunk with a wrong checksum was accepted")
                } catch let error as VideoStackError {
                    #expect(error.code == .checksumMismatch && error.message.contains("100000"))
                }
                #expect(try await service.status(upload.id).offset == 100_000)
                #expect(digest(fixture.staged(upload.id)) == digest(first))
            }
            // A dropped connection under a checksum keeps nothing of the chunk.
            #expect(await errorCode { try await service.append(upload.id, at: 100_000, checksum: .sha256(of: second), body: droppedBody(Array(second.prefix(50_000)))) } == .io)
            #expect(try await service.status(upload.id).offset == 100_000)
            #expect(digest(fixture.staged(upload.id)) == digest(first))

            _ = try await service.append(upload.id, at: 100_000, checksum: .sha256(of: second), body: uploadBody(second))
            let last = Array(source[200_000...])
            #expect(try await service.append(upload.id, at: 200_000, checksum: .sha256(of: last), body: uploadBody(last)).state == .finished)
            #expect(fixture.handler.deliveries.map { digest($0.bytes) } == [digest(source)])
        }
    }

    @Test func checksumHeaderParsing() throws {
        let digest = UploadChecksum.sha256(of: Array("hello".utf8))
        #expect(try UploadChecksum(header: digest.header) == digest)
        #expect(try UploadChecksum(header: "SHA256 " + digest.header.split(separator: " ")[1]) == digest)
        #expect(digest.header == "sha256 LPJNul+wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ=")
        let hostile: [(String, VideoStackError.Code)] = [
            ("md5 XrY7u+Ae7tCTyyK7j1rNww==", .unsupported),
            ("crc32 AAAAAA==", .unsupported),
            ("sha256", .invalidInput),
            ("sha256 !!!notbase64!!!", .invalidInput),
            ("sha256 AAAA", .invalidInput),               // 3 bytes, not 32
            ("sha256 a b", .invalidInput),
            ("", .invalidInput),
            (String(repeating: "A", count: 100_000), .invalidInput),
        ]
        for (header, code) in hostile {
            #expect(throws: VideoStackError.self) { try UploadChecksum(header: header) }
            do { _ = try UploadChecksum(header: header) } catch let error as VideoStackError { #expect(error.code == code, "\(header.prefix(30))") }
        }
        #expect(UploadService.checksumAlgorithms == ["sha256"])
        #expect(UploadService.extensions.contains("checksum") && UploadService.extensions.contains("creation-defer-length"))
    }

    // MARK: Deferred length

    @Test func deferredLengthIsDeclaredByALaterPatch() async throws {
        try await UploadFixture.with { fixture in
            let service = try fixture.service(UploadConfiguration(deferredLengthReservation: 50_000))
            let source = randomBytes(180_000, seed: 5)
            let upload = try await service.create(owner: "ada", length: nil)
            #expect(upload.length == nil)
            var info = try await service.append(upload.id, at: 0, body: uploadBody(source[0..<120_000], pieces: [20_000, 70_000]))
            #expect(info.offset == 120_000 && info.length == nil && info.state == .receiving)
            // A length below what is stored, and a negative one, are refused.
            #expect(await errorCode { try await service.append(upload.id, at: 120_000, declaredLength: 100_000, body: uploadBody([])) } == .invalidInput)
            #expect(await errorCode { try await service.append(upload.id, at: 120_000, declaredLength: -1, body: uploadBody([])) } == .invalidInput)
            info = try await service.append(upload.id, at: 120_000, declaredLength: Int64(source.count), body: uploadBody(source[120_000..<150_000]))
            #expect(info.length == Int64(source.count) && info.offset == 150_000)
            // The length is set once.
            #expect(await errorCode { try await service.append(upload.id, at: 150_000, declaredLength: 200_000, body: uploadBody([])) } == .invalidInput)
            // Bytes past the length are refused whole.
            #expect(await errorCode { try await service.append(upload.id, at: 150_000, body: uploadBody(source[150_000...] + [1, 2, 3])) } == .limitExceeded)
            #expect(fixture.staged(upload.id).count == 150_000)
            info = try await service.append(upload.id, at: 150_000, declaredLength: Int64(source.count), body: uploadBody(source[150_000...]))
            #expect(info.state == .finished)
            #expect(fixture.handler.deliveries.map { digest($0.bytes) } == [digest(source)])
        }
    }

    @Test func deferredLengthUploadIsRefusedBeforeItPassesTheSizeLimit() async throws {
        try await UploadFixture.with { fixture in
            let service = try fixture.service(UploadConfiguration(maxUploadSize: 10_000, quota: nil))
            let upload = try await service.create(owner: "ada", length: nil)
            _ = try await service.append(upload.id, at: 0, body: uploadBody([UInt8](repeating: 7, count: 8000)))
            #expect(await errorCode { try await service.append(upload.id, at: 8000, body: uploadBody([UInt8](repeating: 8, count: 2001), pieces: [1000])) } == .limitExceeded)
            #expect(digest(fixture.staged(upload.id)) == digest([UInt8](repeating: 7, count: 8000)))
            #expect(await errorCode { try await service.append(upload.id, at: 8000, declaredLength: 10_001, body: uploadBody([])) } == .limitExceeded)
            #expect(try await service.append(upload.id, at: 8000, declaredLength: 10_000, body: uploadBody([UInt8](repeating: 8, count: 2000))).state == .finished)
        }
    }

    // MARK: Termination and expiry

    @Test func terminationRemovesTheUploadAndFreesItsPlace() async throws {
        try await UploadFixture.with { fixture in
            let service = try fixture.service(UploadConfiguration(quota: UploadQuota(bytes: 100_000, period: .seconds(3600)), maxActiveUploadsPerUser: 1))
            let upload = try await service.create(owner: "ada", length: 90_000)
            _ = try await service.append(upload.id, at: 0, body: uploadBody([UInt8](repeating: 1, count: 30_000)))
            #expect(await errorCode { try await service.create(owner: "ada", length: 10) } == .limitExceeded)
            try await service.terminate(upload.id)
            #expect(await errorCode { try await service.status(upload.id) } == .notFound)
            #expect(await errorCode { try await service.append(upload.id, at: 30_000, body: uploadBody([1])) } == .notFound)
            #expect(await errorCode { try await service.terminate(upload.id) } == .notFound)
            #expect(try fixture.files().isEmpty)
            // Its place is free, and so is the quota it reserved and never received (60,000
            // bytes); the 30,000 it stored still count.
            #expect(await errorCode { try await service.create(owner: "ada", length: 70_001) } == .limitExceeded)
            let next = try await service.create(owner: "ada", length: 70_000)
            #expect(next.state == .receiving)
        }
    }

    @Test func expiredUnfinishedUploadsAreSwept() async throws {
        try await UploadFixture.with { fixture in
            let configuration = UploadConfiguration(quota: UploadQuota(bytes: 1_000_000, period: .seconds(7 * 24 * 3600)), expiration: .seconds(3600))
            let service = try fixture.service(configuration)
            let stale = try await service.create(owner: "ada", length: 600_000)
            _ = try await service.append(stale.id, at: 0, body: uploadBody([UInt8](repeating: 1, count: 1000)))
            #expect(try await service.status(stale.id).expiresAt == fixture.clock.now.addingTimeInterval(3600))
            fixture.clock.advance(by: .seconds(1800))
            let active = try await service.create(owner: "ada", length: 1000)
            let finished = try await service.create(owner: "grace", length: 3)
            _ = try await service.append(finished.id, at: 0, body: uploadBody([1, 2, 3]))
            fixture.clock.advance(by: .seconds(1800))
            // Written to within the hour: alive. Untouched for an hour: gone, then swept.
            #expect(await errorCode { try await service.status(stale.id) } == .gone)
            #expect(await errorCode { try await service.append(stale.id, at: 1000, body: uploadBody([1])) } == .gone)
            #expect(try await service.status(active.id).state == .receiving)
            #expect(try await service.sweepExpired() == 1)
            #expect(await errorCode { try await service.status(stale.id) } == .notFound)
            #expect(try fixture.files() == ["\(active.id).upload"])
            #expect(try await service.sweepExpired() == 0)
            // The sweep gave back what the stale upload reserved and never received.
            #expect(try await service.create(owner: "ada", length: 1_000_000 - 1000 - 1000).state == .receiving)
            // A finished upload's record outlives it by the expiration, then goes too.
            #expect(try await service.status(finished.id).state == .finished)
            fixture.clock.advance(by: .seconds(3601))
            _ = try await service.sweepExpired()
            #expect(await errorCode { try await service.status(finished.id) } == .notFound)
        }
    }

    // MARK: Limits

    @Test func sizeLimitIsRefusedBeforeAnyByteIsStored() async throws {
        try await UploadFixture.with { fixture in
            let service = try fixture.service(UploadConfiguration(maxUploadSize: 1_000_000))
            do {
                _ = try await service.create(owner: "ada", length: 1_000_001)
                Issue.record("an upload over the size limit was created")
            } catch let error as VideoStackError {
                #expect(error.code == .limitExceeded && error.message.contains("1000000"))
            }
            #expect(await errorCode { try await service.create(owner: "ada", length: Int64.max) } == .limitExceeded)
            #expect(await errorCode {
                try await service.create(owner: "ada", length: 2_000_000, initialChunk: uploadBody([UInt8](repeating: 1, count: 1000)))
            } == .limitExceeded)
            #expect(try fixture.files().isEmpty)
            // A known length that fits: writing past it is refused whole.
            let upload = try await service.create(owner: "ada", length: 1000)
            #expect(await errorCode { try await service.append(upload.id, at: 0, body: uploadBody([UInt8](repeating: 1, count: 1001), pieces: [500])) } == .limitExceeded)
            #expect(fixture.staged(upload.id).isEmpty)
        }
    }

    @Test func quotaAndActiveUploadLimitsAreRefusedBeforeAnyByteIsStored() async throws {
        try await UploadFixture.with { fixture in
            let configuration = UploadConfiguration(quota: UploadQuota(bytes: 10_000, period: .seconds(3600)), maxActiveUploadsPerUser: 2,
                                                    deferredLengthReservation: 1000)
            let service = try fixture.service(configuration)
            let first = try await service.create(owner: "ada", length: 6000)
            #expect(await errorCode { try await service.create(owner: "ada", length: 4001) } == .limitExceeded)
            #expect(try fixture.files() == ["\(first.id).upload"])
            // Another user has a quota of their own.
            let other = try await service.create(owner: "grace", length: 10_000)
            // A deferred length runs into the quota by the PATCH that would pass it, before its bytes are kept.
            let deferred = try await service.create(owner: "ada", length: nil)
            #expect(try await service.append(deferred.id, at: 0, body: uploadBody([UInt8](repeating: 2, count: 3000), pieces: [700, 700])).offset == 3000)
            #expect(await errorCode { try await service.append(deferred.id, at: 3000, body: uploadBody([UInt8](repeating: 3, count: 1001), pieces: [500])) } == .limitExceeded)
            #expect(digest(fixture.staged(deferred.id)) == digest([UInt8](repeating: 2, count: 3000)))
            // Up to the quota exactly is fine.
            #expect(try await service.append(deferred.id, at: 3000, body: uploadBody([UInt8](repeating: 3, count: 1000))).offset == 4000)
            _ = try await service.append(first.id, at: 0, body: uploadBody([UInt8](repeating: 4, count: 6000)))
            // Finished, it no longer counts as unfinished, but its bytes still count against the quota.
            do {
                _ = try await service.create(owner: "ada", length: 1)
                Issue.record("an upload over the quota was created")
            } catch let error as VideoStackError {
                #expect(error.code == .limitExceeded && error.message.contains("quota"))
            }
            #expect(try await service.create(owner: "ada", length: 0).state == .finished)
            // Two unfinished uploads: a third is refused even with quota to spare.
            _ = try await service.create(owner: "linus", length: 1)
            _ = try await service.create(owner: "linus", length: 1)
            do {
                _ = try await service.create(owner: "linus", length: 1)
                Issue.record("a third unfinished upload was created")
            } catch let error as VideoStackError {
                #expect(error.code == .limitExceeded && error.message.contains("unfinished"))
            }
            // One that completes at once never counts as unfinished.
            #expect(try await service.create(owner: "linus", length: 0).state == .finished)
            #expect(other.state == .receiving)
            // The next period starts afresh.
            fixture.clock.advance(by: .seconds(3600))
            #expect(try await service.create(owner: "ada", length: 10_000).state == .receiving)
        }
    }

    // MARK: Restart

    @Test func aRestartedServerResumesAtTheAcknowledgedOffset() async throws {
        try await UploadFixture.with { fixture in
            let source = randomBytes(500_000, seed: 9)
            var id: UploadID?
            do {
                let service = try fixture.service()
                let upload = try await service.create(owner: "ada", length: Int64(source.count), metadata: ["title": "x"])
                _ = try await service.append(upload.id, at: 0, body: uploadBody(source[0..<200_000], pieces: [50_000]))
                id = upload.id
            }
            let uploadID = try #require(id)
            // Unacknowledged bytes past the offset, as a crash between the write and the record leaves them.
            let handle = try FileHandle(forWritingTo: fixture.stagingFile(uploadID))
            try handle.seekToEnd()
            try handle.write(contentsOf: Data(repeating: 0xEE, count: 150_000))
            try handle.close()

            // A new process: a new store connection and a new service on the same files.
            let store = try await SQLiteItemStore(url: URL(fileURLWithPath: fixture.databasePath), schema: .singleTable)
            defer { store.close() }
            let restarted = try fixture.service(store: store)
            let status = try await restarted.status(uploadID)
            #expect(status.offset == 200_000 && status.metadata == ["title": "x"])
            #expect(try await restarted.append(uploadID, at: 200_000, body: uploadBody(source[200_000..<300_000])).offset == 300_000)
            #expect(digest(fixture.staged(uploadID)) == digest(source[0..<300_000]))

            // Bytes lost under the service (the file is shorter than acknowledged): the offset
            // moves back so the client resends, instead of the upload holding a hole.
            try FileHandle(forWritingTo: fixture.stagingFile(uploadID)).truncate(atOffset: 250_000)
            do {
                _ = try await restarted.append(uploadID, at: 300_000, body: uploadBody(source[300_000..<400_000]))
                Issue.record("a PATCH after lost bytes was accepted")
            } catch let error as VideoStackError {
                #expect(error.code == .conflict && error.message.contains("250000"))
            }
            #expect(try await restarted.status(uploadID).offset == 250_000)
            _ = try await restarted.append(uploadID, at: 250_000, body: uploadBody(source[250_000...]))
            #expect(fixture.handler.deliveries.map { digest($0.bytes) } == [digest(source)])
        }
    }

    // MARK: Completion hand-over

    @Test func aFailedHandOverStaysPendingAndIsRetriedWithBackoff() async throws {
        try await UploadFixture.with { fixture in
            let service = try fixture.service(UploadConfiguration(completionRetryDelay: .seconds(60), completionRetryMaxDelay: .seconds(600)))
            fixture.handler.failNext(2)
            let upload = try await service.create(owner: "ada", length: 5, attachment: "v1")
            // The bytes are acknowledged even though the hand-over failed.
            let info = try await service.append(upload.id, at: 0, body: uploadBody([1, 2, 3, 4, 5]))
            #expect(info.offset == 5 && info.state == .completing)
            #expect(try await service.status(upload.id).state == .completing)
            #expect(try fixture.files() == ["\(upload.id).upload"])
            // Retried by sweeps once due (at most the first delay), until it succeeds.
            fixture.clock.advance(by: .seconds(61))
            _ = try await service.sweepExpired()
            #expect(fixture.handler.deliveries.count == 2)
            fixture.clock.advance(by: .seconds(121))
            _ = try await service.sweepExpired()
            #expect(fixture.handler.deliveries.map(\.upload.attempt) == [1, 2, 3])
            #expect(try await service.status(upload.id).state == .finished)
            fixture.clock.advance(by: .seconds(600))
            _ = try await service.sweepExpired()
            #expect(try await service.resumePendingCompletions() == 0)
            #expect(fixture.handler.deliveries.count == 3)
            #expect(fixture.handler.deliveries.allSatisfy { $0.bytes == [1, 2, 3, 4, 5] && $0.upload.attachment == "v1" })
            #expect(try fixture.files().isEmpty)
        }
    }

    @Test func resumePendingCompletionsHandsOverWhatARestartFinds() async throws {
        try await UploadFixture.with { fixture in
            let service = try fixture.service(UploadConfiguration(completionRetryDelay: .seconds(3600), completionRetryMaxDelay: .seconds(3600)))
            fixture.handler.failNext(1)
            let upload = try await service.create(owner: "ada", length: 3)
            _ = try await service.append(upload.id, at: 0, body: uploadBody([7, 8, 9]))
            // Not due for an hour: a sweep leaves it; start-up hands it over at once.
            _ = try await service.sweepExpired()
            #expect(fixture.handler.deliveries.count == 1)
            let restarted = try fixture.service()
            #expect(try await restarted.resumePendingCompletions() == 1)
            #expect(try await restarted.resumePendingCompletions() == 0)
            #expect(fixture.handler.deliveries.map(\.bytes) == [[7, 8, 9], [7, 8, 9]])
            #expect(try await restarted.status(upload.id).state == .finished)
        }
    }

    @Test func onlyTheNodeThatStagesAnUploadHandsItOver() async throws {
        try await UploadFixture.with { fixture in
            let configuration = UploadConfiguration(completionRetryDelay: .seconds(60), completionRetryMaxDelay: .seconds(60))
            let staging = try fixture.service(configuration)
            let other = try fixture.service(configuration, directory: fixture.root.appendingPathComponent("other-node", isDirectory: true))
            #expect(staging.stagingNode != other.stagingNode)
            #expect(try fixture.service().stagingNode == staging.stagingNode, "the node id survives a restart")
            fixture.handler.failNext(1)
            let upload = try await staging.create(owner: "ada", length: 4)
            _ = try await staging.append(upload.id, at: 0, body: uploadBody([1, 2, 3, 4]))
            #expect(fixture.handler.deliveries.count == 1)
            // Another node sharing the store neither tries (its disk lacks the bytes) nor spends
            // the upload's attempts; the staging node's sweep hands it over once due.
            fixture.clock.advance(by: .seconds(61))
            #expect(try await other.resumePendingCompletions() == 0)
            _ = try await other.sweepExpired()
            #expect(fixture.handler.deliveries.count == 1)
            #expect(try await other.status(upload.id).state == .completing)
            _ = try await staging.sweepExpired()
            #expect(fixture.handler.deliveries.map(\.upload.attempt) == [1, 2])
            #expect(try await other.status(upload.id).state == .finished)
        }
    }

    // MARK: Hostile input

    @Test func metadataHeaderParsing() throws {
        let title = Data("élève, 2\u{00B2}".utf8).base64EncodedString()
        let metadata = try UploadMetadata.parse("filename d29ybGRfZG9taW5hdGlvbi5tcDQ=, is_public ,title \(title)")
        #expect(metadata == ["filename": "world_domination.mp4", "is_public": "", "title": "élève, 2\u{00B2}"])
        #expect(try UploadMetadata.parse(UploadMetadata.encode(metadata)) == metadata)
        #expect(try UploadMetadata.parse("") == [:])
        #expect(try UploadMetadata.parse("  ") == [:])

        let nonUTF8 = Data([0xFF, 0xFE, 0x41]).base64EncodedString()
        let control = Data("a\u{0}b".utf8).base64EncodedString()
        let hostile: [(String, VideoStackError.Code)] = [
            ("filename !!!", .invalidInput),                               // bad base64
            ("filename d29ybGQ", .invalidInput),                           // unpadded
            ("filename d29y bGQ=", .invalidInput),                         // space inside the value
            ("a YQ==,a Yg==", .invalidInput),                              // duplicate key
            ("name \(nonUTF8)", .invalidInput),                            // not UTF-8
            ("name \(control)", .invalidInput),                            // NUL in the value
            (",a YQ==", .invalidInput),                                    // empty pair
            ("a YQ==,,b Yg==", .invalidInput),
            ("clé YQ==", .invalidInput),                                   // non-ASCII key
            ("ke\u{7}y YQ==", .invalidInput),                              // control character in the key
            (String(repeating: "k", count: 300) + " YQ==", .invalidInput), // key too long
            ((0..<40).map { "k\($0) YQ==" }.joined(separator: ","), .limitExceeded),   // too many pairs
            ("big " + Data(repeating: 0x41, count: 4100).base64EncodedString(), .limitExceeded),
            (String(repeating: "x", count: 10_000_000), .limitExceeded),   // huge header
        ]
        for (header, code) in hostile {
            do {
                _ = try UploadMetadata.parse(header)
                Issue.record("accepted hostile metadata '\(header.prefix(40))'")
            } catch let error as VideoStackError {
                #expect(error.code == code, "'\(header.prefix(40))': \(error)")
            }
        }
    }

    @Test func hostileCreationAndPatchArgumentsAreRefused() async throws {
        try await UploadFixture.with { fixture in
            let service = try fixture.service()
            #expect(await errorCode { try await service.create(owner: "ada", length: -1) } == .invalidInput)
            #expect(await errorCode { try await service.create(owner: "ada", length: Int64.min) } == .invalidInput)
            #expect(await errorCode { try await service.create(owner: "", length: 10) } == .invalidInput)
            #expect(await errorCode { try await service.create(owner: "a\nb", length: 10) } == .invalidInput)
            #expect(await errorCode { try await service.create(owner: String(repeating: "a", count: 200), length: 10) } == .invalidInput)
            #expect(await errorCode { try await service.create(owner: "ada", length: 10, attachment: "") } == .invalidInput)
            #expect(await errorCode { try await service.create(owner: "ada", length: 10, metadata: ["bad key": "x"]) } == .invalidInput)
            #expect(await errorCode { try await service.create(owner: "ada", length: 10, metadata: ["k": String(repeating: "v", count: 5000)]) } == .limitExceeded)
            #expect(try fixture.files().isEmpty)

            let upload = try await service.create(owner: "ada", length: 10)
            #expect(await errorCode { try await service.append(upload.id, at: -1, body: uploadBody([1])) } == .invalidInput)
            #expect(await errorCode { try await service.append(upload.id, at: Int64.min, body: uploadBody([1])) } == .invalidInput)
            #expect(await errorCode { try await service.append(upload.id, at: Int64.max, body: uploadBody([1])) } == .conflict)
            #expect(await errorCode { try await service.append(upload.id, at: 0, declaredLength: Int64.max, body: uploadBody([1])) } == .invalidInput)
            #expect(try await service.status(upload.id).offset == 0)

            // Ids are exactly 32 lowercase hex digits: nothing else can name a file.
            for text in ["../../etc/passwd", "", String(repeating: "0", count: 31), String(repeating: "G", count: 32),
                         String(repeating: "A", count: 32), upload.id.text + "0", "0123456789abcdef0123456789abcde/"] {
                #expect(UploadID(text) == nil)
            }
            #expect(UploadID(upload.id.text) == upload.id)
            let unknown = UploadID()
            #expect(unknown != upload.id)
            #expect(await errorCode { try await service.status(unknown) } == .notFound)
            #expect(await errorCode { try await service.append(unknown, at: 0, body: uploadBody([1])) } == .notFound)
            #expect(await errorCode { try await service.terminate(unknown) } == .notFound)
            // An unknown id creates no file.
            #expect(try fixture.files() == ["\(upload.id).upload"])
        }
    }
}
