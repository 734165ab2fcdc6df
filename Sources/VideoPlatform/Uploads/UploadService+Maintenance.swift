internal import Foundation
internal import Logging
internal import SingleTableStore
internal import VideoCore

extension UploadService {
    // MARK: Start-up and sweeps

    /// Hands every `completing` upload over to the completion handler again, due or not: call it
    /// once at start-up, so uploads whose hand-over a crash cut short reach the handler without
    /// waiting for their retry time.
    ///
    /// Uploads that another request or process is handing over right now are skipped.
    /// - Returns: how many were handed over successfully.
    @discardableResult
    public func resumePendingCompletions() async throws -> Int {
        var delivered = 0
        for id in try await indexed(.completing, dueBy: nil) where await handOver(id, dueBy: nil) {
            delivered += 1
        }
        return delivered
    }

    /// Removes expired unfinished uploads (their records, staging files and unused quota),
    /// retries the hand-overs that are due, drops the records of finished uploads past their
    /// expiry, and deletes staging files no upload owns. Run it periodically (every few minutes).
    ///
    /// An upload being written to is never swept: its `PATCH` holds the lock and renews the expiry.
    /// Failures on single uploads are logged and do not stop the sweep.
    /// - Returns: how many expired unfinished uploads were removed.
    @discardableResult
    public func sweepExpired() async throws -> Int {
        let now = UploadRecord.milliseconds(self.now())
        var removed = 0
        for id in try await indexed(.receiving, dueBy: now) {
            do {
                let file = try await lockedFile(id, create: false)
                defer { file?.close() }
                guard let record = try await loadRecord(id), record.state == .receiving, record.expiresAt <= now else { continue }
                try await removeUnfinished(record)
                try await removeStagingFile(id)
                removed += 1
                logger.info("expired upload removed", metadata: ["upload": "\(id)", "owner": "\(record.owner)", "offset": "\(record.offset)"])
            } catch let error as VideoStackError where error.code == .locked {
                continue
            } catch {
                logger.error("could not remove an expired upload", metadata: ["upload": "\(id)", "error": "\(error)"])
            }
        }
        for id in try await indexed(.completing, dueBy: now) {
            _ = await handOver(id, dueBy: now)
        }
        for id in try await indexed(.finished, dueBy: now) {
            do {
                try await store.deleteItem(key: UploadRecord.key(id), condition: .equal("state", .s(UploadState.finished.rawValue)) && .lessOrEqual("expiresAt", .int(now)))
            } catch let error as VideoStackError where error.code == .conditionFailed {
                continue
            } catch {
                logger.error("could not remove the record of a finished upload", metadata: ["upload": "\(id)", "error": "\(error)"])
            }
        }
        await removeOrphanFiles()
        return removed
    }

    // MARK: Hand-over

    /// Hands a `completing` upload over unless another caller holds it; true when it finished.
    private func handOver(_ id: UploadID, dueBy: Int64?) async -> Bool {
        do {
            let file = try await lockedFile(id, create: false)
            defer { file?.close() }
            guard let record = try await loadRecord(id), record.state == .completing else { return false }
            if let dueBy, (record.nextAttemptAt ?? 0) > dueBy { return false }
            if file == nil {
                logger.error("the staging file of a completing upload is missing; the hand-over will fail", metadata: ["upload": "\(id)"])
            }
            return await deliver(record).state == .finished
        } catch let error as VideoStackError where error.code == .locked {
            return false
        } catch {
            logger.error("could not hand over an upload", metadata: ["upload": "\(id)", "error": "\(error)"])
            return false
        }
    }

