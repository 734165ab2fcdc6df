import Foundation
public import VideoCore

extension VideoStackError.Code {
    /// A playlist's text breaks RFC 8216 (the message names the line and the rule).
    public static let invalidPlaylist = Self("invalidPlaylist")
    /// Packets handed to the packager cannot be packaged as they are (missing or non-monotonic
    /// timestamps, no keyframe at the start, unknown codec configuration).
    public static let invalidPackets = Self("invalidPackets")
}

extension Playlist {
    /// Parses playlist bytes (UTF-8, no byte order mark) into a master or media playlist.
    ///
    /// Strict: anything RFC 8216 forbids (control characters, a missing or duplicated required
    /// tag, a malformed attribute list, a segment longer than the target duration, a version too
    /// low for the features used, a number that does not fit) throws
    /// `VideoStackError/Code/invalidPlaylist` with the line number and the rule. Tags it does not
    /// know are ignored, as the RFC requires of clients, except `EXT-X-KEY`, which throws
    /// `VideoStackError/Code/unsupported` since ignoring it would misread encrypted media.
    public static func parse(bytes: [UInt8]) throws -> Playlist {
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) {
            throw VideoStackError(.invalidPlaylist, "The playlist starts with a byte order mark; RFC 8216 forbids one. Save it as UTF-8 without BOM.")
        }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw VideoStackError(.invalidPlaylist, "The playlist is not valid UTF-8; RFC 8216 playlists must be UTF-8 text.")
        }
        return try parse(text)
    }

    /// Parses playlist text into a master or media playlist; see ``parse(bytes:)`` for the rules.
    public static func parse(_ text: String) throws -> Playlist {
        var parser = PlaylistParser(text: text)
        return try parser.parse()
    }
}

extension MediaPlaylist {
    /// Parses a media playlist; throws `VideoStackError/Code/invalidPlaylist` if the text is
    /// malformed or is a master playlist.
    public init(parsing text: String) throws {
        guard case .media(let playlist) = try Playlist.parse(text) else {
            throw VideoStackError(.invalidPlaylist, "Expected a media playlist (with EXTINF segments) but this is a master playlist.")
        }
        self = playlist
    }
}

extension MasterPlaylist {
    /// Parses a master playlist; throws `VideoStackError/Code/invalidPlaylist` if the text is
    /// malformed or is a media playlist.
    public init(parsing text: String) throws {
        guard case .master(let playlist) = try Playlist.parse(text) else {
            throw VideoStackError(.invalidPlaylist, "Expected a master playlist (with EXT-X-STREAM-INF) but this is a media playlist.")
        }
        self = playlist
    }
}

private struct PlaylistParser {
    enum Kind { case undecided, master, media }

    let lines: [Substring]
    var lineNumber = 0
    var kind = Kind.undecided
    var seenOnce: Set<String> = []

    // Shared
    var version: Int?
    var independentSegments = false

    // Media playlist state
    var targetDuration: Int?
    var mediaSequence = 0
    var discontinuitySequence = 0
    var playlistType: MediaPlaylist.PlaylistType?
    var iFramesOnly = false
    var endList = false
    var segments: [MediaSegment] = []
    var pendingDuration: Duration?
    var pendingTitle = ""
    var pendingByteRange: ByteRange?
    var pendingDiscontinuity = false
    var pendingMap: MediaInitializationSection?
    var pendingDate: Date?
    var pendingTagLine = 0

    // Master playlist state
    var media: [AlternativeMedia] = []
    var variants: [VariantStream] = []
    var iFrameStreams: [IFrameStream] = []
    var pendingVariant: VariantStream?

    init(text: String) {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        if lines.last == "" { lines.removeLast() }
        self.lines = lines
    }

    func fail(_ message: String) -> VideoStackError {
        VideoStackError(.invalidPlaylist, "Line \(lineNumber): \(message)")
    }

