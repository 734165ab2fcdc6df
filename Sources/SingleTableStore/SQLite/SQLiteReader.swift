internal import Foundation
internal import VideoCore

/// A reader thread's state: its connection and the logic of every read.
final class SQLiteReader {
    let connection: SQLiteConnection
    let layout: TableLayout
    private let cache: DecodedItemCache
    let pageCache: PageCache

    init(connection: SQLiteConnection, layout: TableLayout, cache: DecodedItemCache, pageCache: PageCache) {
        self.connection = connection
        self.layout = layout
        self.cache = cache
        self.pageCache = pageCache
    }

    func get(_ key: TableLayout.PrimaryKey) throws -> Item? {
        try connection.withStoredItem(key) { try cache.item($0) }
    }

    /// Reads in one read transaction, so the batch sees one consistent state.
    func batchGet(_ keys: [TableLayout.PrimaryKey]) throws -> [Item] {
        try connection.run("BEGIN")
        defer { try? connection.run("COMMIT") }
        return try keys.compactMap { try get($0) }
    }

    // MARK: Query and scan

    enum Parameter: Hashable {
        case blob([UInt8])
        case int(Int64)
    }

    /// What a query's SQL text depends on.
    private struct QueryShape: Hashable {
        var index: String?
        /// 0 none, then =, <, <=, >, >=, BETWEEN, begins_with.
        var condition: UInt8
        /// begins_with with an upper bound (a prefix of all 0xFF bytes has none).
        var bounded: Bool
        /// Continues after a page token.
        var resumes: Bool
        var ascending: Bool
    }

    /// Prepared statements by shape, so a query neither builds nor hashes its SQL text.
    private var statementByShape: [QueryShape: SQLiteStatement] = [:]

    private func queryStatement(_ shape: QueryShape) throws -> SQLiteStatement {
        if let statement = statementByShape[shape] { return statement }
        let statement = try connection.statement(querySQL(shape))
        statementByShape[shape] = statement
        return statement
    }

    private func querySQL(_ shape: QueryShape) -> String {
        let sortColumn = shape.index == nil ? "sk" : "e.isk"
        var sql = shape.index == nil
            ? "SELECT item FROM items WHERE pk = ?"
            : "SELECT i.item FROM index_entries e JOIN items i ON i.pk = e.pk AND i.sk = e.sk WHERE e.idx = ? AND e.ipk = ?"
        switch shape.condition {
        case 1: sql += " AND \(sortColumn) = ?"
        case 2: sql += " AND \(sortColumn) < ?"
        case 3: sql += " AND \(sortColumn) <= ?"
        case 4: sql += " AND \(sortColumn) > ?"
        case 5: sql += " AND \(sortColumn) >= ?"
        case 6: sql += " AND \(sortColumn) BETWEEN ? AND ?"
        case 7: sql += " AND \(sortColumn) >= ?" + (shape.bounded ? " AND \(sortColumn) < ?" : "")
        default: break
        }
        // Resuming continues after the last evaluated row; the table key breaks ties in an index.
        let comparison = shape.ascending ? ">" : "<"
        if shape.resumes {
            sql += shape.index == nil ? " AND sk \(comparison) ?" : " AND (e.isk, e.pk, e.sk) \(comparison) (?, ?, ?)"
        }
        let direction = shape.ascending ? "ASC" : "DESC"
        sql += shape.index == nil ? " ORDER BY sk \(direction)" : " ORDER BY e.isk \(direction), e.pk \(direction), e.sk \(direction)"
        sql += " LIMIT ?"
        return sql
    }

