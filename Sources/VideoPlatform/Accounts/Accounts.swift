internal import Crypto
public import Foundation
public import Logging
internal import SingleTableStore
public import VideoCore

/// What a successful sign-in or refresh hands the client.
public struct SessionTokens: Sendable {
    /// A signed JWT to send as `Authorization: Bearer …`.
    public var accessToken: String
    /// When the access token stops being accepted.
    public var accessTokenExpiresAt: Date
    /// Exchange for new tokens with ``Accounts/refresh(_:)`` before the access token expires;
    /// usable once. Keep it secret (an `HttpOnly` cookie or the platform's keychain).
    public var refreshToken: String
    /// When the session ends if it is not refreshed before.
    public var refreshTokenExpiresAt: Date
    /// Who signed in, with the session's family id.
    public var user: AuthenticatedUser
}

/// Sign-up, sign-in, sessions and roles over the catalog's store.
///
/// - Sign-up writes the user item, the email claim and the account item (with the Argon2id
///   hash) in one transaction, so username and email are unique together and no user exists
///   without its password.
/// - Sign-in finds the user by email through `GSI1` (the source design's access pattern 2). An
///   unknown email costs the same store reads and one hash of the same cost as a wrong password,
///   and fails with the same error. Failures are limited per email and per client address
///   (token buckets); the error carries the time to retry.
/// - A session is a family of refresh tokens. Each refresh rotates the token with a
///   conditional write; presenting a token that was already rotated ends the whole family
///   (RFC 9700's refresh-token reuse detection), and of two refreshes racing with one token
///   at most one wins.
/// - Access tokens are short-lived HS256 JWTs. ``authenticate(accessToken:)`` checks the
///   signature and times, then reads the account and the session in one batch read, so
///   signing out, signing out everywhere and role changes take effect at once.
///
/// Store layout: see `Documentation/Accounts.md`. Thread safety: a value type over `Sendable`
/// parts; use one instance from any number of tasks.
public struct Accounts: Sendable {
    /// The catalog whose store holds the users, accounts and sessions.
    public let catalog: Catalog
    /// The settings this service runs with.
    public let configuration: AccountsConfiguration
    /// Signs and checks the access tokens (also usable alone, for a check without a store read).
    public let tokenSigner: AccessTokenSigner
    private let hasher: any PasswordHasher
    private let keys: SigningKeyring
    private let perAccount: any RateLimiter
    private let perAddress: any RateLimiter
    private let logger: Logger
    private let now: @Sendable () -> Date

    /// The name of the key file made in the data directory when the configuration has no key.
    public static let signingKeyFileName = "access-token.key"

    /// Accounts whose tokens are signed with `configuration.signingKey`, or with the key kept in
    /// `dataDirectory` (generated there on first use). Starts the hashing threads.
    ///
    /// - Parameters:
    ///   - catalog: the catalog whose store holds users, accounts and sessions.
    ///   - configuration: hashing, password rules, lifetimes, limits and keys.
    ///   - dataDirectory: where `access-token.key` is kept when the configuration has no key.
    ///   - hasher: nil for ``Argon2PasswordHasher`` with `configuration.passwordHashing`.
    ///   - logger: receives sign-ups, failed sign-ins, refresh-token reuse (never passwords or tokens).
    ///   - now: the clock for token times, session expiry and sign-in limits.
    public init(catalog: Catalog, configuration: AccountsConfiguration = .init(), dataDirectory: URL,
                hasher: (any PasswordHasher)? = nil,
                logger: Logger = Logger(label: "VideoStack.Accounts", factory: { _ in SwiftLogNoOpLogHandler() }), now: @escaping @Sendable () -> Date = { Date() }) throws {
        let key = try configuration.signingKey.map { try SigningKey(bytes: $0) }
            ?? SigningKey.loadOrCreate(named: Self.signingKeyFileName, in: dataDirectory)
        try self.init(catalog: catalog, configuration: configuration, signingKey: key, hasher: hasher, logger: logger, now: now)
    }

