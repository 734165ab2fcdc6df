internal import VideoCore

/// An Argon2id password hash in the PHC string format, parameters beside the hash:
/// `$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>` (salt and hash in unpadded standard base64).
///
/// The same text libargon2's `argon2id_hash_encoded`, libsodium's `crypto_pwhash_str` and
/// Python's `argon2-cffi` write, so hashes move between implementations. Because the memory,
/// iterations and lanes travel with each hash, raising them later only changes how new hashes
/// are made; old ones still verify and are replaced at their owner's next sign-in.
struct PasswordHash: Hashable, Sendable {
    /// The Argon2 version this library computes (1.3, written `v=19`).
    static let version = 19

    var memoryKiB: Int
    var iterations: Int
    var parallelism: Int
    var salt: [UInt8]
    var hash: [UInt8]

    /// Whether a hash made with these parameters is weaker than (or otherwise different from) one
    /// made with `configuration`, so it should be replaced.
    func differs(from configuration: PasswordHashingConfiguration) -> Bool {
        memoryKiB != configuration.memoryKiB || iterations != configuration.iterations || parallelism != configuration.parallelism
            || salt.count != configuration.saltLength || hash.count != configuration.hashLength
    }

    var encoded: String {
        "$argon2id$v=\(Self.version)$m=\(memoryKiB),t=\(iterations),p=\(parallelism)$"
            + Base64Text.encode(salt, urlSafe: false) + "$" + Base64Text.encode(hash, urlSafe: false)
    }

    /// Parses a stored hash; anything else (another algorithm, a damaged string, absurd
    /// parameters that would make verifying it a denial of service) throws `corrupt`.
    init(parsing text: String) throws {
        func damaged(_ what: String) -> VideoStackError {
            VideoStackError(.corrupt, "The stored password hash is not a usable Argon2id PHC string (\(what)); reset the account's password.")
        }
        guard text.utf8.count <= 512 else { throw damaged("it is \(text.utf8.count) bytes long") }
        let fields = text.split(separator: "$", omittingEmptySubsequences: false)
        guard fields.count == 6, fields[0].isEmpty else { throw damaged("expected six '$'-separated fields") }
        guard fields[1] == "argon2id" else { throw damaged("the algorithm is '\(fields[1].prefix(20))'") }
        guard fields[2] == "v=\(Self.version)" else { throw damaged("the version is '\(fields[2].prefix(20))'") }
        var parameters: [Substring: Int] = [:]
        for pair in fields[3].split(separator: ",") {
            let parts = pair.split(separator: "=", maxSplits: 1)
            guard parts.count == 2, let value = Int(parts[1]), value > 0, parameters[parts[0]] == nil else {
                throw damaged("the parameter '\(pair.prefix(20))' is malformed")
            }
            parameters[parts[0]] = value
        }
        guard parameters.count == 3, let m = parameters["m"], let t = parameters["t"], let p = parameters["p"] else {
            throw damaged("it needs exactly the parameters m, t and p")
        }
        guard let salt = Base64Text.decode(fields[4], urlSafe: false), let hash = Base64Text.decode(fields[5], urlSafe: false) else {
            throw damaged("the salt or hash is not base64")
        }
        self.init(memoryKiB: m, iterations: t, parallelism: p, salt: salt, hash: hash)
        do {
            try Self.checkBounds(memoryKiB: m, iterations: t, parallelism: p, saltLength: salt.count, hashLength: hash.count)
        } catch let error as VideoStackError {
            throw damaged(error.message)
        }
    }

    init(memoryKiB: Int, iterations: Int, parallelism: Int, salt: [UInt8], hash: [UInt8]) {
        self.memoryKiB = memoryKiB
        self.iterations = iterations
        self.parallelism = parallelism
        self.salt = salt
        self.hash = hash
    }

    /// Limits on parameters, for configurations and for stored hashes alike. The upper bounds
    /// keep one verification to about a second and a GiB even if someone writes a hostile hash
    /// into the store; the lower ones are Argon2's own (8 KiB per lane, 8-byte salts, 4-byte tags).
    static func checkBounds(memoryKiB: Int, iterations: Int, parallelism: Int, saltLength: Int, hashLength: Int) throws {
        guard (1...16).contains(parallelism) else {
            throw VideoStackError(.invalidInput, "Argon2 parallelism must be 1 to 16 lanes; got \(parallelism).")
        }
        guard (8 * parallelism...(1 << 20)).contains(memoryKiB) else {
            throw VideoStackError(.invalidInput, "Argon2 memory must be 8 KiB per lane to 1 GiB, in KiB; got \(memoryKiB).")
        }
        guard (1...64).contains(iterations) else {
            throw VideoStackError(.invalidInput, "Argon2 iterations must be 1 to 64; got \(iterations).")
        }
        guard (8...64).contains(saltLength), (16...64).contains(hashLength) else {
            throw VideoStackError(.invalidInput, "Argon2 salts must be 8 to 64 bytes and hashes 16 to 64; got \(saltLength) and \(hashLength).")
        }
    }
}
