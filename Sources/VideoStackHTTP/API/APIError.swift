public import HTTPTypes
internal import Foundation
internal import Hummingbird
internal import VideoCore

/// An error as the API answers it: a status, a stable snake_case code and a sentence, sent as
/// `{"error": {"code", "message", "requestId"}}`.
///
/// Every failure a handler meets becomes one of these through ``init(_:context:)``:
/// `VideoStackError` codes map to statuses (`invalidInput` 400, `unauthenticated` 401, …), JSON
/// decoding errors to 400 naming the field, anything unexpected to 500 `internal` (logged, with a
/// message that reveals nothing).
public struct APIError: Error, Sendable, CustomStringConvertible {
    /// The HTTP status.
    public var status: HTTPResponse.Status
    /// The stable code clients match on (`invalid_request`, `not_found`, …).
    public var code: String
    /// What was wrong and what to do, for people.
    public var message: String
    /// Extra header fields (`Retry-After`, `WWW-Authenticate`, `Allow`, `Tus-Version`).
    public var headerFields: HTTPFields

    /// An error with the given parts.
    public init(_ status: HTTPResponse.Status, code: String, _ message: String, headerFields: HTTPFields = [:]) {
        self.status = status
        self.code = code
        self.message = message
        self.headerFields = headerFields
    }

    public var description: String { "\(status.code) \(code): \(message)" }

    /// Where an error happened, which decides what a size limit means.
    public enum Context: Sendable {
        /// A JSON endpoint: a field over its limit is a bad request (400).
        case json
        /// An upload: a size, quota or count over its limit is 413.
        case upload
    }

    /// 400 `invalid_request`.
    public static func invalidRequest(_ message: String) -> APIError { APIError(.badRequest, code: "invalid_request", message) }
    /// 401 `unauthorized` with `WWW-Authenticate: Bearer`.
    public static func unauthorized(_ message: String) -> APIError {
        var fields = HTTPFields()
        fields[.wwwAuthenticate] = "Bearer realm=\"videostack\""
        return APIError(.unauthorized, code: "unauthorized", message, headerFields: fields)
    }
    /// 403 `forbidden`.
    public static func forbidden(_ message: String) -> APIError { APIError(.forbidden, code: "forbidden", message) }
    /// 404 `not_found`.
    public static func notFound(_ message: String) -> APIError { APIError(.notFound, code: "not_found", message) }
    /// 409 `conflict`.
    public static func conflict(_ message: String) -> APIError { APIError(.conflict, code: "conflict", message) }
    /// 413 `payload_too_large`.
    public static func payloadTooLarge(_ message: String) -> APIError { APIError(.contentTooLarge, code: "payload_too_large", message) }
    /// 415 `unsupported_media_type`.
    public static func unsupportedMediaType(_ message: String) -> APIError {
        APIError(.unsupportedMediaType, code: "unsupported_media_type", message)
    }
    /// 405 `method_not_allowed` with the `Allow` field.
    public static func methodNotAllowed(_ method: HTTPRequest.Method, allowed: [HTTPRequest.Method]) -> APIError {
        var fields = HTTPFields()
        fields[.allow] = allowed.map(\.rawValue).joined(separator: ", ")
        return APIError(.methodNotAllowed, code: "method_not_allowed",
                        "\(method.rawValue) is not allowed here; use \(allowed.map(\.rawValue).joined(separator: ", ")).", headerFields: fields)
    }
    /// 429 `rate_limited` with `Retry-After` in whole seconds (at least 1).
    public static func rateLimited(_ message: String, retryAfter: Duration?) -> APIError {
        var fields = HTTPFields()
        let seconds = max(1, Int((retryAfter ?? .seconds(1)).secondsValue.rounded(.up)))
        fields[.retryAfter] = String(seconds)
        return APIError(.tooManyRequests, code: "rate_limited", message, headerFields: fields)
    }
    /// 500 `internal`: the message reveals nothing about the cause (which is logged).
    public static var `internal`: APIError {
        APIError(.internalServerError, code: "internal", "Something went wrong on the server; it has been logged. Try again later.")
    }