    func query(_ query: Query) throws -> Page {
        let index = try query.index.map { try layout.schema.index(named: $0) }
        let partitionAttribute = index?.partitionKey ?? layout.schema.partitionKey
        let sortAttribute = index == nil ? layout.schema.sortKey : index!.sortKey
        let partition = try layout.encodeKeyValue(query.partitionKey, partitionAttribute, limit: StoreLimits.maximumPartitionKeySize, role: "partition key")
        try query.filter?.validate()
        let limit = try checkedLimit(query.limit)

        // The SQL depends only on the query's shape; it is built once per shape and cached, and
        // the parameters follow the shape's order.
        var shape = QueryShape(index: index?.name, condition: 0, bounded: false, resumes: query.startToken != nil, ascending: query.ascending)
        var parameters: [Parameter] = index.map { [.int(layout.indexIDs[$0.name]!), .blob(partition)] } ?? [.blob(partition)]

        if let condition = query.sortKey {
            guard let sortAttribute else {
                throw VideoStackError(.invalidInput, "A sort key condition was given, but the \(index.map { "index \($0.name)" } ?? "table") has no sort key.")
            }
            func encode(_ value: AttributeValue) throws -> [UInt8] {
                try layout.encodeKeyValue(value, sortAttribute, limit: StoreLimits.maximumSortKeySize, role: "sort key")
            }
            switch condition {
            case .equal(let v): shape.condition = 1; parameters.append(.blob(try encode(v)))
            case .less(let v): shape.condition = 2; parameters.append(.blob(try encode(v)))
            case .lessOrEqual(let v): shape.condition = 3; parameters.append(.blob(try encode(v)))
            case .greater(let v): shape.condition = 4; parameters.append(.blob(try encode(v)))
            case .greaterOrEqual(let v): shape.condition = 5; parameters.append(.blob(try encode(v)))
            case .between(let a, let b):
                let (low, high) = (try encode(a), try encode(b))
                guard !high.lexicographicallyPrecedes(low) else {
                    throw VideoStackError(.invalidInput, "BETWEEN needs its lower bound first; \(a) is greater than \(b).")
                }
                shape.condition = 6
                parameters += [.blob(low), .blob(high)]
            case .beginsWith(let v):
                guard sortAttribute.type != .number else {
                    throw VideoStackError(.invalidInput, "begins_with works on string and binary sort keys; '\(sortAttribute.name)' is a number.")
                }
                let prefix: [UInt8]
                switch v {
                case .s(let s) where sortAttribute.type == .string: prefix = Array(s.utf8)
                case .b(let b) where sortAttribute.type == .binary: prefix = b
                default:
                    throw VideoStackError(.invalidInput, "begins_with on '\(sortAttribute.name)' needs a \(sortAttribute.type.rawValue) prefix; got \(v.typeName).")
                }
                shape.condition = 7
                parameters.append(.blob(prefix))
                if let upper = KeyEncoding.prefixSuccessor(prefix) {
                    shape.bounded = true
                    parameters.append(.blob(upper))
                }
            }
        }

        if let token = query.startToken {
            let start = try decodeToken(token, kind: index == nil ? .tableQuery : .indexQuery, index: index)
            guard start.partition == partition else {
                throw VideoStackError(.invalidInput, "The page token belongs to a query of another partition; pass the token only to the query that returned it.")
            }
            parameters += index == nil ? [.blob(start.tableKey.sk)] : [.blob(start.sort), .blob(start.tableKey.pk), .blob(start.tableKey.sk)]
        }
        parameters.append(.int(Int64(limit)))

        return try page(try queryStatement(shape), parameters: parameters, limit: limit, filter: query.filter, index: index, remember: true) { item in
            let key = try layout.primaryKey(of: item)
            let sort = try index.flatMap { try layout.indexKey(of: item, in: $0)?.isk } ?? key.sk
            return Token(kind: index == nil ? .tableQuery : .indexQuery, index: index?.name ?? "", partition: partition, sort: sort, tableKey: key)
        }
    }