    /// Accounts whose tokens are signed with `signingKey` (and still accepted when signed with
    /// `configuration.previousSigningKeys`).
    public init(catalog: Catalog, configuration: AccountsConfiguration = .init(), signingKey: SigningKey,
                hasher: (any PasswordHasher)? = nil,
                logger: Logger = Logger(label: "VideoStack.Accounts", factory: { _ in SwiftLogNoOpLogHandler() }), now: @escaping @Sendable () -> Date = { Date() }) throws {
        guard configuration.maximumSessionsPerUser >= 1 else {
            throw VideoStackError(.invalidInput, "maximumSessionsPerUser must be at least 1; got \(configuration.maximumSessionsPerUser).")
        }
        let previous = try configuration.previousSigningKeys.map { try SigningKey(bytes: $0) }
        self.catalog = catalog
        self.configuration = configuration
        self.hasher = try hasher ?? Argon2PasswordHasher(configuration: configuration.passwordHashing)
        keys = SigningKeyring(current: signingKey, previous: previous)
        tokenSigner = AccessTokenSigner(key: signingKey, previousKeys: previous, lifetime: configuration.accessTokenLifetime,
                                        leeway: configuration.clockLeeway, now: now)
        perAccount = TokenBucketRateLimiter(policy: configuration.signInAttemptsPerAccount, maximumBuckets: configuration.maximumSignInBuckets, now: now)
        perAddress = TokenBucketRateLimiter(policy: configuration.signInAttemptsPerAddress, maximumBuckets: configuration.maximumSignInBuckets, now: now)
        self.logger = logger
        self.now = now
    }

    private var store: any ItemStore { catalog.store }

    // MARK: Sign-up

    /// Registers an account: a username (3 to 32 of `a-z 0-9 _ - .`, case-folded), an email
    /// (trimmed, case-folded), a password that ``PasswordPolicy`` accepts and a display name
    /// (at most 64 characters; empty means the username). New accounts are members.
    ///
    /// Throws `invalidInput` or `limitExceeded` naming the field, `conflict` saying whether the
    /// username or the email is taken, `rateLimited` when too many hashes are waiting.
    @discardableResult
    public func signUp(username: String, email: String, password: String, displayName: String = "") async throws -> User {
        let name = try User.normalizedUsername(username)
        let address = try AccountInput.email(email)
        let display = try AccountInput.displayName(displayName, username: name)
        try configuration.passwordPolicy.check(password, username: name, email: address)
        let hash = try await hasher.hash(password)
        let date = now()
        let (user, actions) = try catalog.registrationActions(for: User(username: name, email: address, displayName: display, createdAt: date))
        let seconds = Int64(date.timeIntervalSince1970)
        let account = AccountRecord(username: user.username, passwordHash: hash, role: .member, epoch: 0, createdAt: seconds, passwordChangedAt: seconds)
        do {
            try await store.transactWrite(actions + [.put(account.item, condition: .notExists("PK"))])
        } catch let error as VideoStackError where error.code == .transactionCanceled {
            if let conflict = Catalog.registrationConflict(error, user: user) { throw conflict }
            if case .conditionalCheckFailed? = error.cancellationReasons?.last {
                throw VideoStackError(.conflict, "The username '\(user.username)' is taken; choose another.")
            }
            throw error
        }
        logger.info("account created", metadata: ["user": "\(user.username)"])
        return user
    }

    // MARK: Sign-in

    /// Signs in with email and password and starts a session.
    ///
    /// A wrong email and a wrong password throw the same `unauthenticated` error after the same
    /// work. Throws `rateLimited` (with `VideoStackError.retryAfter`) once the email or
    /// `clientAddress` has used up its failed attempts, `invalidInput` for text that cannot be an
    /// email or a password. A hash made with older parameters is replaced on the way.
    public func signIn(email: String, password: String, clientAddress: String? = nil) async throws -> SessionTokens {
        let address = try AccountInput.email(email)
        try AccountInput.signInPassword(password, policy: configuration.passwordPolicy)
        var buckets: [(any RateLimiter, RateLimitKey)] = [(perAccount, .signIn(email: address))]
        if let clientAddress { buckets.append((perAddress, .address(clientAddress))) }
        try await RequestRateLimiter.acquireAll(buckets, cost: 1, what: "failed sign-ins")

        // Both branches read the email index and an account key, and verify one hash.
        let user = try await catalog.user(email: address)
        let accountItem = try await store.getItem(key: AccountRecord.key(user?.username ?? ""))
        let account = try accountItem.map(AccountRecord.init(item:))
        let check: PasswordCheck
        do {
            check = try await hasher.verify(password, against: account?.passwordHash ?? hasher.decoyHash())
        } catch let error as VideoStackError where error.code == .corrupt {
            logger.error("stored password hash is unusable", metadata: ["user": "\(account?.username ?? "?")", "error": "\(error.message)"])
            check = .mismatch
        }
        guard case .match(let needsRehash) = check, let account else {
            logger.info("sign-in failed", metadata: ["client": "\(clientAddress ?? "-")"])
            throw Self.wrongCredentials
        }
        // A right password does not count against the limits.
        for (limiter, key) in buckets { await limiter.release(key, cost: 1) }
        if needsRehash { await rehash(account, password: password) }
        return try await startSession(for: account)
    }

