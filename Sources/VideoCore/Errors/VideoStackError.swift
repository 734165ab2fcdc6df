#if canImport(Glibc)
internal import Glibc
#elseif canImport(Darwin)
internal import Darwin
#endif

/// The one error type every VideoStack module throws.
///
/// Match on ``code`` to handle a kind of failure; read ``message`` for what was wrong with the
/// input and what to do about it. ``cause`` keeps the lower-level error (an SQLite result, an
/// FFmpeg return code, a POSIX error, or structured detail such as
/// a transaction's per-action cancellation reasons).
///
/// ```swift
/// do { try await store.putItem(item, condition: .notExists("pk")) }
/// catch let error as VideoStackError where error.code == .conditionFailed { … }
/// ```
public struct VideoStackError: Error, Sendable, CustomStringConvertible {
    /// What kind of failure this is. New codes can be added without breaking `switch`-free callers.
    public var code: Code
    /// A human-readable sentence: what was wrong and, where possible, what to do.
    public var message: String
    /// The underlying error, if any.
    public var cause: (any Error & Sendable)?
    /// How long to wait before trying again, for ``Code/rateLimited`` (HTTP `Retry-After`).
    public var retryAfter: Duration?

    public init(_ code: Code, _ message: String, cause: (any Error & Sendable)? = nil, retryAfter: Duration? = nil) {
        self.code = code
        self.message = message
        self.cause = cause
        self.retryAfter = retryAfter
    }

    public var description: String {
        if let cause {
            return "\(code): \(message) (cause: \(cause))"
        }
        return "\(code): \(message)"
    }

    /// An open set of error codes. Compare with `==` or use in `catch … where`.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        /// The code's stable name, e.g. `"conditionFailed"`.
        public let name: String

        package init(_ name: String) { self.name = name }

        public var description: String { name }

        /// The caller passed something malformed: an empty key, a bad path, an unknown index.
        public static let invalidInput = Code("invalidInput")
        /// The thing asked for does not exist.
        public static let notFound = Code("notFound")
        /// A condition on a write did not hold; nothing was written.
        public static let conditionFailed = Code("conditionFailed")
        /// A transaction was cancelled; nothing was written. The cause holds the per-action reasons.
        public static let transactionCanceled = Code("transactionCanceled")
        /// A size or count limit was exceeded (item size, key size, actions per transaction, …).
        public static let limitExceeded = Code("limitExceeded")
        /// The value conflicts with existing state (duplicate username, …).
        public static let conflict = Code("conflict")
        /// Stored data is damaged or not in the expected format.
        public static let corrupt = Code("corrupt")
        /// The input is valid but uses something this build does not support.
        public static let unsupported = Code("unsupported")
        /// The operation was cancelled by the caller.
        public static let cancelled = Code("cancelled")
        /// The operating system refused an I/O operation.
        public static let io = Code("io")
        /// A byte range lies outside the object (HTTP 416).
        public static let outOfRange = Code("outOfRange")
        /// The caller is not allowed to do this.
        public static let forbidden = Code("forbidden")
        /// The caller did not prove who it is: no credentials, wrong ones, or an expired or
        /// revoked token (HTTP 401).
        public static let unauthenticated = Code("unauthenticated")
        /// Too many requests or attempts; ``VideoStackError/retryAfter`` says when to try again
        /// (HTTP 429).
        public static let rateLimited = Code("rateLimited")
        /// A bug or an unexpected state inside VideoStack.
        public static let `internal` = Code("internal")
        /// Another request holds the resource (a second writer to one upload); retry later (HTTP 423).
        public static let locked = Code("locked")
        /// Received bytes do not match the checksum sent with them; they were discarded (tus 460).
        public static let checksumMismatch = Code("checksumMismatch")
        /// The thing existed but has expired or was removed for good (HTTP 410).
        public static let gone = Code("gone")
    }
}

extension VideoStackError.Code {
    /// Lets `switch` match any error against a code: `case VideoStackError.Code.notFound:`.
    public static func ~= (code: Self, error: any Error) -> Bool {
        (error as? VideoStackError)?.code == code
    }
}

/// The text of a non-`Sendable` error, kept as a ``VideoStackError/cause``.
public struct ErrorDescription: Error, Sendable, CustomStringConvertible {
    public let description: String

    public init(_ error: any Error) { description = String(describing: error) }
}

/// A POSIX `errno` value: its number and the system's text for it.
public struct POSIXErrorCode: Error, Hashable, Sendable, CustomStringConvertible {
    /// The `errno` number, e.g. `ENOSPC`.
    public let rawValue: Int32
    /// The system's text for the number (`strerror`), e.g. "No space left on device".
    public let description: String

    /// The code with the text to show for it.
    public init(_ rawValue: Int32, _ description: String) {
        self.rawValue = rawValue
        self.description = description
    }

    /// The code for `rawValue`, with the system's text for it.
    public init(_ rawValue: Int32) {
        self.init(rawValue, String(cString: strerror(rawValue)))
    }
}

/// A system call that failed, kept as the cause of an I/O error: which call, and `errno`.
///
/// ```swift
/// catch let error as VideoStackError {
///     if let failure = error.cause as? SystemCallError, failure.errno.rawValue == ENOSPC { … }
/// }
/// ```
public struct SystemCallError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The C name of the call that failed: `"open"`, `"rename"`, `"fsync"`, ….
    public let systemCall: String
    /// `errno` right after the call.
    public let errno: POSIXErrorCode

    /// The failure of `systemCall` with `errno`.
    public init(systemCall: String, errno: POSIXErrorCode) {
        self.systemCall = systemCall
        self.errno = errno
    }

    /// The call and errno, for logs: "rename failed with errno 28 (No space left on device)".
    public var description: String { "\(systemCall) failed with errno \(errno.rawValue) (\(errno.description))" }
}