    func scan(_ scan: Scan) throws -> Page {
        let index = try scan.index.map { try layout.schema.index(named: $0) }
        try scan.filter?.validate()
        let limit = try checkedLimit(scan.limit)
        var sql: String
        var parameters: [Parameter] = []
        if let index {
            sql = "SELECT i.item FROM index_entries e JOIN items i ON i.pk = e.pk AND i.sk = e.sk WHERE e.idx = ?"
            parameters.append(.int(layout.indexIDs[index.name]!))
            if let token = scan.startToken {
                let start = try decodeToken(token, kind: .indexScan, index: index)
                sql += " AND (e.ipk, e.isk, e.pk, e.sk) > (?, ?, ?, ?)"
                parameters += [.blob(start.partition), .blob(start.sort), .blob(start.tableKey.pk), .blob(start.tableKey.sk)]
            }
            sql += " ORDER BY e.ipk, e.isk, e.pk, e.sk LIMIT ?"
        } else {
            sql = "SELECT item FROM items"
            if let token = scan.startToken {
                let start = try decodeToken(token, kind: .tableScan, index: nil)
                sql += " WHERE (pk, sk) > (?, ?)"
                parameters += [.blob(start.tableKey.pk), .blob(start.tableKey.sk)]
            }
            sql += " ORDER BY pk, sk LIMIT ?"
        }
        parameters.append(.int(Int64(limit)))
        // Scans are not remembered: a scan through the table would push out the hot query pages.
        return try page(try connection.statement(sql), parameters: parameters, limit: limit, filter: scan.filter, index: index, remember: false) { item in
            let key = try layout.primaryKey(of: item)
            let entry = try index.flatMap { try layout.indexKey(of: item, in: $0) }
            return Token(kind: index == nil ? .tableScan : .indexScan, index: index?.name ?? "", partition: entry?.ipk ?? [], sort: entry?.isk ?? [], tableKey: key)
        }
    }

    private func checkedLimit(_ limit: Int?) throws -> Int {
        guard let limit else { return 10_000 }
        guard limit > 0 else {
            throw VideoStackError(.invalidInput, "A limit must be at least 1; got \(limit).")
        }
        return min(limit, 10_000)
    }

    /// Runs the statement (whose one column is the stored item), evaluating at most `limit` rows and at most 1 MB of items.
    /// With `remember`, the page comes from and goes to the page cache: while the rows' write ids match a remembered
    /// page's, no item is touched.
    private func page(_ statement: SQLiteStatement, parameters: [Parameter], limit: Int, filter: Condition?, index: SecondaryIndex?,
                      remember: Bool, token: (Item) throws -> Token) throws -> Page {
        defer { statement.reset() }
        for (offset, parameter) in parameters.enumerated() {
            switch parameter {
            case .blob(let bytes): try statement.bind(Int32(offset + 1), copying: bytes)
            case .int(let value): try statement.bind(Int32(offset + 1), value)
            }
        }
        let key = remember && pageCache.isEnabled
            ? PageCache.Key(statement: ObjectIdentifier(statement), parameters: parameters, filter: filter, projection: index?.name) : nil
        let hash = key?.hashValue ?? 0
        // The remembered page while every row so far matches it; `matched` rows are not copied out of it until one differs.
        var remembered = key.flatMap { pageCache.entry(for: $0, hash: hash) }
        var matched = 0
        var rows: [Item] = []
        var ids: [UInt64] = []
        var cacheable = key != nil
        var scanned = 0
        var bytes = 0
        func diverge() {
            guard let entry = remembered else { return }
            rows = Array(entry.rows[..<matched])
            ids = Array(entry.ids[..<matched])
            remembered = nil
        }
        while scanned < limit && bytes < StoreLimits.maximumPageBytes, try statement.step() {
            let blob = statement.blob(0)
            bytes += blob.count
            scanned += 1
            let id = ItemCodec.writeID(of: blob)
            if let entry = remembered {
                if matched < entry.ids.count, id == entry.ids[matched] {
                    matched += 1
                    continue
                }
                diverge()
            }
            rows.append(try cache.item(blob))
            if cacheable {
                if let id { ids.append(id) } else { cacheable = false }
            }
        }
        // As DynamoDB: a page that reached its limit (or 1 MB) has a next token even when no row
        // follows; the page after it is then empty and has none.
        let more = scanned == limit || bytes >= StoreLimits.maximumPageBytes
        if let entry = remembered {
            if matched == entry.ids.count {
                pageCache.hits += 1
                return entry.page
            }
            diverge()
        }
        let items = rows.compactMap { row -> Item? in
            guard filter?.evaluate(row) ?? true else { return nil }
            return index.map { layout.project(row, for: $0) } ?? row
        }
        let next = try more ? rows.last.map { try token($0).encoded() } : nil
        let page = Page(items: items, scannedCount: scanned, nextToken: next.map(PageToken.init))
        if let key, cacheable {
            pageCache.misses += 1
            pageCache.insert(key: key, hash: hash, ids: ids, rows: rows, rowBytes: bytes, page: page)
        }
        return page
    }

