internal import Foundation
internal import VideoCore

/// Checks of what people type into sign-up and sign-in forms, before anything reaches the
/// store or the hasher.
enum AccountInput {
    /// The longest display name, in characters.
    static let maximumDisplayNameLength = 64

    /// A normalized email address (trimmed, lowercased: `User.normalizedEmail`), refusing what
    /// could not have been typed: control and formatting characters (bidirectional overrides,
    /// zero-width spaces), unassigned or private-use code points, and U+FFFD, which is what
    /// bytes that were not UTF-8 become on the way in. Throws `invalidInput`.
    static func email(_ raw: String) throws -> String {
        guard raw.utf8.count <= 1024 else {
            throw VideoStackError(.invalidInput, "An email address has at most 254 bytes; this one has \(raw.utf8.count).")
        }
        if let scalar = raw.unicodeScalars.first(where: isUntypeable) {
            throw VideoStackError(.invalidInput, "An email address may not contain U+\(hex(scalar))\(scalar == "\u{FFFD}" ? " (the text was not valid UTF-8)" : "").")
        }
        return try User.normalizedEmail(raw)
    }

    /// A display name: trimmed, at most 64 characters, none of them untypeable or a line break;
    /// empty means the username.
    static func displayName(_ raw: String, username: String) throws -> String {
        guard raw.utf8.count <= maximumDisplayNameLength * 8 else {
            throw VideoStackError(.limitExceeded, "A name may have at most \(maximumDisplayNameLength) characters.")
        }
        let name = raw.trimmingCharacters(in: .whitespaces)
        guard name.count <= maximumDisplayNameLength else {
            throw VideoStackError(.limitExceeded, "A name may have at most \(maximumDisplayNameLength) characters; this one has \(name.count).")
        }
        if let scalar = name.unicodeScalars.first(where: { isUntypeable($0) && $0 != "\u{200D}" }) {
            throw VideoStackError(.invalidInput, "A name may not contain U+\(hex(scalar)); use letters, digits, spaces and punctuation.")
        }
        return name.isEmpty ? username : name
    }

    /// A password as sign-in takes it: not empty, not longer than the policy allows (so a
    /// megabyte "password" cannot buy a megabyte of hashing), no control characters.
    static func signInPassword(_ password: String, policy: PasswordPolicy) throws {
        guard !password.isEmpty else { throw VideoStackError(.invalidInput, "Enter a password.") }
        guard password.utf8.count <= policy.maximumBytes * 4 else {
            throw VideoStackError(.limitExceeded, "A password may be at most \(policy.maximumBytes) bytes long.")
        }
        try PasswordPolicy.checkCharacters(password)
    }

    static func isUntypeable(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.properties.generalCategory {
        case .control, .format, .lineSeparator, .paragraphSeparator, .privateUse, .surrogate, .unassigned: return true
        default: return scalar == "\u{FFFD}"
        }
    }

    private static func hex(_ scalar: Unicode.Scalar) -> String {
        let digits = String(scalar.value, radix: 16, uppercase: true)
        return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }
}
