public import Foundation
public import Logging
public import SingleTableStore
internal import VideoCore

/// The server side of the tus 1.0.0 resumable upload protocol, as a transport-agnostic service:
/// core, creation, creation-with-upload, creation-defer-length, termination, checksum (sha256)
/// and expiration.
///
/// An HTTP layer maps requests onto it: `POST` → ``create(owner:length:metadata:attachment:)``
/// (or ``create(owner:length:metadata:attachment:checksum:initialChunk:)``), `HEAD` →
/// ``status(_:)``, `PATCH` → ``append(_:at:declaredLength:checksum:body:)``, `DELETE` →
/// ``terminate(_:)``, `OPTIONS` → ``tusVersion``, ``extensions``, ``checksumAlgorithms`` and
/// `configuration.maxUploadSize`; each error's ``VideoStackError/code`` picks the status.
///
/// **Durability.** Each upload's bytes go to one staging file under ``directory``; a `PATCH`
/// writes them, fsyncs the file, and only then records the new offset in the store and returns
/// it. The recorded offset is the truth: a byte is acknowledged only once it is fsynced *and*
/// recorded. A staging file longer than the recorded offset has an unacknowledged tail (the
/// process died between the write and the record, or a checksum failed); the next `PATCH`
/// truncates it before writing, and the client resends those bytes, since it never got an offset
/// that covered them. So an upload survives a dropped connection and a crash or restart of the
/// server, and resumes at the acknowledged offset; nothing has to run at start-up for that.
///
/// **One writer.** A `PATCH` holds the upload's lock (a process-wide set, then an `flock` on
/// the staging file); a second `PATCH` (or `DELETE`) of the same upload meanwhile is refused with
/// ``VideoStackError/Code/locked``, never interleaved: at once within the process, after up to
/// two seconds' wait for another process sharing the directory. The kernel drops the lock of a
/// process that dies.
///
/// **Completion.** When the offset reaches the length, the record goes `completing` in the same
/// write that records the last bytes, and the ``UploadCompletionHandler`` is called before the
/// `PATCH` returns; once it returns the upload is `finished` and its staging file deleted. A
/// handler that fails or a crash leaves the upload `completing`:
/// ``resumePendingCompletions()`` (at start-up) and ``sweepExpired()`` (periodically) hand it
/// over again, so delivery is at least once.
///
/// The service keeps no state in memory: every instance over the same store and directory sees
/// the same uploads. Its file I/O runs on threads of its own, never on Swift's cooperative pool.
public struct UploadService: Sendable {
    /// The tus protocol version spoken (`Tus-Version`, `Tus-Resumable`).
    public static let tusVersion = "1.0.0"
    /// The tus extensions implemented (`Tus-Extension`).
    public static let extensions = ["creation", "creation-with-upload", "creation-defer-length", "termination", "checksum", "expiration"]
    /// The checksum algorithms verified (`Tus-Checksum-Algorithm`).
    public static let checksumAlgorithms = UploadChecksum.supportedAlgorithms

    /// Where upload records and the per-user counters live.
    public let store: any ItemStore
    /// Holds one staging file per unfinished upload (`<id>.upload`).
    public let directory: URL
    /// The limits and timings in force.
    public let configuration: UploadConfiguration
    /// Names the staging ``directory`` among the services that share one store: a random id kept
    /// in the directory's `node-id` file, so it survives restarts. Each upload records the node
    /// that stages it, and only that node hands a `completing` upload over (the bytes are there).
    public let stagingNode: String
    let handler: any UploadCompletionHandler
    let logger: Logger
    let now: @Sendable () -> Date
    let pool: UploadIOPool