    mutating func parse() throws -> Playlist {
        guard let first = lines.first else {
            throw VideoStackError(.invalidPlaylist, "The playlist is empty; it must start with #EXTM3U.")
        }
        for (index, rawLine) in lines.enumerated() {
            lineNumber = index + 1
            var line = rawLine
            if line.last == "\r" { line = line.dropLast() }
            if let bad = line.unicodeScalars.first(where: { $0.value < 0x20 || (0x7F...0x9F).contains($0.value) }) {
                throw fail("control character U+\(String(format: "%04X", bad.value)); RFC 8216 forbids control characters other than CR and LF.")
            }
            if index == 0 {
                guard first == "#EXTM3U" || first == "#EXTM3U\r" else {
                    throw fail("the first line must be exactly #EXTM3U.")
                }
                continue
            }
            if line.isEmpty { continue }
            if line.hasPrefix("#EXT") {
                try handleTag(line)
            } else if line.hasPrefix("#") {
                continue
            } else {
                try handleURI(String(line))
            }
        }
        lineNumber = lines.count
        switch kind {
        case .master:
            if pendingVariant != nil { throw fail("EXT-X-STREAM-INF is not followed by a URI line.") }
            return .master(MasterPlaylist(version: version, independentSegments: independentSegments, media: media,
                                          variants: variants, iFrameStreams: iFrameStreams))
        case .media, .undecided:
            guard let targetDuration else {
                throw fail("a media playlist needs EXT-X-TARGETDURATION (and a master playlist needs EXT-X-STREAM-INF); neither was found.")
            }
            if pendingDuration != nil || pendingByteRange != nil || pendingDiscontinuity || pendingMap != nil || pendingDate != nil {
                lineNumber = pendingTagLine
                throw fail("segment tags at the end of the playlist are not followed by a segment URI.")
            }
            var playlist = MediaPlaylist(version: version ?? 1, targetDuration: targetDuration, mediaSequence: mediaSequence,
                                         discontinuitySequence: discontinuitySequence, playlistType: playlistType,
                                         independentSegments: independentSegments, iFramesOnly: iFramesOnly, endList: endList,
                                         segments: segments)
            let required = playlist.requiredVersion
            if playlist.version < required {
                throw VideoStackError(.invalidPlaylist, "The playlist declares EXT-X-VERSION \(playlist.version) but uses features that need version \(required) (fractional durations need 3, byte ranges and I-frames-only 4, EXT-X-MAP 5 or 6).")
            }
            playlist.version = version ?? 1
            return .media(playlist)
        }
    }

    mutating func become(_ wanted: Kind, _ tag: Substring) throws {
        if kind == .undecided { kind = wanted; return }
        if kind != wanted {
            throw fail("\(tag) mixes master-playlist and media-playlist tags in one file.")
        }
    }

    mutating func once(_ tag: Substring) throws {
        guard seenOnce.insert(String(tag)).inserted else {
            throw fail("\(tag) appears more than once; it may appear at most once.")
        }
    }