    /// The API error for anything a handler threw.
    ///
    /// - Parameter context: `.upload` makes `limitExceeded` a 413 (size, quota); in JSON
    ///   endpoints it means a field over its limit, a 400.
    public init(_ error: any Error, context: Context = .json) {
        switch error {
        case let error as APIError:
            self = error
        case let error as VideoStackError:
            self = Self.map(error, context: context)
        case let error as DecodingError:
            self = .invalidRequest(Self.describe(error))
        case let error as any HTTPResponseError where error.status == .contentTooLarge:
            self = .payloadTooLarge("The request body is too large.")
        default:
            self = .internal
        }
    }

    private static func map(_ error: VideoStackError, context: Context) -> APIError {
        let message = error.message
        switch error.code {
        case .invalidInput, .unsupported, .outOfRange: return .invalidRequest(message)
        case .unauthenticated: return .unauthorized(message)
        case .forbidden: return .forbidden(message)
        case .notFound, .gone: return .notFound(message)
        case .conflict, .conditionFailed, .transactionCanceled: return .conflict(message)
        case .limitExceeded: return context == .upload ? .payloadTooLarge(message) : .invalidRequest(message)
        case .rateLimited: return .rateLimited(message, retryAfter: error.retryAfter)
        case .locked:
            return APIError(HTTPResponse.Status(code: 423, reasonPhrase: "Locked"), code: "locked", message)
        case .checksumMismatch:
            return APIError(HTTPResponse.Status(code: 460, reasonPhrase: "Checksum Mismatch"), code: "checksum_mismatch", message)
        default:
            // Search's invalidCursor, and any other code naming bad input by its name.
            if error.code.name == "invalidCursor" { return .invalidRequest(message) }
            return .internal
        }
    }

    /// A sentence naming the field and what was wrong with it, without echoing the input.
    static func describe(_ error: DecodingError) -> String {
        func path(_ context: DecodingError.Context, _ key: (any CodingKey)? = nil) -> String {
            let keys = context.codingPath + (key.map { [$0] } ?? [])
            let text = keys.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
                .replacingOccurrences(of: ".[", with: "[")
            return text.isEmpty ? "the body" : "'\(text.prefix(100))'"
        }
        switch error {
        case .keyNotFound(let key, let context):
            return "The request body lacks the required field \(path(context, key))."
        case .typeMismatch(let type, let context):
            return "\(path(context).capitalizedFirst) has the wrong type; expected \(Self.name(of: type))."
        case .valueNotFound(let type, let context):
            return "\(path(context).capitalizedFirst) is null; expected \(Self.name(of: type))."
        case .dataCorrupted(let context):
            if context.codingPath.isEmpty { return "The request body is not valid JSON (UTF-8 text with one object)." }
            return "\(path(context).capitalizedFirst) has a value that is not allowed here."
        @unknown default:
            return "The request body could not be read."
        }
    }

    private static func name(of type: Any.Type) -> String {
        switch type {
        case is String.Type: return "a string"
        case is Int.Type, is Int64.Type: return "an integer"
        case is Double.Type: return "a number"
        case is Bool.Type: return "true or false"
        case is [String].Type: return "an array of strings"
        default:
            let text = "\(type)"
            if text.hasPrefix("Array") { return "an array" }
            if text.hasPrefix("Dictionary") { return "an object" }
            return "an object"
        }
    }
}

extension String {
    fileprivate var capitalizedFirst: String { prefix(1).uppercased() + dropFirst() }
}

extension HTTPField.Name {
    static let uploadOffset = HTTPField.Name("Upload-Offset")!
    static let uploadLength = HTTPField.Name("Upload-Length")!
    static let uploadDeferLength = HTTPField.Name("Upload-Defer-Length")!
    static let uploadMetadata = HTTPField.Name("Upload-Metadata")!
    static let uploadExpires = HTTPField.Name("Upload-Expires")!
    static let uploadChecksum = HTTPField.Name("Upload-Checksum")!
    static let tusResumable = HTTPField.Name("Tus-Resumable")!
    static let tusVersion = HTTPField.Name("Tus-Version")!
    static let tusExtension = HTTPField.Name("Tus-Extension")!
    static let tusMaxSize = HTTPField.Name("Tus-Max-Size")!
    static let tusChecksumAlgorithm = HTTPField.Name("Tus-Checksum-Algorithm")!
    static let videoID = HTTPField.Name("Video-Id")!
    static let requestID = HTTPField.Name("X-Request-Id")!
    static let forwardedFor = HTTPField.Name("X-Forwarded-For")!
}
