internal import CSQLite
internal import VideoCore

/// Where a store's database lives: a file, or a named database in this process's memory.
enum SQLiteLocation: Sendable, CustomStringConvertible {
    case file(path: String)
    /// SQLite's `memdb` VFS: every connection of the process that opens the same name shares one
    /// database, with the same locking as a file (a rollback journal in memory, not WAL), and
    /// the database disappears with its last connection.
    case memory(name: String)

    var filename: String {
        switch self {
        case .file(let path): path
        case .memory(let name): "file:/\(name)?vfs=memdb"
        }
    }

    var openFlags: Int32 {
        switch self {
        case .file: 0
        case .memory: SQLITE_OPEN_URI
        }
    }

    var description: String {
        switch self {
        case .file(let path): "'\(path)'"
        case .memory(let name): "in memory ('\(name)')"
        }
    }
}

/// One SQLite connection, owned by exactly one thread of the store's pools.
final class SQLiteConnection {
    let handle: OpaquePointer
    let location: SQLiteLocation
    private var statements: [String: SQLiteStatement] = [:]
    private var itemStatement: SQLiteStatement?

    enum Mode { case writer, reader }

    /// - Parameter busyTimeout: how long a statement waits for a lock another connection holds.
    init(_ location: SQLiteLocation, mode: Mode, busyTimeout: Duration = .seconds(10)) throws {
        var db: OpaquePointer?
        let flags = (mode == .writer ? SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE : SQLITE_OPEN_READWRITE)
            | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE | location.openFlags
        let rc = sqlite3_open_v2(location.filename, &db, flags, nil)
        guard rc == SQLITE_OK, let db else {
            let message = db.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
            sqlite3_close_v2(db)
            if rc & 0xFF == SQLITE_NOTADB || rc & 0xFF == SQLITE_CORRUPT { throw SQLiteConnection.error(rc, message) }
            throw VideoStackError(.io, "Cannot open the database \(location): \(message). Check that the directory exists and is writable.",
                                  cause: SQLiteError(resultCode: SQLiteResultCode(rawValue: rc), message: message))
        }
        handle = db
        self.location = location
        let milliseconds = (busyTimeout / .milliseconds(1)).rounded(.up)
        sqlite3_busy_timeout(db, Int32(min(max(milliseconds, 0), Double(Int32.max))))
        sqlite3_extended_result_codes(db, 1)
        do {
            try execute("PRAGMA journal_mode = WAL")
            try execute("PRAGMA foreign_keys = OFF")
            if mode == .reader { try execute("PRAGMA query_only = ON") }
        } catch {
            statements.removeAll()
            sqlite3_close_v2(db)
            throw error
        }
    }

    deinit {
        itemStatement = nil
        statements.removeAll()
        sqlite3_close_v2(handle)
    }

    /// Runs SQL that returns no rows (several statements allowed).
    func execute(_ sql: String) throws {
        var errorMessage: UnsafeMutablePointer<CChar>?
        let rc = sqlite3_exec(handle, sql, nil, nil, &errorMessage)
        if rc != SQLITE_OK {
            let message = errorMessage.map { String(cString: $0) } ?? String(cString: sqlite3_errmsg(handle))
            sqlite3_free(errorMessage)
            throw SQLiteConnection.error(rc, message, sql: sql)
        }
    }

    /// Runs one fixed statement that returns no rows through the statement cache, so hot
    /// control statements (BEGIN, SAVEPOINT, COMMIT) are compiled once, not on every call.
    func run(_ sql: String) throws {
        let statement = try statement(sql)
        defer { statement.reset() }
        _ = try statement.step()
    }

    /// A cached prepared statement for `sql`, reset and with bindings cleared.
    func statement(_ sql: String) throws -> SQLiteStatement {
        if let cached = statements[sql] {
            return cached
        }
        var raw: OpaquePointer?
        let rc = sqlite3_prepare_v3(handle, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &raw, nil)
        guard rc == SQLITE_OK, let raw else {
            throw SQLiteConnection.error(rc, String(cString: sqlite3_errmsg(handle)), sql: sql)
        }
        let statement = SQLiteStatement(raw, connection: self)
        statements[sql] = statement
        return statement
    }

    /// Looks up one item row and hands its stored bytes to `body` (valid only inside it); nil
    /// when there is no such item.
    func withStoredItem<T>(_ key: TableLayout.PrimaryKey, _ body: (_ blob: UnsafeRawBufferPointer) throws -> T) throws -> T? {
        // Kept apart from the cache by text, so the hottest read does not hash its SQL.
        let statement: SQLiteStatement
        if let itemStatement {
            statement = itemStatement
        } else {
            statement = try self.statement("SELECT item FROM items WHERE pk = ? AND sk = ?")
            itemStatement = statement
        }
        defer { statement.reset() }
        return try key.pk.withUnsafeBytes { pk in
            try key.sk.withUnsafeBytes { sk in
                try statement.bind(1, pk)
                try statement.bind(2, sk)
                guard try statement.step() else { return nil }
                return try body(statement.blob(0))
            }
        }
    }