    // MARK: Page tokens

    struct Token {
        enum Kind: UInt8 { case tableQuery = 1, indexQuery, tableScan, indexScan }
        var kind: Kind
        var index: String
        /// Encoded partition key value (the index's for index queries and scans).
        var partition: [UInt8]
        /// Encoded sort key value (the index's for index queries and scans).
        var sort: [UInt8]
        var tableKey: TableLayout.PrimaryKey

        func encoded() -> String {
            var out: [UInt8] = []
            out.reserveCapacity(16 + index.utf8.count + partition.count + sort.count + tableKey.pk.count + tableKey.sk.count)
            out.append(0x56)
            out.append(kind.rawValue)
            ItemCodec.writeVarint(UInt64(index.utf8.count), into: &out)
            out.append(contentsOf: index.utf8)
            for field in [partition, sort, tableKey.pk, tableKey.sk] {
                ItemCodec.writeVarint(UInt64(field.count), into: &out)
                out.append(contentsOf: field)
            }
            // A checksum so that edited tokens are caught rather than silently misread.
            let checksum = Token.checksum(out)
            out.append(UInt8(checksum >> 24))
            out.append(UInt8(checksum >> 16 & 0xFF))
            out.append(UInt8(checksum >> 8 & 0xFF))
            out.append(UInt8(checksum & 0xFF))
            return Base64URL.encode(out)
        }

        static func checksum(_ bytes: [UInt8]) -> UInt32 {
            var hash = FNV1a()
            hash.combine(bytes)
            return UInt32(truncatingIfNeeded: hash.value)
        }
    }

    private func decodeToken(_ token: PageToken, kind: Token.Kind, index: SecondaryIndex?) throws -> Token {
        let malformed = VideoStackError(.invalidInput, "The page token is malformed; pass back exactly the nextToken a previous page returned.")
        guard token.text.utf8.count <= 16_384, let bytes = Base64URL.decode(token.text), bytes.count >= 3 else { throw malformed }
        return try bytes.withUnsafeBytes { raw in
            var reader = ItemCodec.Reader(bytes: raw)
            do {
                guard try reader.byte() == 0x56, let decodedKind = Token.Kind(rawValue: try reader.byte()) else { throw malformed }
                var fields: [[UInt8]] = []
                for _ in 0..<5 { fields.append(Array(try reader.slice())) }
                let bodyEnd = reader.offset
                guard raw.count == bodyEnd + 4 else { throw malformed }
                let checksum = bytes[bodyEnd...].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
                guard checksum == Token.checksum(Array(bytes[..<bodyEnd])) else { throw malformed }
                let name = String(decoding: fields[0], as: UTF8.self)
                guard decodedKind == kind, name == (index?.name ?? "") else {
                    throw VideoStackError(.invalidInput, "The page token belongs to another query or scan; pass it only to the request that returned it.")
                }
                return Token(kind: decodedKind, index: name, partition: fields[1], sort: fields[2], tableKey: .init(pk: fields[3], sk: fields[4]))
            } catch let error as VideoStackError where error.code == .corrupt {
                throw malformed
            }
        }
    }

    // MARK: Change feed

