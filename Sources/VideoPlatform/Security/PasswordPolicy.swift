internal import Foundation
internal import VideoCore

/// What a new password must be: 8 to 256 bytes and not one of the passwords attackers try first.
///
/// The rules follow NIST SP 800-63B: a length range, no composition rules (no "one digit and one
/// symbol"), and a check against the most common passwords and the account's own names. A
/// password is refused when, compared case-insensitively after NFKC normalization, it
///
/// - is one character repeated, or a short unit repeated (`abcabcabc`, `12121212`);
/// - is a run of consecutive letters or digits (`abcdefgh`, `87654321`) or a piece of a keyboard
///   row (`qwertyuiop`, `asdfghjkl`);
/// - is only digits and shorter than 12 (dates, phone numbers and PINs are guessed first);
/// - is one of the built-in common roots (about 560 words, names, walks and phrases), possibly
///   doubled, with digits or symbols before or after it and look-alike substitutions undone
///   (`P@ssw0rd!`, `dragon2024`, `1monkey`, `monkeymonkey`): several thousand of the most frequent
///   passwords in all;
/// - contains the username, the part of the email before `@`, or the service's name.
///
/// Lengths count UTF-8 bytes of the normalized text, as the hash sees it.
public struct PasswordPolicy: Sendable, Hashable {
    /// The fewest bytes a password may have.
    public var minimumBytes: Int
    /// The most bytes a password may have; also bounds the work a sign-in attempt can ask for.
    public var maximumBytes: Int
    /// Refuse common passwords and passwords made of the account's names (the rules above).
    public var refusesCommonPasswords: Bool

    /// NIST's minimum of 8, a maximum of 256 bytes, common passwords refused.
    public init(minimumBytes: Int = 8, maximumBytes: Int = 256, refusesCommonPasswords: Bool = true) {
        self.minimumBytes = minimumBytes
        self.maximumBytes = maximumBytes
        self.refusesCommonPasswords = refusesCommonPasswords
    }

    /// Checks a new password for the account with this username and email; throws
    /// `invalidInput` (or `limitExceeded` when too long) saying which rule it broke, never
    /// repeating the password.
    public func check(_ password: String, username: String = "", email: String = "") throws {
        // Refused before normalizing, whose cost grows with the length: composition shrinks
        // typed text far less than fourfold, so nothing this long could end up allowed.
        guard password.utf8.count <= maximumBytes * 4 else {
            throw VideoStackError(.limitExceeded, "A password may be at most \(maximumBytes) bytes long; this one has \(password.utf8.count).")
        }
        try Self.checkCharacters(password)
        let normalized = password.precomposedStringWithCompatibilityMapping
        let bytes = normalized.utf8.count
        guard bytes >= minimumBytes else {
            throw VideoStackError(.invalidInput, "A password must be at least \(minimumBytes) bytes long; this one has \(bytes). A few unrelated words make a strong one.")
        }
        guard bytes <= maximumBytes else {
            throw VideoStackError(.limitExceeded, "A password may be at most \(maximumBytes) bytes long; this one has \(bytes).")
        }
        guard refusesCommonPasswords else { return }
        if let reason = Self.weakness(of: normalized.lowercased(), username: username.lowercased(), email: email.lowercased()) {
            throw VideoStackError(.invalidInput, "This password is too easy to guess: \(reason). Choose another, for example a few unrelated words.")
        }
    }

    /// Refuses text that cannot be a typed password: control characters, and U+FFFD, which is
    /// what bytes that were not UTF-8 became on the way in (two different byte strings would
    /// then hash alike).
    static func checkCharacters(_ password: String) throws {
        for scalar in password.unicodeScalars {
            if scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value) {
                throw VideoStackError(.invalidInput, "A password may not contain control characters (found U+\(String(scalar.value, radix: 16, uppercase: true))).")
            }
            if scalar == "\u{FFFD}" {
                throw VideoStackError(.invalidInput, "The password was not valid UTF-8 text; send it as UTF-8.")
            }
        }
    }

    // MARK: Rules

    private static let roots: Set<String> = Set(CommonPasswords.roots)
    private static let serviceNames = ["videostack"]

    /// Why `password` (normalized, lowercased) is weak, or nil.
    static func weakness(of password: String, username: String, email: String) -> String? {
        let characters = Array(password)
        if isRepetition(characters) { return "it repeats one short pattern" }
        if isSequence(characters) { return "it is a run of consecutive characters" }
        if CommonPasswords.keyboardRows.contains(where: { $0.contains(password) || String($0.reversed()).contains(password) }) {
            return "it is a row of the keyboard"
        }
        if characters.allSatisfy(\.isNumber) && characters.count < 12 { return "a password of digits alone needs at least 12 of them" }
        if isCommon(characters) { return "it is one of the most common passwords" }
        let local = email.split(separator: "@").first.map(String.init) ?? ""
        for name in [username, local] + serviceNames where name.count >= 3 {
            if password.contains(name) || undoSubstitutions(password).contains(name) {
                return "it contains the account's username, email address or the service's name"
            }
        }
        return nil
    }

    /// One character repeated, or a unit of up to four characters repeated at least twice.
    static func isRepetition(_ c: [Character]) -> Bool {
        for unit in 1...4 where c.count % unit == 0 && c.count / unit >= 2 {
            if c.indices.allSatisfy({ c[$0] == c[$0 % unit] }) { return true }
        }
        return false
    }

    /// Letters or digits each one above (or each one below) the one before.
    static func isSequence(_ c: [Character]) -> Bool {
        let values = c.compactMap { $0.isASCII && ($0.isLetter || $0.isNumber) ? Int($0.asciiValue!) : nil }
        guard values.count == c.count, values.count >= 3 else { return false }
        let step = values[1] - values[0]
        guard step == 1 || step == -1 else { return false }
        return zip(values, values.dropFirst()).allSatisfy { $1 - $0 == step }
    }

    /// Whether the password is a common root, decorated: digits and symbols around it, look-alike
    /// substitutions, doubled.
    static func isCommon(_ c: [Character]) -> Bool {
        // Where the letters start and end: candidates keep any prefix of the leading non-letters
        // and any suffix of the trailing ones (roots such as "trustno1" end in a digit).
        guard let firstLetter = c.firstIndex(where: \.isLetter), let lastLetter = c.lastIndex(where: \.isLetter) else { return false }
        let starts = max(0, firstLetter - 8)...firstLetter
        let ends = (lastLetter + 1)...min(c.count, lastLetter + 1 + 8)
        for start in starts {
            for end in ends {
                let core = String(c[start..<end])
                for candidate in [core, undoSubstitutions(core)] {
                    if roots.contains(candidate) { return true }
                    // Doubled: "monkeymonkey".
                    if candidate.count % 2 == 0 {
                        let half = candidate.prefix(candidate.count / 2)
                        if candidate.hasSuffix(half) && roots.contains(String(half)) { return true }
                    }
                }
            }
        }
        return false
    }

    /// The letters that digits and symbols stand in for: `p@ssw0rd` → `password`.
    static func undoSubstitutions(_ text: String) -> String {
        String(text.map { character -> Character in
            switch character {
            case "0": "o"
            case "1", "!", "|": "i"
            case "3": "e"
            case "4", "@": "a"
            case "5", "$": "s"
            case "7", "+": "t"
            case "8": "b"
            case "9": "g"
            default: character
            }
        })
    }
}
