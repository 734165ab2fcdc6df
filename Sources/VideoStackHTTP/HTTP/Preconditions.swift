internal import Foundation
internal import HTTPTypes

/// Conditional request evaluation for `GET`/`HEAD` (RFC 9110 §13.2.2).
enum Preconditions {
    enum Outcome: Equatable {
        case proceed
        case notModified
        case preconditionFailed
    }

    /// Evaluates `If-Match`, `If-Unmodified-Since`, `If-None-Match` and `If-Modified-Since`, in
    /// that order, for a representation with `etag` and `lastModified`.
    ///
    /// - `If-Match` uses strong comparison; an invalid value cannot match, so it fails (412).
    /// - `If-Unmodified-Since` counts only without `If-Match`; an invalid date is ignored.
    /// - `If-None-Match` uses weak comparison; `*` matches any existing object; a match gives 304.
    ///   An invalid value is ignored: sending the full body is always safe, a wrong 304 is not.
    /// - `If-Modified-Since` counts only without `If-None-Match`, only as one valid date.
    static func evaluate(_ headers: HTTPFields, etag: EntityTag, lastModified: HTTPDate) -> Outcome {
        // Most requests carry none of the four: one pass over the fields instead of four lists.
        guard headers.contains(where: { Self.conditionalNames.contains($0.name) }) else { return .proceed }
        let ifMatch = headers[values: .ifMatch]
        if !ifMatch.isEmpty {
            guard let condition = EntityTagCondition.parse(ifMatch), condition.strongly(matches: etag) else {
                return .preconditionFailed
            }
        } else if let date = singleDate(headers[values: .ifUnmodifiedSince]), lastModified > date {
            return .preconditionFailed
        }
        let ifNoneMatch = headers[values: .ifNoneMatch]
        if !ifNoneMatch.isEmpty {
            if let condition = EntityTagCondition.parse(ifNoneMatch), condition.weakly(matches: etag) {
                return .notModified
            }
        } else if let date = singleDate(headers[values: .ifModifiedSince]), lastModified <= date {
            return .notModified
        }
        return .proceed
    }

    /// Whether a `Range` may be honoured given `If-Range` (§13.1.5); true when there is none.
    ///
    /// An entity tag must match strongly (a weak one never does). A date must equal
    /// `Last-Modified` exactly, and the modification must be at least a full second older than
    /// `now`: within its own second, a second change could share the same date, so the date
    /// would not be a strong validator (§8.8.2.2). Anything else sends the whole object.
    static func ifRangeHolds(_ value: String?, etag: EntityTag, lastModified: HTTPDate, now: Date) -> Bool {
        guard let value else { return true }
        let trimmed = Substring(value).drop(while: { $0 == " " })
        if trimmed.hasPrefix("\"") || trimmed.hasPrefix("W/") {
            guard let tag = EntityTag.parse(trimmed) else { return false }
            return tag.strongly(matches: etag)
        }
        guard let date = HTTPDate(trimmed) else { return false }
        let nowSeconds = Int64(now.timeIntervalSince1970.rounded(.down))
        return date == lastModified && nowSeconds > lastModified.secondsSince1970 + 1
    }

    private static let conditionalNames: [HTTPField.Name] = [.ifMatch, .ifUnmodifiedSince, .ifNoneMatch, .ifModifiedSince]

    private static func singleDate(_ lines: [String]) -> HTTPDate? {
        guard lines.count == 1 else { return nil }
        return HTTPDate(lines[0])
    }
}