    func changes(after cursor: ChangeCursor?, limit: Int) throws -> [Change] {
        guard (1...10_000).contains(limit) else {
            throw VideoStackError(.invalidInput, "A change feed read takes a limit of 1 to 10,000; got \(limit).")
        }
        var after: Int64 = 0
        if let cursor {
            guard let seq = Int64(cursor.text), seq >= 0 else {
                throw VideoStackError(.invalidInput, "'\(cursor.text.prefix(40))' is not a change cursor of this store.")
            }
            after = seq
        }
        try connection.run("BEGIN")
        defer { try? connection.run("COMMIT") }
        let trimmed = try connection.statement("SELECT value FROM meta WHERE name = 'trimmedThrough'")
        let trimmedThrough = try trimmed.step() ? Int64(String(decoding: trimmed.blob(0), as: UTF8.self)) ?? 0 : 0
        trimmed.reset()
        if cursor != nil && after < trimmedThrough {
            throw VideoStackError(.outOfRange, "The change feed no longer holds changes after cursor \(after): changes through \(trimmedThrough) were trimmed by the retention window. Rebuild from a scan, then follow from latestChangeCursor().")
        }
        let statement = try connection.statement("SELECT seq, at, kind, key, old, new FROM changes WHERE seq > ? ORDER BY seq LIMIT ?")
        defer { statement.reset() }
        try statement.bind(1, after)
        try statement.bind(2, Int64(limit))
        var result: [Change] = []
        while try statement.step() {
            let kind: Change.Kind = switch statement.int64(2) { case 0: .insert; case 1: .modify; default: .remove }
            result.append(Change(
                cursor: SQLiteReader.cursor(statement.int64(0)), kind: kind,
                key: try ItemCodec.decode(statement.blob(3)),
                oldImage: statement.isNull(4) ? nil : try ItemCodec.decode(statement.blob(4)),
                newImage: statement.isNull(5) ? nil : try ItemCodec.decode(statement.blob(5)),
                date: Date(timeIntervalSince1970: statement.double(1))))
        }
        return result
    }

    func latestChangeCursor() throws -> ChangeCursor? {
        // sqlite_sequence remembers the last number even when trimming emptied the feed.
        let statement = try connection.statement("SELECT seq FROM sqlite_sequence WHERE name = 'changes'")
        defer { statement.reset() }
        guard try statement.step(), !statement.isNull(0) else { return nil }
        return SQLiteReader.cursor(statement.int64(0))
    }

    /// Zero-padded so that cursors compare in feed order as text too.
    static func cursor(_ seq: Int64) -> ChangeCursor {
        let digits = String(seq)
        return ChangeCursor(String(repeating: "0", count: max(0, 19 - digits.count)) + digits)
    }
}

/// Unpadded URL-safe base64 (RFC 4648 §5), so page tokens travel in URLs unescaped.
enum Base64URL {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)
    private static let values: [UInt8] = {
        var table = [UInt8](repeating: 0xFF, count: 256)
        for (value, byte) in alphabet.enumerated() { table[Int(byte)] = UInt8(value) }
        return table
    }()

    static func encode(_ bytes: [UInt8]) -> String {
        String(unsafeUninitializedCapacity: (bytes.count * 4 + 2) / 3) { out in
            var written = 0
            var index = 0
            func put(_ value: UInt32) {
                out[written] = alphabet[Int(value & 63)]
                written += 1
            }
            while index + 3 <= bytes.count {
                let n = UInt32(bytes[index]) << 16 | UInt32(bytes[index + 1]) << 8 | UInt32(bytes[index + 2])
                put(n >> 18); put(n >> 12); put(n >> 6); put(n)
                index += 3
            }
            let rest = bytes.count - index
            if rest > 0 {
                let n = UInt32(bytes[index]) << 16 | (rest == 2 ? UInt32(bytes[index + 1]) << 8 : 0)
                put(n >> 18); put(n >> 12)
                if rest == 2 { put(n >> 6) }
            }
            return written
        }
    }

    /// Nil for any character outside the alphabet or an impossible length.
    static func decode(_ text: String) -> [UInt8]? {
        let input = Array(text.utf8)
        guard input.count % 4 != 1 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(input.count * 3 / 4)
        var buffer: UInt32 = 0
        var bits = 0
        for byte in input {
            let value = values[Int(byte)]
            guard value != 0xFF else { return nil }
            buffer = buffer << 6 | UInt32(value)
            bits += 6
            if bits >= 8 {
                bits -= 8
                out.append(UInt8(truncatingIfNeeded: buffer >> UInt32(bits)))
            }
        }
        return out
    }
}
