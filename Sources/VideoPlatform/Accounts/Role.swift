internal import VideoCore

/// What an account may do beyond its own videos. New roles can be added without breaking callers.
public struct Role: Hashable, Sendable, CustomStringConvertible {
    /// The role's stable name, as stored and as put in access tokens.
    public let rawValue: String
    private init(_ rawValue: String) { self.rawValue = rawValue }

    /// Every account: uploads, reviews and shares its own videos.
    public static let member = Role("member")
    /// Operators: may see and manage every video and account.
    public static let admin = Role("admin")

    /// Every role this build knows.
    public static let allCases: [Role] = [.member, .admin]

    /// Parses a stored role; unknown text throws `corrupt`.
    public init(parsing text: String) throws {
        guard let known = Role.allCases.first(where: { $0.rawValue == text }) else {
            throw VideoStackError(.corrupt, "'\(text.prefix(40))' is not a role (expected one of \(Role.allCases.map(\.rawValue).joined(separator: ", "))).")
        }
        self = known
    }

    /// The role's name.
    public var description: String { rawValue }
}

/// The account behind a request, once its access token has been checked.
public struct AuthenticatedUser: Hashable, Sendable {
    /// The (normalized) username.
    public var username: String
    /// The role as stored now, not as it was when the token was issued.
    public var role: Role
    /// The session the request came through; ``Accounts/signOut(_:)`` ends it.
    public var sessionFamily: String

    /// A user as ``Accounts/authenticate(accessToken:)`` returns it (or a test builds it).
    public init(username: String, role: Role, sessionFamily: String) {
        self.username = username
        self.role = role
        self.sessionFamily = sessionFamily
    }

    /// Whether this user may act on something `owner` owns: the owner or an admin.
    public func mayManage(ownedBy owner: String) -> Bool {
        role == .admin || username == owner
    }
}