    mutating func handleTag(_ line: Substring) throws {
        let name: Substring
        let value: Substring?
        if let colon = line.firstIndex(of: ":") {
            name = line[..<colon]
            value = line[line.index(after: colon)...]
        } else {
            name = line
            value = nil
        }
        func requireValue() throws -> Substring {
            guard let value, !value.isEmpty else { throw fail("\(name) needs a value after ':'.") }
            return value
        }
        func requireNoValue() throws {
            if value != nil { throw fail("\(name) takes no value.") }
        }
        switch name {
        case "#EXTM3U":
            throw fail("#EXTM3U may appear only on the first line.")
        case "#EXT-X-VERSION":
            try once(name)
            let number = try integer(try requireValue(), name)
            guard (1...12).contains(number) else { throw fail("EXT-X-VERSION \(number) is not a protocol version (1 to 12).") }
            version = number
        case "#EXT-X-INDEPENDENT-SEGMENTS":
            try once(name)
            try requireNoValue()
            independentSegments = true
        case "#EXT-X-START", "#EXT-X-DEFINE", "#EXT-X-CONTENT-STEERING":
            break
        case "#EXT-X-KEY", "#EXT-X-SESSION-KEY":
            throw VideoStackError(.unsupported, "Line \(lineNumber): \(name) (encrypted media) is not supported by this parser; ignoring it would misread the segments.")

        // Media playlist tags
        case "#EXT-X-TARGETDURATION":
            try become(.media, name)
            try once(name)
            targetDuration = try integer(try requireValue(), name)
        case "#EXT-X-MEDIA-SEQUENCE", "#EXT-X-DISCONTINUITY-SEQUENCE":
            try become(.media, name)
            try once(name)
            guard segments.isEmpty, pendingDuration == nil else { throw fail("\(name) must come before the first segment.") }
            let number = try integer(try requireValue(), name)
            if name == "#EXT-X-MEDIA-SEQUENCE" { mediaSequence = number } else { discontinuitySequence = number }
        case "#EXT-X-PLAYLIST-TYPE":
            try become(.media, name)
            try once(name)
            guard let type = MediaPlaylist.PlaylistType(rawValue: String(try requireValue())) else {
                throw fail("EXT-X-PLAYLIST-TYPE must be VOD or EVENT.")
            }
            playlistType = type
        case "#EXT-X-I-FRAMES-ONLY":
            try become(.media, name)
            try once(name)
            try requireNoValue()
            iFramesOnly = true
        case "#EXT-X-ENDLIST":
            try become(.media, name)
            try once(name)
            try requireNoValue()
            endList = true
        case "#EXTINF":
            try become(.media, name)
            guard pendingDuration == nil else { throw fail("EXTINF follows another EXTINF without a segment URI between them.") }
            let text = try requireValue()
            guard let comma = text.firstIndex(of: ",") else { throw fail("EXTINF must be '#EXTINF:<duration>,[<title>]'; the comma is missing.") }
            guard let duration = Duration(decimalText: text[..<comma]) else {
                throw fail("\(name) must be a non-negative decimal number like 4.004; got '\(text[..<comma].prefix(40))'.")
            }
            pendingDuration = duration
            pendingTitle = String(text[text.index(after: comma)...])
            notePending()
        case "#EXT-X-BYTERANGE":
            try become(.media, name)
            guard pendingByteRange == nil else { throw fail("EXT-X-BYTERANGE appears twice for one segment.") }
            pendingByteRange = try byteRange(try requireValue(), name)
            notePending()
        case "#EXT-X-DISCONTINUITY":
            try become(.media, name)
            try requireNoValue()
            pendingDiscontinuity = true
            notePending()
        case "#EXT-X-MAP":
            try become(.media, name)
            guard pendingMap == nil else { throw fail("EXT-X-MAP appears twice for one segment.") }
            let attributes = try AttributeList(try requireValue(), lineNumber: lineNumber)
            let uri = try attributes.quoted("URI", required: true)!
            var range: ByteRange?
            if let text = try attributes.quoted("BYTERANGE") {
                range = try byteRange(Substring(text), "EXT-X-MAP BYTERANGE")
                guard range?.offset != nil else { throw fail("EXT-X-MAP BYTERANGE needs an explicit offset ('length@offset').") }
            }
            pendingMap = MediaInitializationSection(uri: uri, byteRange: range)
            notePending()
        case "#EXT-X-PROGRAM-DATE-TIME":
            try become(.media, name)
            guard pendingDate == nil else { throw fail("EXT-X-PROGRAM-DATE-TIME appears twice for one segment.") }
            pendingDate = try date(try requireValue())
            notePending()

        // Master playlist tags
        case "#EXT-X-STREAM-INF":
            try become(.master, name)
            guard pendingVariant == nil else { throw fail("EXT-X-STREAM-INF follows another without a URI line between them.") }
            let attributes = try AttributeList(try requireValue(), lineNumber: lineNumber)
            var variant = VariantStream(uri: "", bandwidth: try attributes.integer("BANDWIDTH", required: true)!)
            try readStreamAttributes(attributes, bandwidth: &variant.bandwidth, average: &variant.averageBandwidth,
                                     codecs: &variant.codecs, resolution: &variant.resolution)
            // The writer keeps three decimals (as RFC 8216's examples do); reading rounds the same way.
            variant.frameRate = try attributes.decimal("FRAME-RATE").map { ($0 * 1000).rounded() / 1000 }
            variant.audio = try attributes.quoted("AUDIO")
            variant.video = try attributes.quoted("VIDEO")
            variant.subtitles = try attributes.quoted("SUBTITLES")
            variant.closedCaptions = attributes.raw("CLOSED-CAPTIONS") == "NONE" ? "NONE" : try attributes.quoted("CLOSED-CAPTIONS")
            if let group = variant.closedCaptions, group != "NONE", !media.contains(where: { $0.type == .closedCaptions && $0.groupID == group }) {
                throw fail("the variant refers to CLOSED-CAPTIONS group \"\(group)\", but no EXT-X-MEDIA before it defines that group.")
            }
            for (group, type) in [(variant.audio, AlternativeMedia.MediaType.audio), (variant.video, .video), (variant.subtitles, .subtitles)] {
                if let group, !media.contains(where: { $0.type == type && $0.groupID == group }) {
                    throw fail("the variant refers to \(type.rawValue) group \"\(group)\", but no EXT-X-MEDIA before it defines that group.")
                }
            }
            pendingVariant = variant
        case "#EXT-X-I-FRAME-STREAM-INF":
            try become(.master, name)
            let attributes = try AttributeList(try requireValue(), lineNumber: lineNumber)
            var stream = IFrameStream(uri: try attributes.quoted("URI", required: true)!,
                                      bandwidth: try attributes.integer("BANDWIDTH", required: true)!)
            try readStreamAttributes(attributes, bandwidth: &stream.bandwidth, average: &stream.averageBandwidth,
                                     codecs: &stream.codecs, resolution: &stream.resolution)
            iFrameStreams.append(stream)
        case "#EXT-X-MEDIA":
            try become(.master, name)
            let attributes = try AttributeList(try requireValue(), lineNumber: lineNumber)
            let typeText = attributes.raw("TYPE") ?? ""
            guard let type = AlternativeMedia.MediaType(rawValue: typeText) else {
                throw fail("EXT-X-MEDIA TYPE must be AUDIO, VIDEO, SUBTITLES or CLOSED-CAPTIONS.")
            }
            var entry = AlternativeMedia(type: type, groupID: try attributes.quoted("GROUP-ID", required: true)!,
                                         name: try attributes.quoted("NAME", required: true)!)
            entry.uri = try attributes.quoted("URI")
            entry.language = try attributes.quoted("LANGUAGE")
            entry.isDefault = try attributes.yesNo("DEFAULT")
            entry.autoselect = try attributes.yesNo("AUTOSELECT")
            entry.channels = try attributes.quoted("CHANNELS")
            entry.instreamID = try attributes.quoted("INSTREAM-ID")
            if type == .closedCaptions {
                guard entry.uri == nil else { throw fail("EXT-X-MEDIA of TYPE CLOSED-CAPTIONS must not have a URI.") }
                guard entry.instreamID != nil else { throw fail("EXT-X-MEDIA of TYPE CLOSED-CAPTIONS needs INSTREAM-ID.") }
            }
            if entry.isDefault, let autoselect = attributes.raw("AUTOSELECT"), autoselect != "YES" {
                throw fail("EXT-X-MEDIA with DEFAULT=YES must have AUTOSELECT=YES.")
            }
            if media.contains(where: { $0.type == type && $0.groupID == entry.groupID && $0.name == entry.name }) {
                throw fail("two EXT-X-MEDIA entries of group \"\(entry.groupID)\" share the NAME \"\(entry.name)\".")
            }
            media.append(entry)
        case "#EXT-X-SESSION-DATA":
            try become(.master, name)
        default:
            // RFC 8216 section 6.3.1: clients ignore tags they do not recognize.
            break
        }
    }

