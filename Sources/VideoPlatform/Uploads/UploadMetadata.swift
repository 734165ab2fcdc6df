internal import Foundation
internal import VideoCore

/// The tus `Upload-Metadata` header: comma-separated pairs of a key and its base64 value.
///
/// ```swift
/// let metadata = try UploadMetadata.parse("filename d29ybGRfZG9taW5hdGlvbi5tcDQ=,is_public")
/// // ["filename": "world_domination.mp4", "is_public": ""]
/// ```
///
/// Keys are printable ASCII without spaces or commas; values must decode to UTF-8 text without
/// control characters (tab and line breaks are allowed), since they end up in titles and file
/// names. Everything else is refused with a typed error rather than guessed at.
public enum UploadMetadata {
    /// Decodes a raw `Upload-Metadata` header value.
    ///
    /// An empty header is no metadata. The header is measured before it is split, so a huge one
    /// costs nothing.
    /// - Throws: `invalidInput` for a malformed pair, a bad base64 value, a value that is not
    ///   UTF-8 text, or a key given twice; `limitExceeded` when the header, the number of pairs or
    ///   the decoded size passes the limits.
    public static func parse(_ header: String, maxBytes: Int = 4096, maxPairs: Int = 32) throws -> [String: String] {
        // Values grow by 4/3 in base64, each pair adds a space, a comma and up to two padding
        // characters, and a little whitespace is tolerated around pairs.
        let maxHeaderBytes = maxBytes * 4 / 3 + 8 * maxPairs + 16
        guard header.utf8.count <= maxHeaderBytes else {
            throw VideoStackError(.limitExceeded, "The Upload-Metadata header is \(header.utf8.count) bytes; at most \(maxHeaderBytes) are accepted. Send less metadata (at most \(maxBytes) bytes decoded).")
        }
        var metadata: [String: String] = [:]
        for rawPair in header.split(separator: ",", omittingEmptySubsequences: false) {
            let pair = rawPair.trimmingCharacters(in: CharacterSet(charactersIn: " \t"))
            if pair.isEmpty {
                if header.trimmingCharacters(in: CharacterSet(charactersIn: " \t")).isEmpty { return [:] }
                throw VideoStackError(.invalidInput, "The Upload-Metadata header has an empty pair; send pairs of a key and a base64 value separated by commas.")
            }
            let parts = pair.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: false)
            let key = String(parts[0])
            let encoded = parts.count > 1 ? String(parts[1]).trimmingCharacters(in: CharacterSet(charactersIn: " ")) : ""
            try validate(key: key)
            guard metadata.count < maxPairs else {
                throw VideoStackError(.limitExceeded, "The Upload-Metadata header has more than \(maxPairs) pairs; send at most \(maxPairs).")
            }
            guard metadata[key] == nil else {
                throw VideoStackError(.invalidInput, "The Upload-Metadata header gives the key '\(key)' twice; every key must be unique.")
            }
            guard let data = Data(base64Encoded: encoded) else {
                throw VideoStackError(.invalidInput, "The Upload-Metadata value of '\(key)' is not valid base64; encode each value with standard, padded base64.")
            }
            guard let value = String(validating: data, as: UTF8.self) else {
                throw VideoStackError(.invalidInput, "The Upload-Metadata value of '\(key)' is not UTF-8 text; metadata values must be text.")
            }
            metadata[key] = value
        }
        try validate(metadata, maxBytes: maxBytes, maxPairs: maxPairs)
        return metadata
    }

    /// Encodes metadata as an `Upload-Metadata` header value, keys in sorted order.
    public static func encode(_ metadata: [String: String]) -> String {
        metadata.keys.sorted().map { key in
            let value = metadata[key] ?? ""
            return value.isEmpty ? key : "\(key) \(Data(value.utf8).base64EncodedString())"
        }.joined(separator: ",")
    }

    /// Checks decoded metadata against the rules ``parse(_:maxBytes:maxPairs:)`` applies.
    ///
    /// - Throws: `invalidInput` for a bad key or value, `limitExceeded` past the limits.
    public static func validate(_ metadata: [String: String], maxBytes: Int = 4096, maxPairs: Int = 32) throws {
        guard metadata.count <= maxPairs else {
            throw VideoStackError(.limitExceeded, "The upload has \(metadata.count) metadata pairs; at most \(maxPairs) are allowed.")
        }
        var total = 0
        for (key, value) in metadata {
            try validate(key: key)
            if let bad = value.unicodeScalars.first(where: { ($0.value < 0x20 && !["\t", "\n", "\r"].contains($0)) || $0.value == 0x7F }) {
                throw VideoStackError(.invalidInput, "The metadata value of '\(key)' contains the control character U+\(String(bad.value, radix: 16, uppercase: true)); remove it.")
            }
            total += key.utf8.count + value.utf8.count
        }
        guard total <= maxBytes else {
            throw VideoStackError(.limitExceeded, "The upload's metadata is \(total) bytes; at most \(maxBytes) are allowed. Shorten the values.")
        }
    }

    private static func validate(key: String) throws {
        guard !key.isEmpty, key.utf8.count <= 256 else {
            throw VideoStackError(.invalidInput, "A metadata key must be 1 to 256 characters; got \(key.utf8.count).")
        }
        guard key.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: ",") }) else {
            throw VideoStackError(.invalidInput, "The metadata key '\(key.prefix(40))' has characters other than printable ASCII (no spaces or commas); use a plain ASCII key.")
        }
    }
}
