/// Query pages a reader has returned, so that a page read again costs SQLite's visit of its
/// rows and one 8-byte comparison per row, instead of an item lookup per row.
///
/// An entry remembers the write id of every row its page evaluated (see
/// `ItemCodec.versionWithWriteID`: the id names the bytes of one write of one item). A later run
/// of the same statement with the same parameters still steps through the rows, so SQLite's
/// snapshot stays the truth, and compares their ids with the entry's: when the ids match one for
/// one and there are as many rows, the rows are the same bytes and the remembered page is the answer.
/// At the first difference the reader goes on row by row, reusing the items of the rows that
/// matched. So, like ``DecodedItemCache``, the cache can never serve a stale page, whoever wrote
/// the file.
///
/// This is what makes the hot reads of a video site cheap: a channel's first page of videos,
/// a popular video's newest reviews. It is set-associative like ``DecodedItemCache`` (a key's
/// hash picks a set of four entries, a new entry replaces one at random), and each reader
/// thread owns its cache, so a lookup takes no lock.
final class PageCache {
    /// What a page's rows and their rendering depend on: the prepared statement (one per SQL
    /// text on a connection, so its identity stands for the text), the bound parameters, the
    /// filter, and the index whose projection applies.
    struct Key: Hashable {
        var statement: ObjectIdentifier
        var parameters: [SQLiteReader.Parameter]
        var filter: Condition?
        var projection: String?
    }

    /// A page and the rows it was made from.
    struct Entry {
        var key: Key
        /// Write id of each evaluated row, in order.
        var ids: [UInt64]
        /// The stored item of each evaluated row, in order (before filter and projection).
        var rows: [Item]
        var page: Page
        var cost: Int
    }

    private static let ways = 4
    /// Pages whose rows take more bytes than this are not kept, so one page never holds a large
    /// share of the budget.
    static let largestCachedPageBytes = 256 * 1024
    private var slots: [Entry?]
    private let setMask: Int
    private let budget: Int
    private var bytes = 0
    /// Queries answered by a remembered page whose rows all matched, and queries that were not
    /// (counted by the reader; tests read them).
    var hits = 0
    var misses = 0

    /// - Parameter budget: bytes of memory the cache may hold (0 disables it), estimated per
    ///   page as four times its rows' stored size. There is an entry for every 16 KiB of budget.
    init(budget: Int) {
        self.budget = budget
        var sets = 1
        while sets * Self.ways * 16 * 1024 * 2 <= budget { sets *= 2 }
        setMask = budget > 0 ? sets - 1 : -1
        slots = [Entry?](repeating: nil, count: budget > 0 ? sets * Self.ways : 0)
    }

    var isEnabled: Bool { setMask >= 0 }

    private func base(of hash: Int) -> Int {
        hash & setMask &* Self.ways
    }

    /// The entry remembered for `key`, if any. The caller must still check its rows.
    func entry(for key: Key, hash: Int) -> Entry? {
        let base = base(of: hash)
        for slot in base..<base + Self.ways {
            if let entry = slots[slot], entry.key == key { return entry }
        }
        return nil
    }

    /// Remembers a page made from `rows` (whose stored forms took `rowBytes` bytes).
    func insert(key: Key, hash: Int, ids: [UInt64], rows: [Item], rowBytes: Int, page: Page) {
        guard isEnabled, rowBytes <= Self.largestCachedPageBytes else { return }
        let cost = rowBytes * 4 + rows.count * 16 + 256
        let base = base(of: hash)
        // The key's own slot if it is there (a page that changed), else an empty slot, else one
        // picked by the hash's upper bits.
        var victim = base + Int(truncatingIfNeeded: UInt(bitPattern: hash) >> 48) & (Self.ways - 1)
        for slot in base..<base + Self.ways {
            if let entry = slots[slot] {
                if entry.key == key { victim = slot; break }
            } else {
                victim = slot
            }
        }
        let freed = slots[victim]?.cost ?? 0
        guard bytes - freed + cost <= budget else { return }
        bytes += cost - freed
        slots[victim] = Entry(key: key, ids: ids, rows: rows, page: page, cost: cost)
    }
}
