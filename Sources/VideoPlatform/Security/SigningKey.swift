internal import Crypto
public import Foundation
internal import VideoCore
#if canImport(Glibc)
internal import Glibc
#endif

/// A secret key for HMAC-SHA256 signatures (access tokens, refresh tokens, playback URLs), with
/// the id that names it in what it signs, so keys can be rotated: sign with the newest, verify
/// with any still trusted.
public struct SigningKey: Sendable, Hashable, CustomStringConvertible {
    /// Names the key in tokens (`kid`) and signed URLs: the first 8 bytes of the SHA-256 of the
    /// key, base64url. Reveals nothing usable about the key.
    public let id: String
    /// The key material: 32 bytes or more.
    let bytes: [UInt8]

    /// A key from its bytes (at least 32, as RFC 7518 asks of HS256 keys); throws `invalidInput`.
    public init(bytes: [UInt8]) throws {
        guard bytes.count >= 32 else {
            throw VideoStackError(.invalidInput, "A signing key needs at least 32 bytes of secret; got \(bytes.count). Generate one with `openssl rand -base64 32`.")
        }
        self.bytes = bytes
        id = Base64Text.encode(SHA256.hash(data: bytes).prefix(8), urlSafe: true)
    }

    /// Names the key without showing it, so a key never ends up in a log.
    public var description: String { "SigningKey(id: \(id))" }

    /// A new key of 32 bytes from the system's cryptographic random source.
    public static func generate() -> SigningKey {
        // 32 bytes always satisfies init(bytes:).
        try! SigningKey(bytes: SecureRandom.bytes(32))
    }

    /// The key stored in `directory/name`, created there on first use: 32 random bytes in
    /// base64, mode 0600, written to a temporary file and linked into place, so two processes
    /// starting at once agree on one key and a crash never leaves half a key. A file of your own
    /// (`openssl rand -base64 32 > name; chmod 600 name`) is used as it is.
    ///
    /// Throws `io` when the file cannot be read or written, `corrupt` when it does not hold a
    /// key, and `forbidden` when group or others may read it (fix with `chmod 600`).
    public static func loadOrCreate(named name: String, in directory: URL) throws -> SigningKey {
        let url = directory.appendingPathComponent(name)
        if let key = try load(url) { return key }
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let temporary = directory.appendingPathComponent(".\(name).\(UUID().uuidString)")
        let key = generate()
        // Padded base64, as `openssl rand -base64 32` writes it, so an operator can supply one.
        let text = Array((Data(key.bytes).base64EncodedString() + "\n").utf8)
        let fd = open(temporary.path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw ioError("open", temporary) }
        defer { unlink(temporary.path) }
        let written = text.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        let synced = fsync(fd)
        close(fd)
        guard written == text.count, synced == 0 else { throw ioError("write", temporary) }
        // link(2) fails with EEXIST if another process got there first: then its key wins.
        if link(temporary.path, url.path) != 0 && errno != EEXIST { throw ioError("link", url) }
        guard let stored = try load(url) else {
            throw VideoStackError(.io, "The signing key \(url.path) vanished while it was being created.")
        }
        return stored
    }

    private static func load(_ url: URL) throws -> SigningKey? {
        var info = stat()
        guard stat(url.path, &info) == 0 else {
            if errno == ENOENT { return nil }
            throw ioError("stat", url)
        }
        guard info.st_mode & 0o077 == 0 else {
            throw VideoStackError(.forbidden, "The signing key \(url.path) may be read by other users (mode \(String(info.st_mode & 0o777, radix: 8))); run `chmod 600` on it.")
        }
        let data: Data
        do { data = try Data(contentsOf: url) } catch { throw VideoStackError(.io, "Cannot read the signing key \(url.path).", cause: ErrorDescription(error)) }
        let text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard let bytes = Data(base64Encoded: text).map(Array.init) ?? Base64Text.decode(text, urlSafe: false), bytes.count >= 32 else {
            throw VideoStackError(.corrupt, "The signing key file \(url.path) does not hold a base64 key of 32 bytes or more; restore it, or delete it to make a new key (which signs everyone out).")
        }
        return try SigningKey(bytes: bytes)
    }

    private static func ioError(_ call: String, _ url: URL) -> VideoStackError {
        let code = errno
        return VideoStackError(.io, "\(call)(\(url.path)) failed while storing a signing key: \(String(cString: strerror(code))).",
                               cause: POSIXErrorCode(code, String(cString: strerror(code))))
    }

    /// HMAC-SHA256 of `message` under this key.
    func authenticationCode(for message: some Sequence<UInt8>) -> [UInt8] {
        Array(HMAC<SHA256>.authenticationCode(for: Array(message), using: SymmetricKey(data: bytes)))
    }

    /// Whether `code` is this key's HMAC-SHA256 of `message`, compared in constant time.
    func isValid(_ code: [UInt8], for message: some Sequence<UInt8>) -> Bool {
        ConstantTime.equal(authenticationCode(for: message), code)
    }
}

/// The keys one kind of signature trusts: the first signs, all verify.
struct SigningKeyring: Sendable {
    let current: SigningKey
    private let byID: [String: SigningKey]

    init(current: SigningKey, previous: [SigningKey] = []) {
        self.current = current
        var byID: [String: SigningKey] = [:]
        for key in previous { byID[key.id] = key }
        byID[current.id] = current
        self.byID = byID
    }

    func key(id: String) -> SigningKey? { byID[id] }
    var all: [SigningKey] { Array(byID.values) }
}