    /// The one error of every failed sign-in, whatever was wrong.
    static let wrongCredentials = VideoStackError(.unauthenticated, "The email address or password is wrong.")

    /// Replaces a hash made with other parameters; a failure leaves the old one, which still works.
    private func rehash(_ account: AccountRecord, password: String) async {
        do {
            let hash = try await hasher.hash(password)
            try await store.updateItem(key: AccountRecord.key(account.username), actions: [.set("passwordHash", .value(.s(hash)))],
                                       condition: .equal("passwordHash", .s(account.passwordHash)), returnValues: .none)
            logger.info("password rehashed with current parameters", metadata: ["user": "\(account.username)"])
        } catch {
            logger.warning("password rehash failed; the old hash stays", metadata: ["user": "\(account.username)", "error": "\(error)"])
        }
    }

    private func startSession(for account: AccountRecord) async throws -> SessionTokens {
        let token = RefreshToken(username: account.username, family: SecureRandom.bytes(RefreshToken.familyLength), generation: 0,
                                 secret: SecureRandom.bytes(RefreshToken.secretLength))
        let created = Int64(now().timeIntervalSince1970)
        let session = SessionRecord(username: account.username, family: token.familyID, refreshHash: token.secretHash, generation: 0,
                                    epoch: account.epoch, createdAt: created, refreshedAt: created, expiresAt: expiry(createdAt: created, refreshedAt: created))
        try await store.putItem(session.item, condition: .notExists("PK"))
        await pruneSessions(of: account, keeping: session.family)
        return tokens(for: account, session: session, refreshToken: token)
    }

    private func expiry(createdAt: Int64, refreshedAt: Int64) -> Int64 {
        min(refreshedAt + Int64(configuration.refreshTokenLifetime.intervalInSeconds), createdAt + Int64(configuration.maximumSessionLifetime.intervalInSeconds))
    }

    private func tokens(for account: AccountRecord, session: SessionRecord, refreshToken: RefreshToken) -> SessionTokens {
        let claims = tokenSigner.claims(subject: account.username, role: account.role, sessionFamily: session.family, epoch: account.epoch)
        return SessionTokens(accessToken: tokenSigner.sign(claims), accessTokenExpiresAt: claims.expiresAt,
                             refreshToken: refreshToken.encoded(with: keys.current),
                             refreshTokenExpiresAt: Date(timeIntervalSince1970: Double(session.expiresAt)),
                             user: AuthenticatedUser(username: account.username, role: account.role, sessionFamily: session.family))
    }

    /// Deletes the account's expired sessions, those of an earlier epoch, and the least recently
    /// refreshed beyond `maximumSessionsPerUser`. Best effort: the epoch and expiry checks make
    /// a session that stays behind unusable anyway.
    private func pruneSessions(of account: AccountRecord, keeping family: String) async {
        do {
            let sessions = try await sessionItems(of: account.username).map(SessionRecord.init(item:))
            let now = Int64(now().timeIntervalSince1970)
            var dead = sessions.filter { $0.expiresAt <= now || $0.epoch != account.epoch }
            let live = sessions.filter { $0.expiresAt > now && $0.epoch == account.epoch && $0.family != family }
                .sorted { $0.refreshedAt > $1.refreshedAt }
            dead += live.dropFirst(configuration.maximumSessionsPerUser - 1)
            try await delete(dead.map { SessionRecord.key($0.username, family: $0.family) })
        } catch {
            logger.warning("pruning sessions failed", metadata: ["user": "\(account.username)", "error": "\(error)"])
        }
    }

    private func sessionItems(of username: String) async throws -> [Item] {
        var items: [Item] = []
        var token: PageToken?
        repeat {
            let page = try await store.query(Query(partitionKey: .s("USER#\(username)"), sortKey: .beginsWith(.s(SessionRecord.sortKeyPrefix)),
                                                   limit: 100, startToken: token))
            items += page.items
            token = page.nextToken
        } while token != nil
        return items
    }

    private func delete(_ keys: [Item]) async throws {
        for start in stride(from: 0, to: keys.count, by: 25) {
            try await store.batchWrite(keys[start..<min(keys.count, start + 25)].map { .delete(key: $0) })
        }
    }

    // MARK: Sessions

