/// An entity tag (RFC 9110 §8.8.3): an opaque validator, strong or weak.
struct EntityTag: Hashable, Sendable, CustomStringConvertible {
    /// The characters between the quotes.
    var opaque: Substring
    /// `W/"…"`: the representation is equivalent, not necessarily byte-identical.
    var isWeak: Bool

    init(_ opaque: some StringProtocol, weak: Bool = false) {
        self.opaque = Substring(opaque)
        self.isWeak = weak
    }

    /// The header form: `"…"` or `W/"…"`.
    var description: String { (isWeak ? "W/\"" : "\"") + opaque + "\"" }

    /// Strong comparison (§8.8.3.2): both strong and the same opaque tag. Used by `If-Match`
    /// and `If-Range`, where a byte-identical representation is required.
    func strongly(matches other: EntityTag) -> Bool {
        !isWeak && !other.isWeak && opaque == other.opaque
    }

    /// Weak comparison: the same opaque tag, weak or not. Used by `If-None-Match`.
    func weakly(matches other: EntityTag) -> Bool {
        opaque == other.opaque
    }

    /// An entity tag made from a blob store's opaque validator.
    ///
    /// Stores differ in how they spell validators (S3 quotes them, files do not), so surrounding
    /// quotes are dropped and characters that an entity tag cannot hold (RFC 9110 `etagc`:
    /// `"`, controls, space, DEL) are left out. The result is strong: blob writes are atomic, so
    /// one validator always names one byte sequence, which is what `If-Range` needs.
    static func fromStoreValidator(_ validator: String) -> EntityTag {
        var text = Substring(validator)
        if text.hasPrefix("W/") { text = text.dropFirst(2) }
        if text.count >= 2, text.first == "\"", text.last == "\"" { text = text.dropFirst().dropLast() }
        if text.utf8.allSatisfy(Self.isETagCharacter) { return EntityTag(text) }
        return EntityTag(String(decoding: text.utf8.filter(Self.isETagCharacter), as: UTF8.self))
    }

    static func isETagCharacter(_ byte: UInt8) -> Bool {
        byte == 0x21 || (byte >= 0x23 && byte <= 0x7E) || byte >= 0x80
    }

    /// Parses one entity tag that spans all of `text` (after trimming spaces), or nil.
    static func parse(_ text: Substring) -> EntityTag? {
        var scanner = Scanner(text)
        guard let tag = scanner.entityTag() else { return nil }
        scanner.skipSpaces()
        return scanner.atEnd ? tag : nil
    }
}

/// The value of `If-Match` or `If-None-Match`: `*` or a list of entity tags.
enum EntityTagCondition: Sendable, Equatable {
    /// `*`: any current representation.
    case any
    /// A comma-separated list of tags.
    case tags([EntityTag])

    /// Parses the combined field lines of an `If-Match`/`If-None-Match` header, or nil when the
    /// value is not a valid list.
    ///
    /// RFC 9110 lets a recipient treat lines of one field as one comma-separated list, so lines
    /// are joined first. Empty list elements (`"a", , "b"`) are allowed, as §5.6.1 requires.
    /// An invalid value makes the whole condition be ignored, which is the safe reading for
    /// `If-None-Match` (the full response is sent rather than a wrong 304).
    static func parse(_ lines: [String]) -> EntityTagCondition? {
        guard !lines.isEmpty else { return nil }
        let text = lines.joined(separator: ",")
        if text.allSatisfy({ $0 == " " || $0 == "\t" || $0 == "*" }), text.filter({ $0 == "*" }).count == 1 {
            return .any
        }
        var scanner = Scanner(Substring(text))
        var tags: [EntityTag] = []
        while true {
            scanner.skipSpaces()
            if scanner.atEnd { break }
            if scanner.consume(",") { continue }
            guard let tag = scanner.entityTag() else { return nil }
            tags.append(tag)
            scanner.skipSpaces()
            if scanner.atEnd { break }
            guard scanner.consume(",") else { return nil }
        }
        return tags.isEmpty ? nil : .tags(tags)
    }

    /// Whether the condition holds for `current` by strong comparison (`If-Match`).
    func strongly(matches current: EntityTag) -> Bool {
        switch self {
        case .any: return true
        case .tags(let tags): return tags.contains { $0.strongly(matches: current) }
        }
    }

    /// Whether the condition holds for `current` by weak comparison (`If-None-Match`).
    func weakly(matches current: EntityTag) -> Bool {
        switch self {
        case .any: return true
        case .tags(let tags): return tags.contains { $0.weakly(matches: current) }
        }
    }
}

/// A small cursor over the UTF-8 of a header value.
private struct Scanner {
    let text: Substring
    var index: Substring.Index

    init(_ text: Substring) {
        self.text = text
        self.index = text.startIndex
    }

    var atEnd: Bool { index == text.endIndex }

    mutating func skipSpaces() {
        while index < text.endIndex, text[index] == " " || text[index] == "\t" { index = text.index(after: index) }
    }

    mutating func consume(_ character: Character) -> Bool {
        guard index < text.endIndex, text[index] == character else { return false }
        index = text.index(after: index)
        return true
    }

    /// `[W/] DQUOTE *etagc DQUOTE`
    mutating func entityTag() -> EntityTag? {
        skipSpaces()
        let start = index
        var weak = false
        if text[index...].hasPrefix("W/") {
            weak = true
            index = text.index(index, offsetBy: 2)
        }
        guard consume("\"") else {
            index = start
            return nil
        }
        let opaqueStart = index
        while index < text.endIndex, text[index] != "\"" {
            guard text[index].utf8.allSatisfy(EntityTag.isETagCharacter) else {
                index = start
                return nil
            }
            index = text.index(after: index)
        }
        guard index < text.endIndex else {
            index = start
            return nil
        }
        let opaque = text[opaqueStart..<index]
        index = text.index(after: index)
        return EntityTag(opaque, weak: weak)
    }
}
