internal import VideoCore

/// The INI dialect of `~/.aws/config` and `~/.aws/credentials`: `[section]` headers, `key = value`
/// lines, `#`/`;` comment lines, and indented sub-properties under a key with an empty value
/// (`s3 =` then `  endpoint_url = …`). Keys are case-insensitive, as botocore reads them.
struct SharedConfigFile: Sendable {
    /// One section: plain properties, and sub-property tables keyed by their parent key.
    struct Section: Sendable {
        var properties: [String: String] = [:]
        var subProperties: [String: [String: String]] = [:]
    }

    var sections: [String: Section] = [:]

    init(parsing text: String, path: String) throws {
        var current: String?
        var parentKey: String?
        for (number, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = rawLine.hasSuffix("\r") ? rawLine.dropLast() : rawLine
            let trimmed = line.trimmingSpaces()
            if trimmed.isEmpty || trimmed.hasPrefix("#") || trimmed.hasPrefix(";") { continue }
            let indented = line.first == " " || line.first == "\t"
            if trimmed.hasPrefix("[") {
                guard trimmed.hasSuffix("]"), trimmed.count > 2 else {
                    throw VideoStackError(.corrupt, "Line \(number + 1) of '\(path)' opens a section but does not close it with ']': \(trimmed.prefix(60))")
                }
                let name = trimmed.dropFirst().dropLast().trimmingSpaces().split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ")
                current = name
                parentKey = nil
                sections[name, default: Section()] = sections[name] ?? Section()
                continue
            }
            guard let section = current else {
                throw VideoStackError(.corrupt, "Line \(number + 1) of '\(path)' sets a value before any [section] header.")
            }
            guard let equals = trimmed.firstIndex(of: "=") else {
                throw VideoStackError(.corrupt, "Line \(number + 1) of '\(path)' is neither 'key = value', a [section] nor a comment: \(trimmed.prefix(60))")
            }
            let key = trimmed[..<equals].trimmingSpaces().lowercased()
            let value = trimmed[trimmed.index(after: equals)...].trimmingSpaces()
            if indented, let parent = parentKey {
                sections[section]!.subProperties[parent, default: [:]][key] = value
            } else if value.isEmpty {
                parentKey = key
                sections[section]!.subProperties[key] = sections[section]!.subProperties[key] ?? [:]
            } else {
                parentKey = nil
                sections[section]!.properties[key] = value
            }
        }
    }
}

extension StringProtocol {
    /// Drops spaces and tabs at both ends.
    func trimmingSpaces() -> String {
        var text = Substring(self)
        while let first = text.first, first == " " || first == "\t" { text = text.dropFirst() }
        while let last = text.last, last == " " || last == "\t" { text = text.dropLast() }
        return String(text)
    }
}
