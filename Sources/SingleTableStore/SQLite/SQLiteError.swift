internal import CSQLite
public import VideoCore

/// An SQLite result code (primary or extended), as SQLite documents them.
///
/// A `VideoStackError` raised by ``SQLiteItemStore`` for an SQLite failure has an ``SQLiteError``
/// as its cause; match it by code in a `catch` (a primary code matches its extended codes too):
///
/// ```swift
/// do { try await store.putItem(item) }
/// catch SQLiteResultCode.full { … }        // the disk is full (any SQLITE_FULL)
/// catch SQLiteResultCode.busy { … }        // another process held the lock too long
/// ```
public struct SQLiteResultCode: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    /// The numeric code: the primary code in the low 8 bits, the extended detail above them.
    public let rawValue: Int32

    /// The code with this number (primary or extended).
    public init(rawValue: Int32) { self.rawValue = rawValue }

    /// The primary code of an extended one (`ioError` for `SQLITE_IOERR_SHORT_READ`).
    public var primaryResultCode: SQLiteResultCode { SQLiteResultCode(rawValue: rawValue & 0xFF) }

    /// SQLite's own text for the code, and the number.
    public var description: String { "\(String(cString: sqlite3_errstr(rawValue))) (SQLite result \(rawValue))" }

    /// Generic error (SQL error or missing database).
    public static let error = SQLiteResultCode(rawValue: SQLITE_ERROR)
    /// An internal logic error in SQLite.
    public static let `internal` = SQLiteResultCode(rawValue: SQLITE_INTERNAL)
    /// Access permission denied.
    public static let permission = SQLiteResultCode(rawValue: SQLITE_PERM)
    /// A callback asked for an abort.
    public static let abort = SQLiteResultCode(rawValue: SQLITE_ABORT)
    /// Another connection (another process) held a lock for longer than the busy timeout.
    public static let busy = SQLiteResultCode(rawValue: SQLITE_BUSY)
    /// A table in the database is locked.
    public static let locked = SQLiteResultCode(rawValue: SQLITE_LOCKED)
    /// A `malloc()` failed.
    public static let noMemory = SQLiteResultCode(rawValue: SQLITE_NOMEM)
    /// An attempt to write a read-only database.
    public static let readOnly = SQLiteResultCode(rawValue: SQLITE_READONLY)
    /// The operation was interrupted.
    public static let interrupt = SQLiteResultCode(rawValue: SQLITE_INTERRUPT)
    /// A disk I/O error.
    public static let ioError = SQLiteResultCode(rawValue: SQLITE_IOERR)
    /// The file is damaged.
    public static let corrupt = SQLiteResultCode(rawValue: SQLITE_CORRUPT)
    /// The disk is full.
    public static let full = SQLiteResultCode(rawValue: SQLITE_FULL)
    /// The database file cannot be opened.
    public static let cantOpen = SQLiteResultCode(rawValue: SQLITE_CANTOPEN)
    /// A database lock protocol error.
    public static let `protocol` = SQLiteResultCode(rawValue: SQLITE_PROTOCOL)
    /// The database schema changed.
    public static let schema = SQLiteResultCode(rawValue: SQLITE_SCHEMA)
    /// A string or blob exceeds SQLite's size limit.
    public static let tooBig = SQLiteResultCode(rawValue: SQLITE_TOOBIG)
    /// A constraint was violated.
    public static let constraint = SQLiteResultCode(rawValue: SQLITE_CONSTRAINT)
    /// A data type mismatch.
    public static let mismatch = SQLiteResultCode(rawValue: SQLITE_MISMATCH)
    /// The library was used incorrectly.
    public static let misuse = SQLiteResultCode(rawValue: SQLITE_MISUSE)
    /// A parameter index out of range.
    public static let range = SQLiteResultCode(rawValue: SQLITE_RANGE)
    /// The file is not an SQLite database.
    public static let notADatabase = SQLiteResultCode(rawValue: SQLITE_NOTADB)

    /// Whether `error` is a `VideoStackError` caused by an SQLite failure with this code. A
    /// primary code matches every extended code under it; an extended code only itself.
    public static func ~= (pattern: SQLiteResultCode, error: any Error) -> Bool {
        guard let failure = (error as? VideoStackError)?.sqliteError else { return false }
        return pattern.rawValue == failure.resultCode.rawValue
            || (pattern.rawValue == pattern.primaryResultCode.rawValue && pattern == failure.resultCode.primaryResultCode)
    }
}

/// What SQLite reported when a call failed; the cause of the `VideoStackError` the store throws.
public struct SQLiteError: Error, Sendable, CustomStringConvertible {
    /// The extended result code.
    public let resultCode: SQLiteResultCode
    /// SQLite's message about this failure.
    public let message: String
    /// The SQL statement that failed, when one did (opening a file runs none).
    public let statement: String?

    /// A failure as SQLite reported it.
    public init(resultCode: SQLiteResultCode, message: String, statement: String? = nil) {
        self.resultCode = resultCode
        self.message = message
        self.statement = statement
    }

    /// The code, the message and the statement, for logs.
    public var description: String {
        "\(resultCode): \(message)" + (statement.map { " in `\($0.prefix(200))`" } ?? "")
    }
}

extension VideoStackError {
    /// What SQLite reported, when this error comes from an SQLite failure.
    public var sqliteError: SQLiteError? { cause as? SQLiteError }
}
