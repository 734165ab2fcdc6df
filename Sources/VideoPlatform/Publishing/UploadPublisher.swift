internal import Foundation
internal import Logging
public import SingleTableStore
internal import VideoCore

/// A job queue whose enqueue can join a store transaction (the embedded ``StoreJobQueue``), so a
/// video turning `processing` and its publish job are one write. Queues that cannot (SQS) are
/// enqueued first, idempotently by job id, and the saga waits for the video to turn `processing`.
public protocol TransactionalJobQueue: JobQueue {
    func enqueueAction(_ job: Job) throws -> TransactAction
    func notifyEnqueued()
}

extension StoreJobQueue: TransactionalJobQueue {}

/// Takes over finished uploads for the platform: copies the file into the blob store under
/// `uploads/<video>/<file name>`, then moves the video from `uploading` to `processing` and
/// enqueues its publish job in one transaction. Idempotent: a second hand-over of the same
/// upload finds the video no longer `uploading` and does nothing.
struct UploadPublisher: UploadCompletionHandler {
    let catalog: Catalog
    let blobs: any BlobStore
    let queue: any JobQueue
    let logger: Logger

    func complete(_ upload: CompletedUpload) async throws {
        guard let attachment = upload.attachment, let id = VideoID(attachment) else {
            logger.warning("a finished upload names no video; its bytes are dropped", metadata: ["upload": "\(upload.id)"])
            return
        }
        guard let video = try await catalog.video(id) else {
            logger.info("the video of a finished upload was deleted meanwhile", metadata: ["upload": "\(upload.id)", "video": "\(id)"])
            return
        }
        guard video.status == .uploading else { return }  // handed over before a crash
        let filename = Self.safeName(upload.metadata["filename"])
        let key = "uploads/\(id)/\(filename)"
        _ = try await blobs.put(key, chunks: upload.chunks(), contentType: upload.metadata["filetype"].flatMap { $0.isEmpty ? nil : $0 })
        let job = try Job(id: "publish-\(id)", kind: PublishRequest.jobKind,
                          json: PublishRequest(video: id, source: key, filename: upload.metadata["filename"]))
        do {
            if let queue = queue as? any TransactionalJobQueue {
                try await catalog.transition(id, to: .processing, from: .uploading, alsoWriting: [try queue.enqueueAction(job)])
                queue.notifyEnqueued()
            } else {
                try await queue.enqueue(job)
                try await catalog.transition(id, to: .processing, from: .uploading)
            }
        } catch let error as VideoStackError where error.code == .conflict || error.code == .notFound {
            // Moved on (or deleted) meanwhile: another hand-over won, or the user deleted it.
            logger.info("finished upload's video moved on meanwhile", metadata: ["video": "\(id)", "reason": "\(error.message)"])
            return
        }
        logger.info("upload finished; publishing", metadata: ["video": "\(id)", "bytes": "\(upload.length)"])
    }

    /// A file name safe as the last part of a blob key: what the uploader called the file, with
    /// anything but letters, digits, `.`, `-` and `_` replaced, at most 100 bytes.
    static func safeName(_ name: String?) -> String {
        let base = (name ?? "").split(separator: "/").last.map(String.init) ?? ""
        var safe = String(base.unicodeScalars.map { scalar -> Character in
            let ok = (scalar.isASCII && (CharacterSet.alphanumerics.contains(scalar) || "._-".unicodeScalars.contains(scalar)))
            return ok ? Character(scalar) : "_"
        })
        while safe.hasPrefix(".") { safe.removeFirst() }
        safe = String(safe.prefix(100))
        return safe.isEmpty ? "source" : safe
    }
}
