public import Foundation
public import Logging
public import SingleTableStore
internal import VideoCore

/// Deletes items whose time is up, for the embedded store (DynamoDB deletes such items itself
/// with a TTL on `expiresAt`; there this sweeper is not needed).
///
/// An expiring item carries `expiresAt` (epoch seconds) and, set by ``index(_:expiresAt:)``, an
/// entry in `GSI1`: `GSI1PK = TTL#<hour>#<bucket>` and `GSI1SK = <PK>|<SK>`. The hour partitions
/// let a sweep read only what is due; eight buckets per hour spread a busy hour's writes, so no
/// index partition becomes hot. Code that reads such items must still treat `expiresAt` in the
/// past as gone: deletion comes later, at the next sweep.
public struct ExpirySweeper: Sendable {
    public let store: any ItemStore
    private let logger: Logger
    private let now: @Sendable () -> Date
    static let buckets = 8

    public init(store: any ItemStore, logger: Logger, now: @escaping @Sendable () -> Date = Date.init) {
        self.store = store
        self.logger = logger
        self.now = now
    }

    /// Adds the index entry that lets the sweeper find `item` once `expiresAt` has passed.
    /// The item must not use `GSI1` for anything else.
    public static func index(_ item: inout Item, expiresAt: Int64) {
        let hour = expiresAt / 3600
        let pk = item["PK"]?.string ?? ""
        let sk = item["SK"]?.string ?? ""
        let bucket = Int(UInt64(truncatingIfNeeded: pk.utf8.reduce(5381) { ($0 &* 33) &+ Int64($1) }) % UInt64(buckets))
        item["GSI1PK"] = .s("TTL#\(hour)#\(bucket)")
        item["GSI1SK"] = .s("\(pk)|\(sk)")
    }

    /// Deletes the items that expired in the hours since the last sweep (the first sweep looks
    /// back `lookBack`). Returns how many it deleted.
    @discardableResult
    public func sweep(lookBack: Duration = .seconds(7 * 24 * 3600)) async throws -> Int {
        let nowSeconds = Int64(now().timeIntervalSince1970)
        let currentHour = nowSeconds / 3600
        let metaKey: Item = ["PK": "META#expiry", "SK": "META"]
        let last = try await store.getItem(key: metaKey)?["sweptThroughHour"]?.int64
        let firstHour = last.map { $0 + 1 } ?? (nowSeconds - lookBack.components.seconds) / 3600
        var deleted = 0
        // Whole past hours, then the items of the current hour that are already due.
        for hour in firstHour...currentHour {
            for bucket in 0..<ExpirySweeper.buckets {
                var token: PageToken?
                repeat {
                    let page = try await store.query(Query(index: "GSI1", partitionKey: .s("TTL#\(hour)#\(bucket)"), limit: 100, startToken: token))
                    for item in page.items {
                        guard let expiresAt = item["expiresAt"]?.int64, expiresAt <= nowSeconds,
                              let pk = item["PK"], let sk = item["SK"] else { continue }
                        // Conditional, so an item renewed meanwhile (a later expiresAt) survives.
                        do {
                            try await store.deleteItem(key: ["PK": pk, "SK": sk], condition: .lessOrEqual("expiresAt", .int(nowSeconds)), returnOld: false)
                            deleted += 1
                        } catch let error as VideoStackError where error.code == .conditionFailed {
                            continue
                        }
                    }
                    token = page.nextToken
                } while token != nil
            }
        }
        if currentHour - 1 >= firstHour {
            try await store.putItem(["PK": "META#expiry", "SK": "META", "sweptThroughHour": .int(currentHour - 1)])
        }
        if deleted > 0 { logger.debug("expired items deleted", metadata: ["count": "\(deleted)"]) }
        return deleted
    }
}