    /// Makes the service, creating `directory` if needed.
    ///
    /// - Parameters:
    ///   - store: a store with the single-table schema (`TableSchema/singleTable`).
    ///   - directory: for the staging files (`<id>.upload`); a local, durable file system,
    ///     where fsync reaches the disk. Nothing else should write there.
    ///   - completionHandler: takes over each finished upload (the publish saga).
    ///   - now: the clock for expiry, quota periods and retry times.
    public init(store: any ItemStore, directory: URL, configuration: UploadConfiguration = UploadConfiguration(),
                completionHandler: any UploadCompletionHandler, logger: Logger, now: @escaping @Sendable () -> Date = Date.init) throws {
        guard store.schema.partitionKey == KeyAttribute("PK"), store.schema.sortKey == KeyAttribute("SK"),
              store.schema.indexes.contains(where: { $0.name == "GSI1" && $0.partitionKey == KeyAttribute("GSI1PK") && $0.sortKey == KeyAttribute("GSI1SK") })
        else {
            throw VideoStackError(.invalidInput, "The upload service needs a store with the single-table schema (PK/SK and GSI1 over GSI1PK/GSI1SK); use TableSchema.singleTable.")
        }
        guard configuration.maxUploadSize >= 0, configuration.deferredLengthReservation > 0, configuration.ioThreads > 0,
              configuration.expiration > .zero, (configuration.quota?.bytes ?? 0) >= 0, (configuration.quota?.period ?? .seconds(1)) >= .milliseconds(1),
              (configuration.maxActiveUploadsPerUser ?? 0) >= 0
        else {
            throw VideoStackError(.invalidInput, "The upload configuration needs a non-negative size limit and quota, a quota period of at least 1 ms, a positive expiration, reservation step and thread count.")
        }
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw VideoStackError(.io, "Cannot create the upload directory '\(directory.path)': \(error.localizedDescription). Check the path and its permissions.", cause: ErrorDescription(error))
        }
        self.store = store
        self.directory = directory
        self.stagingNode = try UploadFile.nodeID(in: directory.path)
        self.configuration = configuration
        self.handler = completionHandler
        self.logger = logger
        self.now = now
        self.pool = try BlockingThreadPool(name: "VideoStack.uploads", threads: configuration.ioThreads) { _ in () }
    }

    // MARK: Creation

    /// Creates an upload (tus `POST`) and its empty staging file.
    ///
    /// - Parameters:
    ///   - owner: the user the upload belongs to; quotas and limits count per owner.
    ///   - length: the total size in bytes, or nil to declare it later (creation-defer-length).
    ///     A length of 0 completes at once.
    ///   - metadata: the decoded `Upload-Metadata` (see ``UploadMetadata/parse(_:maxBytes:maxPairs:)``).
    ///   - attachment: the caller's id for what the upload becomes, handed to the completion handler.
    /// - Throws: `invalidInput` for a bad owner, length, metadata or attachment; `limitExceeded`
    ///   when the length is over `maxUploadSize`, the owner's quota would be passed, or the owner
    ///   has `maxActiveUploadsPerUser` unfinished uploads. A refused upload stores nothing.
    public func create(owner: String, length: Int64?, metadata: [String: String] = [:], attachment: String? = nil) async throws -> UploadInfo {
        try Self.validate(owner: owner)
        if let attachment { try Self.validate(attachment: attachment) }
        try UploadMetadata.validate(metadata, maxBytes: configuration.maxMetadataBytes, maxPairs: configuration.maxMetadataPairs)
        if let length {
            guard length >= 0 else {
                throw VideoStackError(.invalidInput, "Upload-Length must be 0 or more; got \(length).")
            }
            guard length <= configuration.maxUploadSize else {
                throw VideoStackError(.limitExceeded, "The upload is \(length) bytes; the largest accepted is \(configuration.maxUploadSize). Send a smaller file.")
            }
        }
        let now = UploadRecord.milliseconds(self.now())
        var record = UploadRecord(id: UploadID(), owner: owner, length: length, metadata: metadata, attachment: attachment,
                                  stagedOn: stagingNode, now: now, expiresAt: now + UploadRecord.milliseconds(configuration.expiration))
        var actions: [TransactAction] = []
        var activeAction: Int?
        var quotaAction: Int?
        if record.state == .receiving {
            let limit = configuration.maxActiveUploadsPerUser.map { Condition.notExists("active") || .less("active", .int(Int64($0))) }
            activeAction = 1
            actions.append(.update(key: UploadRecord.activeKey(owner), actions: [.add("active", .int(1))], condition: limit))
        }
        if let quota = configuration.quota {
            let period = now - now % UploadRecord.milliseconds(quota.period)
            let charge = length ?? 0
            guard charge <= quota.bytes else {
                throw VideoStackError(.limitExceeded, "The upload is \(charge) bytes; the upload quota is \(quota.bytes) bytes per \(quota.period). Send a smaller file.")
            }
            // A deferred length charges as its bytes arrive; it needs some quota left to start.
            let condition: Condition = length == nil
                ? .notExists("bytes") || .less("bytes", .int(quota.bytes))
                : .notExists("bytes") || .lessOrEqual("bytes", .int(quota.bytes - charge))
            record.reserved = charge
            record.quotaPeriod = period
            quotaAction = 1 + actions.count
            actions.append(.update(key: UploadRecord.quotaKey(owner, period: period), actions: [.add("bytes", .int(charge))], condition: condition))
        }
        actions.insert(.put(record.item, condition: .notExists("PK")), at: 0)
        do {
            try await store.transactWrite(actions)
        } catch let error as VideoStackError where error.code == .transactionCanceled {
            let reasons = error.cancellationReasons ?? []
            func failed(_ index: Int?) -> Bool {
                guard let index, index < reasons.count, case .conditionalCheckFailed = reasons[index] else { return false }
                return true
            }
            if failed(activeAction) {
                throw VideoStackError(.limitExceeded, "'\(owner)' already has \(configuration.maxActiveUploadsPerUser ?? 0) unfinished uploads, the most allowed at once; finish or terminate one first.", cause: error)
            }
            if failed(quotaAction), let quota = configuration.quota {
                throw VideoStackError(.limitExceeded, "The upload would pass the upload quota of '\(owner)' (\(quota.bytes) bytes per \(quota.period)); wait for the next period or upload less.", cause: error)
            }
            throw error
        }
        let file: UploadFile
        do {
            file = try await pool.run { [path = path(of: record.id), id = record.id, directory = directory.path] _ in
                guard let file = try UploadFile.openLocked(path: path, create: true, id: id) else {
                    throw VideoStackError(.internal, "The staging file of upload \(id) was not created.")
                }
                try UploadFile.syncDirectory(directory)
                return file
            }
        } catch {
            // Without a staging file the upload is unusable: take it back, quota and all.
            if record.state == .receiving { try? await removeUnfinished(record) } else { _ = try? await store.deleteItem(key: UploadRecord.key(record.id)) }
            throw error
        }
        defer { file.close() }
        logger.debug("upload created", metadata: ["upload": "\(record.id)", "owner": "\(owner)", "length": "\(length.map(String.init) ?? "deferred")"])
        if record.state == .completing { record = await deliver(record) }
        return record.info
    }

    /// Creates an upload and writes its first bytes from the creation request's body (tus
    /// creation-with-upload).
    ///
    /// Only the creation itself can fail the call; whatever goes wrong with the body (a dropped
    /// connection, a checksum mismatch, a limit) comes back in ``UploadCreation/chunkError``
    /// beside the upload, which exists and resumes as usual, as tus wants.
    public func create<Body: AsyncSequence>(owner: String, length: Int64?, metadata: [String: String] = [:], attachment: String? = nil,
                                            checksum: UploadChecksum? = nil, initialChunk body: Body) async throws -> UploadCreation
    where Body.Element: RandomAccessCollection & Sendable, Body.Element.Element == UInt8 {
        let upload = try await create(owner: owner, length: length, metadata: metadata, attachment: attachment)
        do {
            return UploadCreation(upload: try await append(upload.id, at: 0, checksum: checksum, body: body), chunkError: nil)
        } catch {
            let chunkError = (error as? VideoStackError) ?? VideoStackError(.internal, "The first chunk of upload \(upload.id) failed: \(error)", cause: ErrorDescription(error))
            return UploadCreation(upload: (try? await status(upload.id)) ?? upload, chunkError: chunkError)
        }
    }

    // MARK: Status

    /// The upload's offset, length, metadata and expiry (tus `HEAD`).
    ///
    /// - Throws: `notFound` for an unknown or terminated upload, `gone` for one that expired
    ///   unfinished (and is waiting for the sweep).
    public func status(_ id: UploadID) async throws -> UploadInfo {
        let record = try await existingRecord(id)
        try checkNotExpired(record)
        return record.info
    }

    // MARK: Appending

    /// Appends a `PATCH` body at `offset` and returns the upload as it is after it.
    ///
    /// The bytes are fsynced before the new offset is recorded and returned. If the body fails
    /// part way (a dropped connection), the bytes that arrived are kept and acknowledged, and
    /// the error is rethrown (its message names the offset to resume at); with a checksum the
    /// chunk is all or nothing. A `PATCH` that would pass the length, `maxUploadSize` or the
    /// quota is refused whole, before the bytes that pass the limit are stored. The last `PATCH`
    /// returns after the completion handler has run (or failed and been scheduled for a retry).
    ///
    /// - Parameters:
    ///   - offset: the client's `Upload-Offset`; it must equal the upload's offset.
    ///   - declaredLength: `Upload-Length` sent with the `PATCH` of a deferred-length upload; it
    ///     may be set once.
    ///   - checksum: the `Upload-Checksum` of this body.
    ///   - body: the bytes, in chunks of any size.
    /// - Throws: `conflict` when `offset` is not the upload's offset (tus 409) or the upload is
    ///   already complete; `locked` while another request writes to it (tus servers answer 423);
    ///   `checksumMismatch` (tus 460) with the offset unchanged; `limitExceeded` past the length
    ///   or a limit (413); `notFound` (404) or `gone` (410); `invalidInput` for a negative offset or
    ///   a bad declared length; `io` when the body failed (bytes kept) or the disk refused.
    public func append<Body: AsyncSequence>(_ id: UploadID, at offset: Int64, declaredLength: Int64? = nil, checksum: UploadChecksum? = nil,
                                            body: Body) async throws -> UploadInfo
    where Body.Element: RandomAccessCollection & Sendable, Body.Element.Element == UInt8 {
        guard offset >= 0 else {
            throw VideoStackError(.invalidInput, "Upload-Offset must be 0 or more; got \(offset).")
        }
        if let declaredLength, declaredLength < 0 {
            throw VideoStackError(.invalidInput, "Upload-Length must be 0 or more; got \(declaredLength).")
        }
        // Read first, so an unknown id never creates a staging file.
        let first = try await existingRecord(id)
        if try checkWritable(first, offset: offset) { return first.info }
        guard let file = try await lockedFile(id, create: true) else {
            throw VideoStackError(.internal, "The staging file of upload \(id) could not be created.")
        }
        defer { file.close() }
        // Under the lock: the authoritative record.
        guard var record = try await loadRecord(id) else {
            try? await pool.run { _ in try UploadFile.remove(file.path) }
            throw VideoStackError(.notFound, "There is no upload \(id); it was terminated meanwhile.")
        }
        if try checkWritable(record, offset: offset) { return record.info }
        record = try await reconcile(record, file: file)
        guard offset == record.offset else {
            throw VideoStackError(.conflict, "Upload-Offset is \(offset) but upload \(id) is at \(record.offset); resume from \(record.offset) (ask with HEAD).")
        }
        if let declaredLength { record = try await declare(length: declaredLength, for: record) }

        let start = record.offset
        var written: Int64 = 0
        var hasher = checksum.map { _ in ChunkHasher() }
        var bodyError: (any Error)?
        do {
            var refused = false
            do {
                for try await chunk in body {
                    guard !chunk.isEmpty else { continue }
                    do {
                        let end = start + written + Int64(chunk.count)
                        try checkLimits(record, end: end)
                        if let reserved = record.reserved, record.quotaPeriod != nil, record.length == nil, end > reserved {
                            record = try await reserve(upTo: end, for: record)
                        }
                        let position = start + written
                        try await pool.run { _ in
                            try chunk.withContiguousStorageIfAvailable { try file.write(UnsafeRawBufferPointer($0), at: position) }
                                ?? Array(chunk).withUnsafeBytes { try file.write($0, at: position) }
                        }
                        if hasher != nil {
                            chunk.withContiguousStorageIfAvailable { hasher?.update(UnsafeRawBufferPointer($0)) }
                                ?? Array(chunk).withUnsafeBytes { hasher?.update($0) }
                        }
                        written += Int64(chunk.count)
                    } catch {
                        refused = true
                        throw error
                    }
                }
            } catch let error where !refused {
                bodyError = error
            }
        } catch {
            // Refused (a limit) or the disk failed: nothing of this PATCH counts.
            try? await pool.run { _ in try file.truncate(to: start) }
            throw error
        }
        if let bodyError, checksum != nil {
            try? await pool.run { _ in try file.truncate(to: start) }
            throw VideoStackError(.io, "The body of the PATCH to upload \(id) failed after \(written) bytes; a chunk with a checksum is kept whole or not at all, so the upload stays at \(start). Resend the chunk.", cause: ErrorDescription(bodyError))
        }
        if let checksum, let hasher, !hasher.matches(checksum) {
            try? await pool.run { _ in try file.truncate(to: start) }
            throw VideoStackError(.checksumMismatch, "The \(written) bytes sent to upload \(id) do not match their \(checksum.algorithm) checksum; they were discarded and the upload stays at \(start). Resend the chunk.")
        }
        try await pool.run { _ in try file.sync() }
        record = try await recordProgress(record, to: start + written)
        if record.state == .completing { record = await deliver(record) }
        if let bodyError, !record.isFinal {
            throw VideoStackError(.io, "The body of the PATCH to upload \(id) failed after \(written) bytes; those bytes are kept and the upload is at \(record.offset). Resume from there.", cause: ErrorDescription(bodyError))
        }
        return record.info
    }

    // MARK: Termination

    /// Removes an unfinished upload and its staging file, and gives back its unused quota
    /// (tus `DELETE`). A finished upload's record is removed too (its file is already handed over).
    ///
    /// - Throws: `notFound` for an unknown upload, `locked` while a `PATCH` is writing to it,
    ///   `conflict` while it is being handed over to the completion handler.
    public func terminate(_ id: UploadID) async throws {
        _ = try await existingRecord(id)
        let file = try await lockedFile(id, create: false)
        defer { file?.close() }
        let record = try await existingRecord(id)
        switch record.state {
        case .receiving:
            try await removeUnfinished(record)
        case .completing:
            throw VideoStackError(.conflict, "Upload \(id) is complete and being handed over; it can no longer be terminated. Delete what it became instead.")
        case .finished:
            try await store.deleteItem(key: UploadRecord.key(id), condition: .equal("state", .s(UploadState.finished.rawValue)))
        }
        try await removeStagingFile(id)
        logger.debug("upload terminated", metadata: ["upload": "\(id)"])
    }

    // MARK: Steps of an append

    /// Throws when no bytes may be appended; returns true when the request is a repeat of the
    /// last, empty `PATCH` of a complete upload (answer it with the upload as it is).
    private func checkWritable(_ record: UploadRecord, offset: Int64) throws -> Bool {
        switch record.state {
        case .receiving:
            try checkNotExpired(record)
            return false
        case .completing, .finished:
            if offset == record.offset { return true }
            throw VideoStackError(.conflict, "Upload \(record.id) is complete (\(record.offset) bytes); nothing more can be appended.")
        }
    }

    private func checkNotExpired(_ record: UploadRecord) throws {
        if record.state == .receiving, record.expiresAt <= UploadRecord.milliseconds(now()) {
            throw VideoStackError(.gone, "Upload \(record.id) expired unfinished at \(UploadRecord.date(record.expiresAt)); start a new upload.")
        }
    }

    private func checkLimits(_ record: UploadRecord, end: Int64) throws {
        if let length = record.length, end > length {
            throw VideoStackError(.limitExceeded, "The PATCH to upload \(record.id) carries bytes past its length of \(length); nothing of it was kept. Send only the remaining \(length - record.offset) bytes.")
        }
        if end > configuration.maxUploadSize {
            throw VideoStackError(.limitExceeded, "The PATCH would make upload \(record.id) larger than \(configuration.maxUploadSize) bytes, the largest accepted; nothing of it was kept.")
        }
    }

    /// Makes the staging file agree with the record: a longer file loses its unacknowledged
    /// tail; a shorter one (the bytes were lost under the service) moves the offset back, so
    /// the client resends rather than the upload holding a hole.
    private func reconcile(_ record: UploadRecord, file: UploadFile) async throws -> UploadRecord {
        let size = try await pool.run { _ in try file.size() }
        if size > record.offset {
            logger.debug("dropping an unacknowledged tail", metadata: ["upload": "\(record.id)", "offset": "\(record.offset)", "file": "\(size)"])
            try await pool.run { _ in try file.truncate(to: record.offset) }
            return record
        }
        guard size < record.offset else { return record }
        logger.error("staging file shorter than the acknowledged offset; the client must resend", metadata: [
            "upload": "\(record.id)", "offset": "\(record.offset)", "file": "\(size)"])
        var lowered = record
        lowered.offset = size
        try await store.putItem(lowered.item, condition: record.unchanged)
        return lowered
    }

    /// Records the length sent with a `PATCH` of a deferred-length upload, charging the quota for it.
    private func declare(length: Int64, for record: UploadRecord) async throws -> UploadRecord {
        if let known = record.length {
            guard known == length else {
                throw VideoStackError(.invalidInput, "Upload \(record.id) already has the length \(known); Upload-Length cannot change (got \(length)).")
            }
            return record
        }
        guard length >= record.offset else {
            throw VideoStackError(.invalidInput, "Upload-Length \(length) is less than the \(record.offset) bytes upload \(record.id) already holds.")
        }
        guard length <= configuration.maxUploadSize else {
            throw VideoStackError(.limitExceeded, "The upload is \(length) bytes; the largest accepted is \(configuration.maxUploadSize). Send a smaller file.")
        }
        var next = record
        next.length = length
        var actions: [TransactAction] = []
        if let reserved = record.reserved, let period = record.quotaPeriod, let quota = configuration.quota, length > reserved {
            let charge = length - reserved
            next.reserved = length
            actions.append(quotaCharge(charge, owner: record.owner, period: period, quota: quota))
        }
        actions.insert(.put(next.item, condition: record.unchanged && .notExists("length")), at: 0)
        try await write(actions, for: record, quotaIndex: 1)
        return next
    }

    /// Charges the quota further for a deferred-length upload, up to at least `end` bytes.
    private func reserve(upTo end: Int64, for record: UploadRecord) async throws -> UploadRecord {
        guard let quota = configuration.quota, let reserved = record.reserved, let period = record.quotaPeriod else { return record }
        let needed = end - reserved
        let step = min(max(needed, configuration.deferredLengthReservation), max(needed, configuration.maxUploadSize - reserved))
        // A full step first (fewer writes); at the margin of the quota only what is needed.
        for charge in step > needed ? [step, needed] : [needed] {
            var next = record
            next.reserved = reserved + charge
            do {
                try await write([.put(next.item, condition: record.unchanged && .equal("reserved", .int(reserved))),
                                 quotaCharge(charge, owner: record.owner, period: period, quota: quota)], for: record, quotaIndex: 1)
                return next
            } catch let error as VideoStackError where error.code == .limitExceeded && charge != needed {
                continue
            }
        }
        throw VideoStackError(.internal, "Unreachable: the quota reservation loop ended without a result.")
    }

    private func quotaCharge(_ charge: Int64, owner: String, period: Int64, quota: UploadQuota) -> TransactAction {
        .update(key: UploadRecord.quotaKey(owner, period: period), actions: [.add("bytes", .int(charge))],
                condition: .notExists("bytes") || .lessOrEqual("bytes", .int(quota.bytes - charge)))
    }

    /// Records the new offset (and, when it is the length, the move to `completing`, with the
    /// active-upload count and any unused quota given back in the same transaction).
    private func recordProgress(_ record: UploadRecord, to end: Int64) async throws -> UploadRecord {
        let now = UploadRecord.milliseconds(self.now())
        var next = record
        next.offset = end
        next.updatedAt = now
        next.expiresAt = now + UploadRecord.milliseconds(configuration.expiration)
        var actions: [TransactAction] = []
        if next.length == end {
            next.state = .completing
            next.nextAttemptAt = now
            actions.append(.update(key: UploadRecord.activeKey(record.owner), actions: [.add("active", .int(-1))]))
            if let reserved = record.reserved, let period = record.quotaPeriod, reserved > end {
                next.reserved = end
                actions.append(.update(key: UploadRecord.quotaKey(record.owner, period: period), actions: [.add("bytes", .int(end - reserved))]))
            }
        }
        actions.insert(.put(next.item, condition: record.unchanged), at: 0)
        try await write(actions, for: record, quotaIndex: nil)
        return next
    }

    /// Deletes an unfinished upload's record, with its active-upload count and the quota it
    /// reserved and never received, in one transaction.
    func removeUnfinished(_ record: UploadRecord) async throws {
        var actions: [TransactAction] = [
            .delete(key: UploadRecord.key(record.id), condition: record.unchanged),
            .update(key: UploadRecord.activeKey(record.owner), actions: [.add("active", .int(-1))]),
        ]
        if let reserved = record.reserved, let period = record.quotaPeriod, reserved > record.offset {
            actions.append(.update(key: UploadRecord.quotaKey(record.owner, period: period), actions: [.add("bytes", .int(record.offset - reserved))]))
        }
        try await write(actions, for: record, quotaIndex: nil)
    }

    /// Runs a transaction whose first action writes `record`, naming what failed.
    private func write(_ actions: [TransactAction], for record: UploadRecord, quotaIndex: Int?) async throws {
        do {
            try await store.transactWrite(actions)
        } catch let error as VideoStackError where error.code == .transactionCanceled {
            let reasons = error.cancellationReasons ?? []
            if let quotaIndex, quotaIndex < reasons.count, case .conditionalCheckFailed = reasons[quotaIndex], let quota = configuration.quota {
                throw VideoStackError(.limitExceeded, "Upload \(record.id) would pass the upload quota of '\(record.owner)' (\(quota.bytes) bytes per \(quota.period)); nothing of this PATCH was kept. Wait for the next period or upload less.", cause: error)
            }
            if case .conditionalCheckFailed? = reasons.first {
                throw VideoStackError(.conflict, "Upload \(record.id) was changed by someone not holding its lock (another process on the same store without the same directory?); ask for its offset (HEAD) and resume.", cause: error)
            }
            throw error
        }
    }

    // MARK: Records and files

    func loadRecord(_ id: UploadID) async throws -> UploadRecord? {
        guard let item = try await store.getItem(key: UploadRecord.key(id)) else { return nil }
        return try UploadRecord(item: item)
    }

    private func existingRecord(_ id: UploadID) async throws -> UploadRecord {
        guard let record = try await loadRecord(id) else {
            throw VideoStackError(.notFound, "There is no upload \(id); it never existed, was terminated, or finished long ago. Start a new upload.")
        }
        return record
    }

    func path(of id: UploadID) -> String { directory.appendingPathComponent("\(id.text).upload").path }

    /// Opens and locks the upload's staging file; nil when `create` is false and there is none.
    /// Throws `locked` when another request holds it.
    func lockedFile(_ id: UploadID, create: Bool) async throws -> UploadFile? {
        let path = path(of: id)
        return try await pool.run { _ in try UploadFile.openLocked(path: path, create: create, id: id) }
    }

    func removeStagingFile(_ id: UploadID) async throws {
        let path = path(of: id)
        let directory = directory.path
        try await pool.run { _ in
            try UploadFile.remove(path)
            try UploadFile.syncDirectory(directory)
        }
    }

    // MARK: Validation

    private static func validate(owner: String) throws {
        guard !owner.isEmpty, owner.utf8.count <= 128, !owner.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) else {
            throw VideoStackError(.invalidInput, "An upload's owner is 1 to 128 bytes without control characters; got '\(owner.prefix(40))'.")
        }
    }

    private static func validate(attachment: String) throws {
        guard !attachment.isEmpty, attachment.utf8.count <= 256, !attachment.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) else {
            throw VideoStackError(.invalidInput, "An upload's attachment id is 1 to 256 bytes without control characters; got '\(attachment.prefix(40))'.")
        }
    }
}

extension UploadRecord {
    /// Whether all bytes are in (the upload is `completing` or `finished`).
    var isFinal: Bool { state != .receiving }
}

extension UploadService {
    /// Appends bytes already in memory (a test, a small file); the tus `PATCH` body of a server
    /// goes through ``append(_:at:declaredLength:checksum:body:)`` as it arrives.
    @discardableResult
    public func append(_ id: UploadID, at offset: Int64, bytes: [UInt8], checksum: UploadChecksum? = nil) async throws -> UploadInfo {
        let body = AsyncStream<[UInt8]> { continuation in
            continuation.yield(bytes)
            continuation.finish()
        }
        return try await append(id, at: offset, checksum: checksum, body: body)
    }
}