    var lastInsertRowID: Int64 { sqlite3_last_insert_rowid(handle) }

    /// Rows the last INSERT, UPDATE or DELETE changed.
    var changedRows: Int { Int(sqlite3_changes(handle)) }

    /// Turns an SQLite result code into the module's error, with SQLite's code, message and the
    /// failed statement as the cause. Every C return code goes through here.
    static func error(_ rc: Int32, _ message: String, sql: String? = nil) -> VideoStackError {
        let code: VideoStackError.Code
        let text: String
        switch rc & 0xFF {
        case SQLITE_CORRUPT, SQLITE_NOTADB:
            code = .corrupt
            text = "The database file is damaged or is not an SQLite database: \(message). Restore it from a backup."
        case SQLITE_FULL:
            code = .io
            text = "The disk is full: \(message). Free disk space and retry."
        case SQLITE_BUSY, SQLITE_LOCKED:
            code = .io
            text = "The database stayed locked by another connection for longer than the busy timeout: \(message). Find the process that holds it, or raise SQLiteStoreConfiguration.busyTimeout."
        case SQLITE_CANTOPEN, SQLITE_IOERR, SQLITE_READONLY, SQLITE_PERM:
            code = .io
            text = "SQLite could not read or write the database file: \(message). Check the file's permissions and the disk."
        case SQLITE_TOOBIG:
            code = .limitExceeded
            text = "A value is too large for SQLite: \(message)."
        default:
            code = .internal
            text = "SQLite failed: \(message)" + (sql.map { " (in \($0.prefix(120)))" } ?? "") + "."
        }
        return VideoStackError(code, text, cause: SQLiteError(resultCode: SQLiteResultCode(rawValue: rc), message: message, statement: sql))
    }
}

/// A prepared statement. Blob parameters are bound with SQLITE_STATIC from buffers the caller keeps
/// alive until `reset()`, so binding copies nothing.
final class SQLiteStatement {
    let handle: OpaquePointer
    unowned let connection: SQLiteConnection

    init(_ handle: OpaquePointer, connection: SQLiteConnection) {
        self.handle = handle
        self.connection = connection
    }

    deinit { sqlite3_finalize(handle) }

    func reset() {
        sqlite3_reset(handle)
        sqlite3_clear_bindings(handle)
    }

    /// Binds a blob that must stay valid until `reset()`.
    func bind(_ index: Int32, _ bytes: UnsafeRawBufferPointer) throws {
        // A zero-length blob still needs a non-null pointer, or SQLite binds NULL.
        let base = bytes.baseAddress ?? UnsafeRawPointer(bitPattern: 1)!
        try check(sqlite3_bind_blob(handle, index, base, Int32(bytes.count), videostack_sqlite_static()))
    }

    /// Binds a copy of `bytes`.
    func bind(_ index: Int32, copying bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { raw in
            let base = raw.baseAddress ?? UnsafeRawPointer(bitPattern: 1)!
            try check(sqlite3_bind_blob(handle, index, base, Int32(raw.count), videostack_sqlite_transient()))
        }
    }

    func bind(_ index: Int32, _ value: Int64) throws {
        try check(sqlite3_bind_int64(handle, index, value))
    }

    func bind(_ index: Int32, _ value: Double) throws {
        try check(sqlite3_bind_double(handle, index, value))
    }

    func bind(_ index: Int32, _ text: String) throws {
        try check(sqlite3_bind_text(handle, index, text, -1, videostack_sqlite_transient()))
    }

    /// Steps once; true when a row is available.
    func step() throws -> Bool {
        let rc = sqlite3_step(handle)
        if rc == SQLITE_ROW { return true }
        if rc == SQLITE_DONE { return false }
        throw SQLiteConnection.error(rc, String(cString: sqlite3_errmsg(connection.handle)), sql: sql)
    }

    /// The blob in `column` of the current row, valid until the next step or reset.
    func blob(_ column: Int32) -> UnsafeRawBufferPointer {
        let count = Int(sqlite3_column_bytes(handle, column))
        guard count > 0, let pointer = sqlite3_column_blob(handle, column) else {
            return UnsafeRawBufferPointer(start: nil, count: 0)
        }
        return UnsafeRawBufferPointer(start: pointer, count: count)
    }

    func bytes(_ column: Int32) -> [UInt8] { Array(blob(column)) }

    func int64(_ column: Int32) -> Int64 { sqlite3_column_int64(handle, column) }
    func double(_ column: Int32) -> Double { sqlite3_column_double(handle, column) }
    func isNull(_ column: Int32) -> Bool { sqlite3_column_type(handle, column) == SQLITE_NULL }
    func text(_ column: Int32) -> String {
        guard let pointer = sqlite3_column_text(handle, column) else { return "" }
        return String(cString: pointer)
    }

    private func check(_ rc: Int32) throws {
        guard rc == SQLITE_OK else {
            throw SQLiteConnection.error(rc, String(cString: sqlite3_errmsg(connection.handle)), sql: sql)
        }
    }

    /// The statement's SQL text, for error reports.
    var sql: String? { sqlite3_sql(handle).map { String(cString: $0) } }
}