    mutating func notePending() {
        if pendingTagLine == 0 || (pendingDuration == nil && pendingByteRange == nil && !pendingDiscontinuity && pendingMap == nil && pendingDate == nil) {
            pendingTagLine = lineNumber
        }
    }

    mutating func readStreamAttributes(_ attributes: AttributeList, bandwidth: inout Int, average: inout Int?,
                                       codecs: inout String?, resolution: inout Resolution?) throws {
        average = try attributes.integer("AVERAGE-BANDWIDTH")
        codecs = try attributes.quoted("CODECS")
        if let text = attributes.raw("RESOLUTION") {
            let parts = text.split(separator: "x", omittingEmptySubsequences: false)
            guard parts.count == 2 else { throw fail("RESOLUTION must be '<width>x<height>'.") }
            resolution = Resolution(width: try integer(parts[0], "RESOLUTION width"), height: try integer(parts[1], "RESOLUTION height"))
        }
    }

    mutating func handleURI(_ uri: String) throws {
        switch kind {
        case .master:
            guard var variant = pendingVariant else {
                throw fail("a URI line in a master playlist must follow EXT-X-STREAM-INF.")
            }
            variant.uri = uri
            variants.append(variant)
            pendingVariant = nil
        case .media, .undecided:
            kind = .media
            guard let duration = pendingDuration else {
                throw fail("the segment URI '\(uri.prefix(80))' is not preceded by EXTINF.")
            }
            if let target = targetDuration, duration.roundedSeconds > Int64(target) {
                throw fail("segment duration \(duration.decimalText) s rounds to more than EXT-X-TARGETDURATION \(target) s.")
            }
            if let range = pendingByteRange, range.offset == nil {
                guard let previous = segments.last, previous.uri == uri, previous.byteRange != nil else {
                    throw fail("EXT-X-BYTERANGE without an offset must follow a byte-range segment of the same URI.")
                }
            }
            segments.append(MediaSegment(uri: uri, duration: duration, title: pendingTitle, byteRange: pendingByteRange,
                                         discontinuity: pendingDiscontinuity, map: pendingMap, programDateTime: pendingDate))
            pendingDuration = nil
            pendingTitle = ""
            pendingByteRange = nil
            pendingDiscontinuity = false
            pendingMap = nil
            pendingDate = nil
            pendingTagLine = 0
        }
    }

