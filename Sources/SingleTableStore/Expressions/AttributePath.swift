internal import VideoCore
/// A path to an attribute, possibly nested: `title`, `stats.views`, `tags[0]`.
///
/// Write paths as string literals (`"stats.views"`); use ``init(components:)`` for attribute
/// names that themselves contain `.` or `[`.
public struct AttributePath: Hashable, Sendable, CustomStringConvertible, ExpressibleByStringLiteral {
    public enum Component: Hashable, Sendable {
        case name(String)
        case index(Int)
    }

    public var components: [Component]

    /// A path from explicit components; the first must be a name.
    public init(components: [Component]) {
        self.components = components
    }

    /// A top-level attribute, whatever characters its name contains.
    public init(name: String) {
        self.components = [.name(name)]
    }

    /// Parses `a.b[2].c`. Malformed text becomes a path that every operation rejects with a
    /// clear error (see ``validate()``), since literals cannot throw.
    public init(stringLiteral text: String) {
        self.components = AttributePath.parse(text) ?? [.name(text), .index(-1)]
    }

    /// Parses `a.b[2].c`, or throws `invalidInput`.
    public init(parsing text: String) throws {
        guard let components = AttributePath.parse(text) else {
            throw VideoStackError(.invalidInput, "'\(text.prefix(100))' is not an attribute path (expected names joined by '.', with optional [index] parts, like 'stats.views' or 'tags[0]').")
        }
        self.components = components
    }

    /// The top-level attribute name.
    public var root: String {
        if case .name(let name) = components.first { return name }
        return ""
    }

    public var description: String {
        var out = ""
        for component in components {
            switch component {
            case .name(let name): out += out.isEmpty ? name : "." + name
            case .index(let index): out += "[\(index)]"
            }
        }
        return out
    }

    /// Throws `invalidInput` for an empty path, an empty name, a negative index, or a path that
    /// does not start with a name.
    public func validate() throws {
        guard case .name(let first)? = components.first, !first.isEmpty else {
            throw VideoStackError(.invalidInput, "The attribute path '\(self)' must start with a non-empty attribute name.")
        }
        for component in components {
            switch component {
            case .name(let name) where name.isEmpty || name.utf8.count > 65_535:
                throw VideoStackError(.invalidInput, "The attribute path '\(self)' has an empty or over-long name.")
            case .index(let index) where index < 0:
                throw VideoStackError(.invalidInput, "The attribute path '\(String(describing: components.first).prefix(80))…' is malformed (a list index must be a non-negative integer, and names are joined by '.').")
            default: continue
            }
        }
        if components.count > 32 {
            throw VideoStackError(.limitExceeded, "The attribute path '\(self)' nests \(components.count) levels deep; at most 32 are allowed.")
        }
    }

    /// Whether one path is a prefix of the other (they overlap in an update).
    package func overlaps(_ other: AttributePath) -> Bool {
        let n = min(components.count, other.components.count)
        return Array(components.prefix(n)) == Array(other.components.prefix(n))
    }

    private static func parse(_ text: String) -> [Component]? {
        var components: [Component] = []
        for segment in text.split(separator: ".", omittingEmptySubsequences: false) {
            let bracket = segment.firstIndex(of: "[") ?? segment.endIndex
            let name = segment[..<bracket]
            guard !name.isEmpty, !name.contains("]") else { return nil }
            components.append(.name(String(name)))
            var rest = segment[bracket...]
            while !rest.isEmpty {
                guard rest.first == "[", let close = rest.firstIndex(of: "]"),
                      let index = Int(rest[rest.index(after: rest.startIndex)..<close]), index >= 0
                else { return nil }
                components.append(.index(index))
                rest = rest[rest.index(after: close)...]
            }
        }
        return components
    }
}