    /// Exchanges a refresh token for new tokens; the presented one stops working.
    ///
    /// Throws `unauthenticated` when the token is malformed, forged, expired, of a session that
    /// was signed out, or already used. Reuse means the token was copied: the whole session ends,
    /// for the thief and for the owner, who signs in again.
    public func refresh(_ refreshToken: String) async throws -> SessionTokens {
        let token = try RefreshToken(parsing: refreshToken, keys: keys)
        let sessionKey = SessionRecord.key(token.username, family: token.familyID)
        let (account, session) = try await accountAndSession(token.username, family: token.familyID)
        guard let session else {
            throw VideoStackError(.unauthenticated, "This session has ended (signed out, expired or replaced); sign in again.")
        }
        guard let account, account.epoch == session.epoch else {
            try await store.deleteItem(key: sessionKey)
            throw VideoStackError(.unauthenticated, "This account was signed out everywhere; sign in again.")
        }
        let now = Int64(now().timeIntervalSince1970)
        guard session.expiresAt > now else {
            try await store.deleteItem(key: sessionKey)
            throw VideoStackError(.unauthenticated, "This session has expired; sign in again.")
        }
        guard token.generation == session.generation, ConstantTime.equal(token.secretHash, session.refreshHash) else {
            try await revokeReusedFamily(token, sessionKey: sessionKey)
        }
        let next = token.next()
        var rotated = session
        rotated.refreshHash = next.secretHash
        rotated.generation = next.generation
        rotated.refreshedAt = now
        rotated.expiresAt = expiry(createdAt: session.createdAt, refreshedAt: now)
        do {
            try await store.transactWrite([
                .conditionCheck(key: AccountRecord.key(account.username), condition: .equal("epoch", .int(account.epoch))),
                .update(key: sessionKey, actions: [
                    .set("refreshHash", .value(.b(rotated.refreshHash))),
                    .set("generation", .value(.int(rotated.generation))),
                    .set("refreshedAt", .value(.int(rotated.refreshedAt))),
                    .set("expiresAt", .value(.int(rotated.expiresAt))),
                ], condition: .equal("generation", .int(session.generation)) && .equal("refreshHash", .b(session.refreshHash))),
            ])
        } catch let error as VideoStackError where error.code == .transactionCanceled {
            let reasons = error.cancellationReasons ?? []
            if case .conditionalCheckFailed? = reasons.first {
                try await store.deleteItem(key: sessionKey)
                throw VideoStackError(.unauthenticated, "This account was signed out everywhere; sign in again.")
            }
            if reasons.count > 1, case .conditionalCheckFailed = reasons[1] {
                // Another refresh with this same token won the race: this one is a reuse.
                try await revokeReusedFamily(token, sessionKey: sessionKey)
            }
            throw error
        }
        return tokens(for: account, session: rotated, refreshToken: next)
    }

    private func revokeReusedFamily(_ token: RefreshToken, sessionKey: Item) async throws -> Never {
        try await store.deleteItem(key: sessionKey)
        logger.warning("refresh token reused: session family revoked", metadata: ["user": "\(token.username)", "family": "\(token.familyID)"])
        throw VideoStackError(.unauthenticated, "This refresh token was already used, so it may have been copied; the session was ended to be safe. Sign in again.")
    }

    /// The account and one of its sessions, in one batch read.
    private func accountAndSession(_ username: String, family: String) async throws -> (AccountRecord?, SessionRecord?) {
        let items = try await store.batchGet(keys: [AccountRecord.key(username), SessionRecord.key(username, family: family)])
        var account: AccountRecord?
        var session: SessionRecord?
        for item in items {
            if item["SK"] == "ACCOUNT" { account = try AccountRecord(item: item) } else { session = try SessionRecord(item: item) }
        }
        return (account, session)
    }

    /// The user behind an access token, checked against the store: the signature and times (by
    /// ``tokenSigner``), then in one batch read that the session still exists and the account
    /// was not signed out everywhere since. The role is the stored one.
    ///
    /// Throws `unauthenticated` saying what was wrong.
    public func authenticate(accessToken: String) async throws -> AuthenticatedUser {
        let claims = try tokenSigner.verify(accessToken)
        guard (try? User.normalizedUsername(claims.subject)) == claims.subject,
              let family = Base64Text.decode(claims.sessionFamily, urlSafe: true), family.count == RefreshToken.familyLength
        else { throw VideoStackError(.unauthenticated, "The access token names no valid user or session; sign in again.") }
        let (account, session) = try await accountAndSession(claims.subject, family: claims.sessionFamily)
        guard let account, account.epoch == claims.epoch else {
            throw VideoStackError(.unauthenticated, "This account was signed out everywhere; sign in again.")
        }
        guard let session, session.epoch == claims.epoch, session.expiresAt > Int64(now().timeIntervalSince1970) else {
            throw VideoStackError(.unauthenticated, "This session has ended; sign in again.")
        }
        return AuthenticatedUser(username: account.username, role: account.role, sessionFamily: claims.sessionFamily)
    }

