import Foundation
import VideoCore

extension MediaPlaylist {
    /// The playlist as RFC 8216 text (UTF-8, LF line ends, ending with a newline).
    ///
    /// Throws `VideoStackError/Code/invalidInput` when a value cannot be written: a URI or
    /// title with a line break or a double quote where one is not allowed, a negative number.
    public func render() throws -> String {
        var out = "#EXTM3U\n"
        out += "#EXT-X-VERSION:\(version)\n"
        try checkNonNegative(targetDuration, "TARGETDURATION")
        out += "#EXT-X-TARGETDURATION:\(targetDuration)\n"
        // A playlist that may still grow always names its first segment's number, even 0: players
        // (Chromium's among them) take a playlist without it for a finished VOD one and stop at its end.
        if mediaSequence != 0 || !endList {
            try checkNonNegative(mediaSequence, "MEDIA-SEQUENCE")
            out += "#EXT-X-MEDIA-SEQUENCE:\(mediaSequence)\n"
        }
        if discontinuitySequence != 0 {
            try checkNonNegative(discontinuitySequence, "DISCONTINUITY-SEQUENCE")
            out += "#EXT-X-DISCONTINUITY-SEQUENCE:\(discontinuitySequence)\n"
        }
        if let playlistType { out += "#EXT-X-PLAYLIST-TYPE:\(playlistType.rawValue)\n" }
        if independentSegments { out += "#EXT-X-INDEPENDENT-SEGMENTS\n" }
        if iFramesOnly { out += "#EXT-X-I-FRAMES-ONLY\n" }
        for segment in segments {
            if segment.discontinuity { out += "#EXT-X-DISCONTINUITY\n" }
            if let map = segment.map {
                out += "#EXT-X-MAP:URI=\(try quoted(map.uri, "EXT-X-MAP URI"))"
                if let range = map.byteRange {
                    guard let offset = range.offset else {
                        throw VideoStackError(.invalidInput, "An EXT-X-MAP byte range needs an explicit offset (RFC 8216 section 4.3.2.5).")
                    }
                    try checkNonNegative(range.length, "EXT-X-MAP BYTERANGE length")
                    try checkNonNegative(offset, "EXT-X-MAP BYTERANGE offset")
                    out += ",BYTERANGE=\"\(range.length)@\(offset)\""
                }
                out += "\n"
            }
            if let date = segment.programDateTime {
                out += "#EXT-X-PROGRAM-DATE-TIME:\(formatProgramDateTime(date))\n"
            }
            guard segment.duration >= .zero else {
                throw VideoStackError(.invalidInput, "Segment '\(segment.uri)' has duration \(segment.duration); durations must not be negative.")
            }
            guard !segment.title.contains(where: { $0.isNewline }) else {
                throw VideoStackError(.invalidInput, "The title of segment '\(segment.uri)' contains a line break, which would end the EXTINF line.")
            }
            out += "#EXTINF:\(segment.duration.decimalText),\(segment.title)\n"
            if let range = segment.byteRange {
                try checkNonNegative(range.length, "BYTERANGE length")
                out += "#EXT-X-BYTERANGE:\(range.length)"
                if let offset = range.offset {
                    try checkNonNegative(offset, "BYTERANGE offset")
                    out += "@\(offset)"
                }
                out += "\n"
            }
            out += try uriLine(segment.uri)
        }
        if endList { out += "#EXT-X-ENDLIST\n" }
        return out
    }
}

