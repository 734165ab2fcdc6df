internal import Foundation
internal import Synchronization
internal import VideoCore

/// Turns passwords into stored hashes and checks passwords against them.
///
/// The accounts service calls it for every sign-up and sign-in. ``Argon2PasswordHasher`` is the
/// built-in one; another (libsodium, a hardware module) plugs in behind this protocol.
public protocol PasswordHasher: Sendable {
    /// A new self-describing hash of `password` (its parameters and salt inside the text).
    func hash(_ password: String) async throws -> String

    /// Whether `password` matches `encoded`, and whether `encoded` should be replaced by a hash
    /// made with the current parameters. A damaged `encoded` throws `corrupt`.
    func verify(_ password: String, against encoded: String) async throws -> PasswordCheck

    /// A hash that no password matches, made with the current parameters, whose verification
    /// costs what a real one does: sign-in checks it when the email is unknown, so a wrong email
    /// takes as long as a wrong password.
    func decoyHash() -> String
}

/// The outcome of checking a password against a stored hash.
public enum PasswordCheck: Hashable, Sendable {
    case mismatch
    /// The password is right; `needsRehash` when the hash was made with other parameters than
    /// the current ones (store a new hash now, while the password is at hand).
    case match(needsRehash: Bool)
}

/// Settings of Argon2id password hashing.
///
/// The defaults are OWASP's first recommendation for Argon2id (19 MiB, 2 iterations, 1 lane),
/// up to about a tenth of a second a hash on one core. Raise them whenever the hardware
/// allows: stored hashes keep their own parameters and are upgraded at the next sign-in.
public struct PasswordHashingConfiguration: Sendable, Hashable {
    /// Memory per hash in KiB (Argon2's `m`).
    public var memoryKiB: Int
    /// Passes over the memory (Argon2's `t`).
    public var iterations: Int
    /// Lanes (Argon2's `p`); libargon2 computes them on that many threads of its own.
    public var parallelism: Int
    /// Random salt per hash, in bytes.
    public var saltLength: Int
    /// Length of the hash itself, in bytes.
    public var hashLength: Int
    /// Hashes computed at once, each on a dedicated thread; the rest wait in line. Bounds both
    /// CPU and memory (`threads × memoryKiB`), so a burst of sign-ins cannot starve other work.
    public var threads: Int
    /// Hashes allowed to wait for a thread; beyond that, sign-ups and sign-ins fail fast with
    /// `rateLimited` instead of queueing without end.
    public var maximumWaiting: Int

    /// OWASP's Argon2id settings, two hashing threads, 256 waiting at most.
    public init(memoryKiB: Int = 19 * 1024, iterations: Int = 2, parallelism: Int = 1, saltLength: Int = 16, hashLength: Int = 32,
                threads: Int = 2, maximumWaiting: Int = 256) {
        self.memoryKiB = memoryKiB
        self.iterations = iterations
        self.parallelism = parallelism
        self.saltLength = saltLength
        self.hashLength = hashLength
        self.threads = threads
        self.maximumWaiting = maximumWaiting
    }

    /// Throws `invalidInput` naming the first setting out of range.
    public func validate() throws {
        try PasswordHash.checkBounds(memoryKiB: memoryKiB, iterations: iterations, parallelism: parallelism,
                                     saltLength: saltLength, hashLength: hashLength)
        guard (1...64).contains(threads), maximumWaiting >= 0 else {
            throw VideoStackError(.invalidInput, "Password hashing needs 1 to 64 threads and a non-negative queue; got \(threads) and \(maximumWaiting).")
        }
    }
}

/// Argon2id through Debian's libargon2, on a few threads of its own.
///
/// Passwords are hashed as the UTF-8 of their NFKC normalization (NIST SP 800-63B), so the
/// same password typed on two keyboards that compose characters differently still matches.
/// Hashes compare in constant time.
public final class Argon2PasswordHasher: PasswordHasher {
    /// The parameters of new hashes.
    public let configuration: PasswordHashingConfiguration
    private let pool: BlockingThreadPool<Void>
    /// Hash jobs queued or running, to refuse work beyond `threads + maximumWaiting`.
    private let inFlight = Atomic<Int>(0)

    /// Starts `configuration.threads` hashing threads; throws `invalidInput` for bad settings.
    public init(configuration: PasswordHashingConfiguration = .init()) throws {
        try configuration.validate()
        self.configuration = configuration
        pool = try BlockingThreadPool(name: "VideoStack.password", threads: configuration.threads) { _ in () }
    }

    deinit { pool.shutdown() }

    /// A PHC string of a new Argon2id hash with a fresh salt, computed on a hashing thread.
    public func hash(_ password: String) async throws -> String {
        let salt = SecureRandom.bytes(configuration.saltLength)
        let c = configuration
        let tag = try await compute(password: Self.bytes(of: password), salt: salt, memoryKiB: c.memoryKiB,
                                    iterations: c.iterations, parallelism: c.parallelism, length: c.hashLength)
        return PasswordHash(memoryKiB: c.memoryKiB, iterations: c.iterations, parallelism: c.parallelism, salt: salt, hash: tag).encoded
    }

    /// Recomputes the hash with the stored parameters and salt and compares in constant time.
    public func verify(_ password: String, against encoded: String) async throws -> PasswordCheck {
        let stored = try PasswordHash(parsing: encoded)
        let tag = try await compute(password: Self.bytes(of: password), salt: stored.salt, memoryKiB: stored.memoryKiB,
                                    iterations: stored.iterations, parallelism: stored.parallelism, length: stored.hash.count)
        guard ConstantTime.equal(tag, stored.hash) else { return .mismatch }
        return .match(needsRehash: stored.differs(from: configuration))
    }

    /// Random salt and tag with the current parameters: no password matches it.
    public func decoyHash() -> String {
        let c = configuration
        return PasswordHash(memoryKiB: c.memoryKiB, iterations: c.iterations, parallelism: c.parallelism,
                            salt: SecureRandom.bytes(c.saltLength), hash: SecureRandom.bytes(c.hashLength)).encoded
    }

    /// The bytes Argon2 hashes for a password.
    static func bytes(of password: String) -> [UInt8] {
        Array(password.precomposedStringWithCompatibilityMapping.utf8)
    }

    private func compute(password: [UInt8], salt: [UInt8], memoryKiB: Int, iterations: Int, parallelism: Int, length: Int) async throws -> [UInt8] {
        let admitted = inFlight.add(1, ordering: .relaxed).newValue
        defer { inFlight.subtract(1, ordering: .relaxed) }
        guard admitted <= configuration.threads + configuration.maximumWaiting else {
            throw VideoStackError(.rateLimited, "Too many passwords are being checked at once; try again in a moment.", retryAfter: .seconds(1))
        }
        return try await pool.run { _ in
            try Argon2id.hash(password: password, salt: salt, memoryKiB: memoryKiB, iterations: iterations, parallelism: parallelism, length: length)
        }
    }
}
