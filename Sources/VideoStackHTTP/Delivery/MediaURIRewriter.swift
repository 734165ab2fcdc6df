/// Appends a query (a URL signature) to the URIs a playlist or a storyboard names, for
/// ``MediaAccessDecision/propagatingQuery()``.
///
/// Playlists: every URI line and every `URI="…"` attribute (`#EXT-X-MAP`, `#EXT-X-MEDIA`,
/// `#EXT-X-I-FRAME-STREAM-INF`, keys). Storyboards (WebVTT): every cue payload naming a picture,
/// with the query before its `#xywh=` fragment. Absolute URIs (`scheme://`) are left alone: the
/// signature is for this server only.
enum MediaURIRewriter {
    static func appending(query: String, to text: String, kind: MediaKind) -> String {
        var lines: [String] = []
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let carriageReturn = line.hasSuffix("\r")
            let content = carriageReturn ? line.dropLast() : line[...]
            var rewritten: String
            switch kind {
            case .playlist: rewritten = playlistLine(content, query: query)
            default: rewritten = storyboardLine(content, query: query)
            }
            if carriageReturn { rewritten += "\r" }
            lines.append(rewritten)
        }
        return lines.joined(separator: "\n")
    }

    static func withQuery(_ uri: Substring, _ query: String) -> String {
        guard !uri.isEmpty, !uri.contains("://"), !uri.hasPrefix("data:") else { return String(uri) }
        let fragmentStart = uri.firstIndex(of: "#") ?? uri.endIndex
        let base = uri[..<fragmentStart]
        return String(base) + (base.contains("?") ? "&" : "?") + query + String(uri[fragmentStart...])
    }

    private static func playlistLine(_ line: Substring, query: String) -> String {
        let trimmed = line.drop { $0 == " " || $0 == "\t" }
        if trimmed.isEmpty { return String(line) }
        guard trimmed.hasPrefix("#") else { return withQuery(trimmed, query) }
        guard line.contains("URI=\"") else { return String(line) }
        var result = ""
        var rest = line[...]
        while let start = rest.firstRange(of: "URI=\"") {
            result += rest[..<start.upperBound]
            let value = rest[start.upperBound...]
            guard let end = value.firstIndex(of: "\"") else {
                result += value
                return result
            }
            result += withQuery(value[..<end], query)
            rest = value[end...]
        }
        return result + rest
    }

    private static func storyboardLine(_ line: Substring, query: String) -> String {
        let lower = line.lowercased()
        guard !line.contains(" "), !line.contains("-->"),
              [".jpg", ".jpeg", ".png", ".webp"].contains(where: { lower.contains($0) }) else { return String(line) }
        return withQuery(line, query)
    }
}
