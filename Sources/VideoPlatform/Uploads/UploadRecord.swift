internal import Foundation
internal import SingleTableStore
internal import VideoCore

/// One upload as the store keeps it.
///
/// | item | PK | SK | GSI1PK | GSI1SK |
/// |---|---|---|---|---|
/// | upload | `UPLOAD#<id>` | `UPLOAD` | `UPLOADS#<state>` | `<ms, 15 digits>#<id>` |
/// | a user's unfinished uploads | `UPLOADUSER#<owner>` | `ACTIVE` | | |
/// | a user's quota use in one period | `UPLOADUSER#<owner>` | `QUOTA#<period start ms, 15 digits>` | | |
///
/// The `GSI1SK` time is the expiry for `receiving` and `finished` uploads and the next hand-over
/// attempt for `completing` ones, so a sweep reads only what is due, oldest first.
struct UploadRecord: Sendable {
    var id: UploadID
    var owner: String
    var offset: Int64
    var length: Int64?
    var metadata: [String: String]
    var attachment: String?
    var state: UploadState
    var createdAt: Int64
    var updatedAt: Int64
    var expiresAt: Int64
    /// Bytes charged to the quota (nil when the upload was created without a quota).
    var reserved: Int64?
    /// The start of the quota period charged.
    var quotaPeriod: Int64?
    /// Failed hand-overs so far.
    var attempts: Int = 0
    /// When a `completing` upload is next handed over.
    var nextAttemptAt: Int64?
    var lastError: String?
    /// The ``UploadService/stagingNode`` whose directory holds the staging file (nil in records
    /// written before nodes were recorded).
    var stagedOn: String?

    init(id: UploadID, owner: String, length: Int64?, metadata: [String: String], attachment: String?,
         stagedOn: String, now: Int64, expiresAt: Int64) {
        self.id = id
        self.stagedOn = stagedOn
        self.owner = owner
        self.offset = 0
        self.length = length
        self.metadata = metadata
        self.attachment = attachment
        self.state = length == 0 ? .completing : .receiving
        self.createdAt = now
        self.updatedAt = now
        self.expiresAt = expiresAt
        if state == .completing { nextAttemptAt = now }
    }

    init(item: Item) throws {
        guard let idText = item["id"]?.string, let id = UploadID(idText),
              let owner = item["owner"]?.string, let offset = item["offset"]?.int64,
              let stateText = item["state"]?.string, let state = UploadState(rawValue: stateText),
              let createdAt = item["createdAt"]?.int64, let expiresAt = item["expiresAt"]?.int64
        else {
            throw VideoStackError(.corrupt, "The upload record \(item["PK"]?.string?.prefix(60) ?? "?") lacks its id, owner, offset, state or dates; it was not written by this version of UploadService.")
        }
        self.id = id
        self.owner = owner
        self.offset = offset
        self.length = item["length"]?.int64
        self.metadata = (item["metadata"]?.map ?? [:]).compactMapValues(\.string)
        self.attachment = item["attachment"]?.string
        self.state = state
        self.createdAt = createdAt
        self.updatedAt = item["updatedAt"]?.int64 ?? createdAt
        self.expiresAt = expiresAt
        self.reserved = item["reserved"]?.int64
        self.quotaPeriod = item["quotaPeriod"]?.int64
        self.attempts = Int(item["attempts"]?.int64 ?? 0)
        self.nextAttemptAt = item["nextAttemptAt"]?.int64
        self.lastError = item["lastError"]?.string
        self.stagedOn = item["stagedOn"]?.string
    }

    var item: Item {
        var item = Self.key(id)
        item["type"] = "upload"
        item["id"] = .s(id.text)
        item["owner"] = .s(owner)
        item["offset"] = .int(offset)
        if let length { item["length"] = .int(length) }
        if !metadata.isEmpty { item["metadata"] = .m(metadata.mapValues { .s($0) }) }
        if let attachment { item["attachment"] = .s(attachment) }
        item["state"] = .s(state.rawValue)
        item["createdAt"] = .int(createdAt)
        item["updatedAt"] = .int(updatedAt)
        item["expiresAt"] = .int(expiresAt)
        if let reserved { item["reserved"] = .int(reserved) }
        if let quotaPeriod { item["quotaPeriod"] = .int(quotaPeriod) }
        if attempts > 0 { item["attempts"] = .int(Int64(attempts)) }
        if let nextAttemptAt { item["nextAttemptAt"] = .int(nextAttemptAt) }
        if let lastError { item["lastError"] = .s(lastError) }
        if let stagedOn { item["stagedOn"] = .s(stagedOn) }
        item["GSI1PK"] = .s(Self.indexPartition(state))
        let due = state == .completing ? (nextAttemptAt ?? updatedAt) : expiresAt
        item["GSI1SK"] = .s(Self.timeKey(due) + "#" + id.text)
        return item
    }

    var info: UploadInfo {
        UploadInfo(id: id, owner: owner, offset: offset, length: length, metadata: metadata, attachment: attachment,
                   state: state, createdAt: Self.date(createdAt), expiresAt: Self.date(expiresAt))
    }

    /// The condition that the stored record is still the one this was read as: the same state
    /// and offset (the lock makes a mismatch a bug or a second process without the lock).
    var unchanged: Condition {
        .equal("state", .s(state.rawValue)) && .equal("offset", .int(offset))
    }

    // MARK: Keys

    static func key(_ id: UploadID) -> Item { ["PK": .s("UPLOAD#\(id.text)"), "SK": "UPLOAD"] }

    static func activeKey(_ owner: String) -> Item { ["PK": .s("UPLOADUSER#\(owner)"), "SK": "ACTIVE"] }

    static func quotaKey(_ owner: String, period: Int64) -> Item {
        ["PK": .s("UPLOADUSER#\(owner)"), "SK": .s("QUOTA#\(timeKey(period))")]
    }

    static func indexPartition(_ state: UploadState) -> String { "UPLOADS#\(state.rawValue)" }

    /// Milliseconds as 15 digits sort as text the way they sort as numbers (until the year 33658).
    static func timeKey(_ milliseconds: Int64) -> String {
        let digits = String(max(milliseconds, 0))
        return String(repeating: "0", count: max(0, 15 - digits.count)) + digits
    }

    static func milliseconds(_ date: Date) -> Int64 { Int64((date.timeIntervalSince1970 * 1000).rounded(.down)) }

    static func milliseconds(_ duration: Duration) -> Int64 {
        duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000
    }

    static func date(_ milliseconds: Int64) -> Date { Date(timeIntervalSince1970: Double(milliseconds) / 1000) }
}
