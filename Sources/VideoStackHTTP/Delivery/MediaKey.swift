internal import VideoCore

/// Turns the raw (still percent-encoded) tail of a request path into a blob key, or says why not.
///
/// This is the HTTP edge's own check, made before anything reaches the blob store (which checks
/// keys again). A key must be a plain relative path: the only separator is a literal `/`, so
/// `%2F`, `%5C` and backslashes are refused rather than decoded into separators; `.` and `..`
/// components are refused in any spelling (`%2e%2E` decodes to `..` before the check); NUL and
/// other control characters, invalid percent escapes and invalid UTF-8 (overlong encodings of
/// `.` or `/` among them) are refused; so are empty components (`a//b`, a trailing `/`) and
/// components that start with a dot, which no media key has and which would name hidden files.
enum MediaKey {
    /// Decodes and checks `raw`; throws ``VideoStackError/Code/invalidInput`` saying what was wrong.
    static func parse(_ raw: Substring, maximumLength: Int) throws -> String {
        let utf8 = raw.utf8
        // A percent escape is three bytes for one, so longer raw text cannot decode to a valid key.
        guard utf8.count <= maximumLength * 3 else {
            throw VideoStackError(.invalidInput, "The media path is longer than \(maximumLength) bytes.")
        }
        guard !utf8.isEmpty else {
            throw VideoStackError(.invalidInput, "The media path names no object.")
        }
        if utf8.count <= maximumLength, let plain = plainKey(raw) { return plain }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(utf8.count)
        var index = utf8.startIndex
        while index != utf8.endIndex {
            let byte = utf8[index]
            utf8.formIndex(after: &index)
            if byte == UInt8(ascii: "%") {
                guard index != utf8.endIndex, let high = PercentEncoding.hexValue(utf8[index]) else { throw badEscape }
                utf8.formIndex(after: &index)
                guard index != utf8.endIndex, let low = PercentEncoding.hexValue(utf8[index]) else { throw badEscape }
                utf8.formIndex(after: &index)
                let decoded = high << 4 | low
                if decoded == UInt8(ascii: "/") || decoded == UInt8(ascii: "\\") {
                    throw VideoStackError(.invalidInput, "The media path contains an encoded path separator (%2F or %5C); keys use a literal '/' only.")
                }
                try check(decoded)
                bytes.append(decoded)
            } else {
                try check(byte)
                bytes.append(byte)
            }
        }
        guard bytes.count <= maximumLength else {
            throw VideoStackError(.invalidInput, "The media key is longer than \(maximumLength) bytes.")
        }
        guard let key = String(validating: bytes, as: UTF8.self) else {
            throw VideoStackError(.invalidInput, "The media path is not valid UTF-8 once percent-decoded.")
        }
        for component in key.utf8.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false) {
            if component.isEmpty {
                throw VideoStackError(.invalidInput, "The media path has an empty component ('//' or a trailing '/').")
            }
            if component.first == UInt8(ascii: ".") {
                throw VideoStackError(.invalidInput, "The media path has a component starting with '.' ('.', '..' or a hidden name), which could leave the media root.")
            }
        }
        return key
    }

    /// The common case, checked without copying: printable ASCII, no `%` or `\`, no empty or
    /// dot-led component, within the length limit. Anything else takes the full path, which
    /// also produces the error message.
    private static func plainKey(_ raw: Substring) -> String? {
        var previous = UInt8(ascii: "/")
        for byte in raw.utf8 {
            guard byte > 0x20, byte < 0x7F, byte != UInt8(ascii: "%"), byte != UInt8(ascii: "\\") else { return nil }
            if previous == UInt8(ascii: "/"), byte == UInt8(ascii: "/") || byte == UInt8(ascii: ".") { return nil }
            previous = byte
        }
        guard previous != UInt8(ascii: "/") else { return nil }
        return String(raw)
    }

    private static var badEscape: VideoStackError {
        VideoStackError(.invalidInput, "The media path has a '%' that is not followed by two hex digits.")
    }

    private static func check(_ byte: UInt8) throws {
        if byte < 0x20 || byte == 0x7F {
            throw VideoStackError(.invalidInput, "The media path contains a control character (U+\(String(byte, radix: 16, uppercase: true))), NUL included.")
        }
        if byte == UInt8(ascii: "\\") {
            throw VideoStackError(.invalidInput, "The media path contains a backslash; keys use '/' only.")
        }
    }
}