    func integer(_ text: Substring, _ name: Substring) throws -> Int {
        try integer(text, String(name))
    }

    func integer(_ text: Substring, _ name: String) throws -> Int {
        guard let value = parseDecimalInteger(text) else {
            throw fail("\(name) must be a decimal integer that fits in 63 bits; got '\(text.prefix(40))'.")
        }
        return value
    }

    func byteRange(_ text: Substring, _ name: String) throws -> ByteRange {
        let parts = text.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count <= 2 else { throw fail("\(name) must be '<length>[@<offset>]'.") }
        let length = try integer(parts[0], name + " length")
        let offset = parts.count == 2 ? try integer(parts[1], name + " offset") : nil
        if let offset, offset > Int.max - length { throw fail("\(name) ends past the largest representable offset.") }
        return ByteRange(length: length, offset: offset)
    }

    func byteRange(_ text: Substring, _ name: Substring) throws -> ByteRange {
        try byteRange(text, String(name))
    }

    func date(_ text: Substring) throws -> Date {
        // ISO8601DateFormatter is lenient (it accepts years of any length); pin the RFC 3339 shape first.
        let shape = /[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,9})?(Z|[+-][0-9]{2}:[0-9]{2})/
        guard text.count <= 40, (try? shape.wholeMatch(in: text)) != nil, let year = Int(text.prefix(4)), year >= 1970 else {
            throw fail("EXT-X-PROGRAM-DATE-TIME must be an ISO 8601 date and time from 1970 on with a zone, like 2026-01-31T12:00:00.000Z; got '\(text.prefix(40))'.")
        }
        // Millisecond precision is what the writer keeps, so reading rounds to it too.
        func rounded(_ date: Date) -> Date { Date(timeIntervalSince1970: (date.timeIntervalSince1970 * 1000).rounded() / 1000) }
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let date = formatter.date(from: String(text)) { return rounded(date) }
        formatter.formatOptions = [.withInternetDateTime]
        if let date = formatter.date(from: String(text)) { return rounded(date) }
        throw fail("EXT-X-PROGRAM-DATE-TIME must be an ISO 8601 date and time with a zone, like 2026-01-31T12:00:00.000Z; got '\(text.prefix(40))'.")
    }
}

/// An RFC 8216 attribute list (`NAME=value,NAME="quoted",…`), parsed up front so every value is checked.
private struct AttributeList {
    var values: [String: Substring] = [:]
    var quotedNames: Set<String> = []
    let lineNumber: Int

