public import Foundation

/// A registered account. Usernames and emails are each unique across the platform.
public struct User: Hashable, Sendable, Codable {
    /// Unique, case-folded handle: 3–32 characters of `a-z`, `0-9`, `_`, `-`, `.`.
    public var username: String
    /// Unique, case-folded email address.
    public var email: String
    /// Free-form name shown next to the user's videos.
    public var displayName: String
    /// An encoded password hash (PHC string format); empty for accounts without a password.
    public var passwordHash: String
    public var createdAt: Date

    public init(username: String, email: String, displayName: String = "", passwordHash: String = "", createdAt: Date = Date()) {
        self.username = username
        self.email = email
        self.displayName = displayName.isEmpty ? username : displayName
        self.passwordHash = passwordHash
        self.createdAt = createdAt
    }

    /// Checks and normalizes a username: lowercased, 3–32 of `a-z 0-9 _ - .`.
    public static func normalizedUsername(_ raw: String) throws -> String {
        let name = raw.lowercased()
        guard (3...32).contains(name.count) else {
            throw VideoStackError(.invalidInput, "A username must be 3 to 32 characters long; '\(raw.prefix(40))' has \(raw.count).")
        }
        guard name.utf8.allSatisfy({ ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x5F || $0 == 0x2D || $0 == 0x2E }) else {
            throw VideoStackError(.invalidInput, "A username may contain only letters a-z, digits, '_', '-' and '.'; '\(raw.prefix(40))' has other characters.")
        }
        return name
    }

    /// Checks and normalizes an email address: trimmed, lowercased, one `@` with text on both sides.
    public static func normalizedEmail(_ raw: String) throws -> String {
        let email = raw.trimmingCharacters(in: .whitespaces).lowercased()
        let parts = email.split(separator: "@", omittingEmptySubsequences: false)
        guard email.utf8.count <= 254, parts.count == 2, !parts[0].isEmpty, parts[1].contains("."),
              !email.contains(where: { $0.isWhitespace || $0.asciiValue.map { $0 < 0x20 } == true })
        else {
            throw VideoStackError(.invalidInput, "'\(raw.prefix(60))' is not an email address (expected name@domain.tld, at most 254 bytes).")
        }
        return email
    }
}