    /// Ends the session `user` came through; its refresh token and access tokens stop working.
    public func signOut(_ user: AuthenticatedUser) async throws {
        try await store.deleteItem(key: SessionRecord.key(user.username, family: user.sessionFamily))
    }

    /// Ends the session of a refresh token (for clients that only keep that one). A malformed
    /// or forged token throws `unauthenticated`; one of an already ended session does nothing.
    public func signOut(refreshToken: String) async throws {
        let token = try RefreshToken(parsing: refreshToken, keys: keys)
        try await store.deleteItem(key: SessionRecord.key(token.username, family: token.familyID))
    }

    /// Ends every session of the account at once, by raising its token epoch (one atomic
    /// write: tokens of any session, even one being started right now, stop working), then
    /// deletes the session items. Throws `notFound` when there is no such account.
    public func signOutEverywhere(_ username: String) async throws {
        let name = try Self.existingName(username)
        do {
            try await store.updateItem(key: AccountRecord.key(name), actions: [.add("epoch", .int(1))], condition: .exists("PK"), returnValues: .none)
        } catch let error as VideoStackError where error.code == .conditionFailed {
            throw VideoStackError(.notFound, "There is no account '\(name)'.")
        }
        await deleteSessions(of: name)
        logger.info("signed out everywhere", metadata: ["user": "\(name)"])
    }

    /// Deletes every session item of the account, after its epoch was raised. Best effort: a
    /// session of an earlier epoch is unusable whether or not its item is gone.
    private func deleteSessions(of name: String) async {
        do {
            try await delete(try await sessionItems(of: name).compactMap { $0["family"]?.string.map { SessionRecord.key(name, family: $0) } })
        } catch {
            logger.warning("deleting sessions after sign-out everywhere failed; they are unusable anyway", metadata: ["user": "\(name)", "error": "\(error)"])
        }
    }

    // MARK: Account management

    /// Changes the password after checking the current one, and signs the account out
    /// everywhere (whoever knew the old password loses their sessions). Throws
    /// `unauthenticated` when `current` is wrong, and what ``PasswordPolicy/check(_:username:email:)`` throws.
    public func changePassword(of username: String, from current: String, to new: String) async throws {
        let name = try Self.existingName(username)
        guard let item = try await store.getItem(key: AccountRecord.key(name)), let user = try await catalog.user(named: name) else {
            throw VideoStackError(.notFound, "There is no account '\(name)'.")
        }
        let account = try AccountRecord(item: item)
        try AccountInput.signInPassword(current, policy: configuration.passwordPolicy)
        guard case .match = try await hasher.verify(current, against: account.passwordHash) else {
            throw VideoStackError(.unauthenticated, "The current password is wrong.")
        }
        try configuration.passwordPolicy.check(new, username: name, email: user.email)
        let hash = try await hasher.hash(new)
        do {
            try await store.updateItem(key: AccountRecord.key(name), actions: [
                .set("passwordHash", .value(.s(hash))),
                .set("passwordChangedAt", .value(.int(Int64(now().timeIntervalSince1970)))),
                .add("epoch", .int(1)),
            ], condition: .equal("passwordHash", .s(account.passwordHash)), returnValues: .none)
        } catch let error as VideoStackError where error.code == .conditionFailed {
            throw VideoStackError(.conflict, "The password was changed at the same time by another request; sign in again and retry.")
        }
        await deleteSessions(of: name)
    }

    /// Gives the account a role. The change applies to its next request: access tokens carry the
    /// role only as a hint. Throws `notFound` when there is no such account.
    public func setRole(_ role: Role, for username: String) async throws {
        let name = try Self.existingName(username)
        do {
            try await store.updateItem(key: AccountRecord.key(name), actions: [.set("role", .value(.s(role.rawValue)))],
                                       condition: .exists("PK"), returnValues: .none)
        } catch let error as VideoStackError where error.code == .conditionFailed {
            throw VideoStackError(.notFound, "There is no account '\(name)'.")
        }
    }

    /// The account's role, or nil when there is no such account.
    public func role(of username: String) async throws -> Role? {
        guard let name = try? User.normalizedUsername(username), let item = try await store.getItem(key: AccountRecord.key(name)) else { return nil }
        return try AccountRecord(item: item).role
    }

    /// A username as stored; one that cannot be registered throws `notFound`.
    private static func existingName(_ username: String) throws -> String {
        guard let name = try? User.normalizedUsername(username) else {
            throw VideoStackError(.notFound, "There is no account '\(username.prefix(40))'.")
        }
        return name
    }
}