    init(_ text: Substring, lineNumber: Int) throws {
        self.lineNumber = lineNumber
        var rest = text
        while !rest.isEmpty {
            guard let equals = rest.firstIndex(of: "=") else {
                throw VideoStackError(.invalidPlaylist, "Line \(lineNumber): attribute '\(rest.prefix(40))' has no '=value'.")
            }
            let name = rest[..<equals]
            guard !name.isEmpty, name.allSatisfy({ ("A"..."Z").contains($0) || ("0"..."9").contains($0) || $0 == "-" }) else {
                throw VideoStackError(.invalidPlaylist, "Line \(lineNumber): attribute name '\(name.prefix(40))' must use only A-Z, 0-9 and '-'.")
            }
            rest = rest[rest.index(after: equals)...]
            let value: Substring
            if rest.first == "\"" {
                let body = rest.dropFirst()
                guard let close = body.firstIndex(of: "\"") else {
                    throw VideoStackError(.invalidPlaylist, "Line \(lineNumber): the quoted value of \(name) has no closing quote.")
                }
                value = body[..<close]
                quotedNames.insert(String(name))
                rest = body[body.index(after: close)...]
            } else {
                let end = rest.firstIndex(of: ",") ?? rest.endIndex
                value = rest[..<end]
                guard !value.isEmpty else {
                    throw VideoStackError(.invalidPlaylist, "Line \(lineNumber): attribute \(name) has an empty value.")
                }
                rest = rest[end...]
            }
            guard values.updateValue(value, forKey: String(name)) == nil else {
                throw VideoStackError(.invalidPlaylist, "Line \(lineNumber): attribute \(name) appears twice in one attribute list.")
            }
            if !rest.isEmpty {
                guard rest.first == "," , rest.count > 1 else {
                    throw VideoStackError(.invalidPlaylist, "Line \(lineNumber): attributes must be separated by single commas, after \(name).")
                }
                rest = rest.dropFirst()
            }
        }
    }

    func fail(_ message: String) -> VideoStackError {
        VideoStackError(.invalidPlaylist, "Line \(lineNumber): \(message)")
    }

    func raw(_ name: String) -> String? {
        guard let value = values[name], !quotedNames.contains(name) else { return nil }
        return String(value)
    }

    func quoted(_ name: String, required: Bool = false) throws -> String? {
        guard let value = values[name] else {
            if required { throw fail("the required attribute \(name) is missing.") }
            return nil
        }
        guard quotedNames.contains(name) else { throw fail("attribute \(name) must be a quoted string.") }
        return String(value)
    }

    func integer(_ name: String, required: Bool = false) throws -> Int? {
        guard let value = values[name] else {
            if required { throw fail("the required attribute \(name) is missing.") }
            return nil
        }
        guard !quotedNames.contains(name), let number = parseDecimalInteger(value) else {
            throw fail("attribute \(name) must be an unquoted decimal integer that fits in 63 bits.")
        }
        return number
    }

    func decimal(_ name: String) throws -> Double? {
        guard let value = values[name] else { return nil }
        guard !quotedNames.contains(name), let number = parseDecimalFloat(value) else {
            throw fail("attribute \(name) must be an unquoted decimal number.")
        }
        return number
    }

    func yesNo(_ name: String) throws -> Bool {
        guard let value = values[name] else { return false }
        switch (quotedNames.contains(name), value) {
        case (false, "YES"): return true
        case (false, "NO"): return false
        default: throw fail("attribute \(name) must be YES or NO.")
        }
    }
}

/// RFC 8216 decimal-integer, limited to what fits in `Int`.
private func parseDecimalInteger(_ text: Substring) -> Int? {
    guard !text.isEmpty, text.count <= 19, text.utf8.allSatisfy({ (0x30...0x39).contains($0) }) else { return nil }
    return Int(text)
}

/// RFC 8216 decimal-floating-point (digits with an optional fraction; no sign, exponent or hex).
private func parseDecimalFloat(_ text: Substring) -> Double? {
    guard !text.isEmpty, text.count <= 40 else { return nil }
    var dots = 0
    var digits = 0
    for byte in text.utf8 {
        if byte == 0x2E { dots += 1 } else if (0x30...0x39).contains(byte) { digits += 1 } else { return nil }
    }
    guard dots <= 1, digits > 0, text.first != ".", let value = Double(text), value.isFinite else { return nil }
    return value
}