    /// Calls the completion handler for a `completing` upload whose lock the caller holds, then
    /// marks it finished and deletes its staging file; on failure schedules the next attempt.
    /// Never throws: what went wrong is logged and the upload stays `completing`.
    func deliver(_ record: UploadRecord) async -> UploadRecord {
        let upload = CompletedUpload(id: record.id, owner: record.owner, attachment: record.attachment, metadata: record.metadata,
                                     length: record.length ?? record.offset, file: URL(fileURLWithPath: path(of: record.id)),
                                     attempt: record.attempts + 1, pool: pool)
        var next = record
        do {
            try await handler.complete(upload)
        } catch {
            let now = UploadRecord.milliseconds(self.now())
            next.attempts += 1
            next.lastError = String(String(describing: error).prefix(2000))
            next.nextAttemptAt = now + UploadRecord.milliseconds(retryDelay(afterAttempt: next.attempts))
            next.updatedAt = now
            logger.error("upload hand-over failed; the upload stays completing and is retried", metadata: [
                "upload": "\(record.id)", "attempt": "\(next.attempts)", "error": "\(error)",
                "retryAt": "\(UploadRecord.date(next.nextAttemptAt ?? now))"])
            do {
                try await store.putItem(next.item, condition: record.unchanged)
            } catch {
                logger.error("could not schedule the retry of a hand-over", metadata: ["upload": "\(record.id)", "error": "\(error)"])
                return record
            }
            return next
        }
        let now = UploadRecord.milliseconds(self.now())
        next.state = .finished
        next.attempts += 1
        next.lastError = nil
        next.nextAttemptAt = nil
        next.updatedAt = now
        next.expiresAt = now + UploadRecord.milliseconds(configuration.expiration)
        do {
            try await store.putItem(next.item, condition: record.unchanged)
        } catch {
            logger.error("upload handed over but not marked finished; it will be handed over again", metadata: ["upload": "\(record.id)", "error": "\(error)"])
            return record
        }
        do {
            try await removeStagingFile(record.id)
        } catch {
            // The sweep removes staging files of finished uploads.
            logger.warning("could not remove the staging file of a finished upload", metadata: ["upload": "\(record.id)", "error": "\(error)"])
        }
        logger.info("upload handed over", metadata: ["upload": "\(record.id)", "owner": "\(record.owner)", "length": "\(next.offset)"])
        return next
    }

    // MARK: Helpers

    /// The delay after failed hand-over `attempt` (1-based): doubling from the configured delay
    /// up to the maximum, with equal jitter (half fixed, half random), so the retries of uploads
    /// that failed together spread out, yet none comes sooner than half its delay.
    func retryDelay(afterAttempt attempt: Int) -> Duration {
        let exponent = min(max(attempt - 1, 0), 30)
        let ceiling = min(configuration.completionRetryMaxDelay, configuration.completionRetryDelay * (1 << exponent))
        return ceiling * (0.5 + 0.5 * Double.random(in: 0...1))
    }

    /// The ids of uploads in `state` whose index time is at or before `dueBy` (all when nil),
    /// oldest first.
    private func indexed(_ state: UploadState, dueBy: Int64?) async throws -> [UploadID] {
        var ids: [UploadID] = []
        var token: PageToken?
        repeat {
            let page = try await store.query(Query(index: "GSI1", partitionKey: .s(UploadRecord.indexPartition(state)),
                                                   sortKey: dueBy.map { .less(.s(UploadRecord.timeKey($0 + 1))) },
                                                   limit: 200, startToken: token))
            ids += page.items.compactMap { item -> UploadID? in
                // Only the staging node can hand a completing upload over: the bytes are on its disk.
                // Expired unfinished uploads are anyone's to remove (their quota comes back even
                // when their node is gone); the node's orphan sweep deletes the file.
                if state == .completing, let node = item["stagedOn"]?.string, node != stagingNode { return nil }
                return item["id"]?.string.flatMap(UploadID.init)
            }
            token = page.nextToken
        } while token != nil
        return ids
    }

    /// Deletes staging files whose upload has no record or is finished (a crash between the
    /// record's change and the file's removal leaves them).
    private func removeOrphanFiles() async {
        do {
            let directory = directory.path
            let names = try await pool.run { _ in try FileManager.default.contentsOfDirectory(atPath: directory) }
            let ids = names.compactMap { name in name.hasSuffix(".upload") ? UploadID(String(name.dropLast(".upload".count))) : nil }
            for start in stride(from: 0, to: ids.count, by: 100) {
                let batch = ids[start..<min(start + 100, ids.count)]
                let items = try await store.batchGet(keys: batch.map(UploadRecord.key))
                let live = Set(items.filter { $0["state"]?.string != UploadState.finished.rawValue }.compactMap { $0["id"]?.string })
                for id in batch where !live.contains(id.text) {
                    do {
                        guard let file = try await lockedFile(id, create: false) else { continue }
                        defer { file.close() }
                        // Checked again under the lock: the upload may have been created since.
                        if let record = try await loadRecord(id), record.state != .finished { continue }
                        try await removeStagingFile(id)
                        logger.info("orphaned staging file removed", metadata: ["upload": "\(id)"])
                    } catch let error as VideoStackError where error.code == .locked {
                        continue
                    }
                }
            }
        } catch {
            logger.error("could not clean the upload directory", metadata: ["error": "\(error)"])
        }
    }
}
