internal import VideoCore

/// What an object is to a player, read from its key: it decides the `Content-Type` and how long
/// caches may keep the object.
enum MediaKind: Sendable, Equatable {
    /// `*.m3u8`; how long it may be cached depends on its content (see ``PlaylistState``).
    case playlist
    /// `init*.mp4`: the fMP4 initialization segment of a rendition.
    case initSegment
    /// `*.m4s`, `*.ts`, `*.aac`: media segments.
    case mediaSegment
    /// Posters and storyboard tiles (`*.jpg`, `*.jpeg`, `*.png`, `*.webp`).
    case image
    /// Storyboard indexes (a `*.vtt` or `*.json` whose name contains `storyboard` or `thumbnails`).
    case storyboard
    /// Anything else (subtitles, progressive MP4, …).
    case other

    /// Classifies `key` by its last component.
    init(key: String) {
        let name = key.utf8.lastIndex(of: UInt8(ascii: "/")).map { String(key[key.utf8.index(after: $0)...]) } ?? key
        let lower = name.lowercased()
        let ext = lower.utf8.lastIndex(of: UInt8(ascii: ".")).map { String(lower[lower.utf8.index(after: $0)...]) } ?? ""
        switch ext {
        case "m3u8": self = .playlist
        case "m4s", "ts", "aac": self = .mediaSegment
        case "mp4", "m4v", "m4a": self = lower.hasPrefix("init") ? .initSegment : .other
        case "jpg", "jpeg", "png", "webp": self = .image
        case "vtt", "json": self = lower.contains("storyboard") || lower.contains("thumbnails") ? .storyboard : .other
        default: self = .other
        }
    }

    /// Segments, init segments, images and storyboards never change under one key: the packager
    /// writes each once, and a new version of a video gets new keys.
    var isImmutable: Bool {
        switch self {
        case .initSegment, .mediaSegment, .image, .storyboard: return true
        case .playlist, .other: return false
        }
    }

    /// The `Content-Type` to send: by extension for the types players depend on, else the store's.
    static func contentType(key: String, stored: String) -> String {
        let byKey = BlobMetadata.mimeType(forKey: key)
        return byKey == "application/octet-stream" && !stored.isEmpty ? stored : byKey
    }
}

/// Where a playlist is in its life, read from its text (RFC 8216).
enum PlaylistState: Sendable, Equatable {
    /// A multivariant (master) playlist: it lists renditions, not segments.
    case multivariant
    /// A media playlist with `#EXT-X-ENDLIST`: it will not change again (RFC 8216 §6.2.1).
    case ended
    /// A media playlist without `#EXT-X-ENDLIST` (EVENT or live): it changes with every segment.
    case growing

    /// Reads the state from a playlist's bytes.
    init(playlist bytes: some Collection<UInt8>) {
        if Self.contains(bytes, "#EXT-X-STREAM-INF") || Self.contains(bytes, "#EXT-X-MEDIA:") {
            self = .multivariant
        } else if Self.contains(bytes, "#EXT-X-ENDLIST") {
            self = .ended
        } else {
            self = .growing
        }
    }

    private static func contains(_ bytes: some Collection<UInt8>, _ tag: StaticString) -> Bool {
        tag.withUTF8Buffer { needle in
            guard let first = needle.first, bytes.count >= needle.count else { return false }
            var index = bytes.startIndex
            while let found = bytes[index...].firstIndex(of: first) {
                if bytes[found...].starts(with: needle) { return true }
                index = bytes.index(after: found)
            }
            return false
        }
    }
}