extension MasterPlaylist {
    /// The playlist as RFC 8216 text (UTF-8, LF line ends, ending with a newline).
    ///
    /// Throws `VideoStackError/Code/invalidInput` when a value cannot be written (a quoted
    /// string with a double quote or line break, a non-positive bandwidth, an empty URI).
    public func render() throws -> String {
        var out = "#EXTM3U\n"
        if let version { out += "#EXT-X-VERSION:\(version)\n" }
        if independentSegments { out += "#EXT-X-INDEPENDENT-SEGMENTS\n" }
        for media in media {
            var attributes = ["TYPE=\(media.type.rawValue)", "GROUP-ID=\(try quoted(media.groupID, "GROUP-ID"))"]
            if let language = media.language { attributes.append("LANGUAGE=\(try quoted(language, "LANGUAGE"))") }
            attributes.append("NAME=\(try quoted(media.name, "NAME"))")
            if media.isDefault { attributes.append("DEFAULT=YES") }
            if media.autoselect { attributes.append("AUTOSELECT=YES") }
            if let channels = media.channels { attributes.append("CHANNELS=\(try quoted(channels, "CHANNELS"))") }
            if let instreamID = media.instreamID { attributes.append("INSTREAM-ID=\(try quoted(instreamID, "INSTREAM-ID"))") }
            if let uri = media.uri { attributes.append("URI=\(try quoted(uri, "URI"))") }
            out += "#EXT-X-MEDIA:" + attributes.joined(separator: ",") + "\n"
        }
        for variant in variants {
            var attributes = try streamAttributes(bandwidth: variant.bandwidth, averageBandwidth: variant.averageBandwidth,
                                                  codecs: variant.codecs, resolution: variant.resolution)
            if let frameRate = variant.frameRate {
                guard frameRate > 0, frameRate.isFinite else {
                    throw VideoStackError(.invalidInput, "FRAME-RATE must be a positive number; got \(frameRate).")
                }
                attributes.append("FRAME-RATE=\(String(format: "%.3f", frameRate))")
            }
            if let audio = variant.audio { attributes.append("AUDIO=\(try quoted(audio, "AUDIO"))") }
            if let video = variant.video { attributes.append("VIDEO=\(try quoted(video, "VIDEO"))") }
            if let subtitles = variant.subtitles { attributes.append("SUBTITLES=\(try quoted(subtitles, "SUBTITLES"))") }
            if let closedCaptions = variant.closedCaptions {
                attributes.append(closedCaptions == "NONE" ? "CLOSED-CAPTIONS=NONE" : "CLOSED-CAPTIONS=\(try quoted(closedCaptions, "CLOSED-CAPTIONS"))")
            }
            out += "#EXT-X-STREAM-INF:" + attributes.joined(separator: ",") + "\n"
            out += try uriLine(variant.uri)
        }
        for stream in iFrameStreams {
            var attributes = try streamAttributes(bandwidth: stream.bandwidth, averageBandwidth: stream.averageBandwidth,
                                                  codecs: stream.codecs, resolution: stream.resolution)
            attributes.append("URI=\(try quoted(stream.uri, "URI"))")
            out += "#EXT-X-I-FRAME-STREAM-INF:" + attributes.joined(separator: ",") + "\n"
        }
        return out
    }
}

extension Playlist {
    /// The playlist as RFC 8216 text.
    public func render() throws -> String {
        switch self {
        case .master(let playlist): try playlist.render()
        case .media(let playlist): try playlist.render()
        }
    }
}

private func streamAttributes(bandwidth: Int, averageBandwidth: Int?, codecs: String?, resolution: Resolution?) throws -> [String] {
    guard bandwidth > 0 else {
        throw VideoStackError(.invalidInput, "BANDWIDTH must be a positive number of bits per second; got \(bandwidth).")
    }
    var attributes = ["BANDWIDTH=\(bandwidth)"]
    if let averageBandwidth {
        guard averageBandwidth > 0 else {
            throw VideoStackError(.invalidInput, "AVERAGE-BANDWIDTH must be positive; got \(averageBandwidth).")
        }
        attributes.append("AVERAGE-BANDWIDTH=\(averageBandwidth)")
    }
    if let codecs { attributes.append("CODECS=\(try quoted(codecs, "CODECS"))") }
    if let resolution {
        guard resolution.width > 0, resolution.height > 0 else {
            throw VideoStackError(.invalidInput, "RESOLUTION must be positive; got \(resolution.width)x\(resolution.height).")
        }
        attributes.append("RESOLUTION=\(resolution.width)x\(resolution.height)")
    }
    return attributes
}

private func checkNonNegative(_ value: Int, _ name: String) throws {
    guard value >= 0 else {
        throw VideoStackError(.invalidInput, "\(name) must not be negative; got \(value).")
    }
}

private func quoted(_ value: String, _ name: String) throws -> String {
    guard !value.contains(where: { $0 == "\"" || $0.isNewline }) else {
        throw VideoStackError(.invalidInput, "The \(name) value \(value.prefix(80).debugDescription) contains a double quote or a line break, which a quoted-string cannot hold.")
    }
    return "\"\(value)\""
}

private func uriLine(_ uri: String) throws -> String {
    guard !uri.isEmpty, !uri.hasPrefix("#"), !uri.contains(where: { $0.isNewline || $0.isWhitespace && $0 != " " }) else {
        throw VideoStackError(.invalidInput, "The URI \(uri.prefix(80).debugDescription) cannot be a playlist line: it is empty, starts with '#', or holds a line break.")
    }
    return uri + "\n"
}

/// ISO 8601 with milliseconds and a `Z` zone, as RFC 8216 section 4.3.2.6 asks.
func formatProgramDateTime(_ date: Date) -> String {
    let formatter = ISO8601DateFormatter()
    formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
    formatter.timeZone = TimeZone(identifier: "UTC")
    return formatter.string(from: date)
}
