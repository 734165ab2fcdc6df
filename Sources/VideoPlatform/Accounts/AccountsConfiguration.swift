/// Settings of ``Accounts``: password hashing and rules, token lifetimes, sign-in limits.
public struct AccountsConfiguration: Sendable {
    /// How passwords are hashed (Argon2id parameters, hashing threads).
    public var passwordHashing: PasswordHashingConfiguration
    /// What a new password must be.
    public var passwordPolicy: PasswordPolicy
    /// How long an access token is accepted (15 minutes): the most a signed-out or stolen token
    /// can still be used where only its signature is checked.
    public var accessTokenLifetime: Duration
    /// How long a session lasts without being refreshed (30 days); each refresh restarts it.
    public var refreshTokenLifetime: Duration
    /// How long a session lasts at most, however often it is refreshed (90 days).
    public var maximumSessionLifetime: Duration
    /// Sessions one account may have; signing in beyond it ends the least recently refreshed.
    public var maximumSessionsPerUser: Int
    /// Clock difference between servers tolerated on token times.
    public var clockLeeway: Duration
    /// The key that signs access and refresh tokens (32 bytes or more). Nil: one is generated
    /// on first start and kept in the data directory (`access-token.key`, mode 0600).
    public var signingKey: [UInt8]?
    /// Keys that signed tokens before the current one; tokens they signed stay valid until
    /// they expire. Put the old key here when you rotate.
    public var previousSigningKeys: [[UInt8]]
    /// Failed sign-ins per email address (whether or not it has an account): 5 at once, then one
    /// a minute.
    public var signInAttemptsPerAccount: TokenBucketPolicy
    /// Failed sign-ins per client address: 20 at once, then one every 10 seconds.
    public var signInAttemptsPerAddress: TokenBucketPolicy
    /// The most sign-in buckets kept in memory (per kind).
    public var maximumSignInBuckets: Int

    /// The defaults are those described on each property.
    public init(
        passwordHashing: PasswordHashingConfiguration = .init(), passwordPolicy: PasswordPolicy = .init(),
        accessTokenLifetime: Duration = .seconds(15 * 60), refreshTokenLifetime: Duration = .seconds(30 * 86_400),
        maximumSessionLifetime: Duration = .seconds(90 * 86_400), maximumSessionsPerUser: Int = 20,
        clockLeeway: Duration = .seconds(30), signingKey: [UInt8]? = nil, previousSigningKeys: [[UInt8]] = [],
        signInAttemptsPerAccount: TokenBucketPolicy = .init(capacity: 5, refillInterval: .seconds(60)),
        signInAttemptsPerAddress: TokenBucketPolicy = .init(capacity: 20, refillInterval: .seconds(10)),
        maximumSignInBuckets: Int = 100_000
    ) {
        self.passwordHashing = passwordHashing
        self.passwordPolicy = passwordPolicy
        self.accessTokenLifetime = accessTokenLifetime
        self.refreshTokenLifetime = refreshTokenLifetime
        self.maximumSessionLifetime = maximumSessionLifetime
        self.maximumSessionsPerUser = maximumSessionsPerUser
        self.clockLeeway = clockLeeway
        self.signingKey = signingKey
        self.previousSigningKeys = previousSigningKeys
        self.signInAttemptsPerAccount = signInAttemptsPerAccount
        self.signInAttemptsPerAddress = signInAttemptsPerAddress
        self.maximumSignInBuckets = maximumSignInBuckets
    }
}
