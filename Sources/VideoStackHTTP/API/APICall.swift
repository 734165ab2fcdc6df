internal import Foundation
internal import HTTPTypes
internal import Hummingbird
internal import Logging
internal import NIOCore
internal import VideoCore
internal import VideoPlatform

/// One request as a handler sees it: the request, its path parameters and query, who sent it
/// (after authentication), its id, and the logger carrying that id.
struct APICall: Sendable {
    var request: Request
    var parameters: Parameters
    var requestID: String
    /// The client's address, when the context knows it (or a trusted proxy said).
    var address: String?
    /// The signed-in user, when the request carried a valid access token.
    var user: AuthenticatedUser?
    /// The API's logger, without this request's metadata.
    var baseLogger: Logger
    let api: VideoStackAPI

    /// The logger with the request's id (and user, once known). Made when something is logged:
    /// setting metadata on every request cost more than most requests log.
    var logger: Logger {
        var logger = baseLogger
        logger[metadataKey: "request.id"] = .string(requestID)
        if let user { logger[metadataKey: "user"] = .string(user.username) }
        return logger
    }

    /// The signed-in user, or 401.
    func requireUser() throws -> AuthenticatedUser {
        guard let user else { throw APIError.unauthorized("Sign in first: send 'Authorization: Bearer <accessToken>'.") }
        return user
    }

    /// A path parameter (the router guarantees it is there).
    func parameter(_ name: String) throws -> String {
        guard let value = parameters.get(name) else { throw APIError.invalidRequest("The path lacks its '\(name)'.") }
        return value
    }

    /// The `{id}` of the path as a video id, or 400.
    func videoID() throws -> VideoID {
        let text = try parameter("id")
        guard text.utf8.count <= 64, let id = VideoID(text) else {
            throw APIError.invalidRequest("'\(text.prefix(64))' is not a video id.")
        }
        return id
    }

    /// The query string, strictly decoded; 400 when it is not valid percent-encoded UTF-8.
    func query() throws -> QueryParameters {
        try QueryParameters(request.uri.query)
    }

    // MARK: Bodies

    /// Decodes the JSON body; nil for an absent body when `optional`.
    ///
    /// 415 when the body is not `application/json`, 413 past the configured size (checked on
    /// `Content-Length` before reading, and while reading), 400 for anything that is not the
    /// expected JSON object.
    func decodeJSON<T: Decodable>(_ type: T.Type, optional: Bool = false) async throws -> T? {
        let limit = api.configuration.maximumJSONBodySize
        if let length = request.headers[.contentLength].flatMap(Int.init), length > limit {
            throw APIError.payloadTooLarge("A JSON body may have at most \(limit) bytes; this one has \(length).")
        }
        let contentType = request.headers[.contentType]
        let declaredEmpty = request.headers[.contentLength] == "0"
        if optional && contentType == nil && (declaredEmpty || request.headers[.contentLength] == nil && request.headers[.transferEncoding] == nil) {
            return nil
        }
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: limit)
        } catch {
            throw APIError.payloadTooLarge("A JSON body may have at most \(limit) bytes.")
        }
        if optional && buffer.readableBytes == 0 { return nil }
        guard let contentType, Self.isJSON(contentType) else {
            throw APIError.unsupportedMediaType("Send the body as JSON, with 'Content-Type: application/json'.")
        }
        guard buffer.readableBytes > 0 else { throw APIError.invalidRequest("The request needs a JSON body.") }
        let bytes = Data(buffer.readableBytesView)
        // Foundation's decoder would take some invalid sequences; refuse them plainly.
        guard String(validating: bytes, as: UTF8.self) != nil else {
            throw APIError.invalidRequest("The request body is not valid UTF-8.")
        }
        do {
            return try VideoStackAPI.decoder().decode(T.self, from: bytes)
        } catch let error as DecodingError {
            throw APIError.invalidRequest(APIError.describe(error))
        } catch {
            throw APIError.invalidRequest("The request body is not valid JSON.")
        }
    }

    /// Decodes a required JSON body.
    func decodeJSON<T: Decodable>(_ type: T.Type) async throws -> T {
        guard let value = try await decodeJSON(type, optional: false) else { throw APIError.invalidRequest("The request needs a JSON body.") }
        return value
    }

    static func isJSON(_ contentType: String) -> Bool {
        let media = contentType.split(separator: ";", maxSplits: 1).first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
        return media == "application/json" || (media.hasPrefix("application/") && media.hasSuffix("+json"))
    }
}

/// The query parameters of a request, percent-decoded (`+` is a space); the first of repeated
/// names wins.
struct QueryParameters: Sendable {
    private var values: [String: String] = [:]

    init(_ raw: String?) throws {
        guard let raw, !raw.isEmpty else { return }
        guard raw.utf8.count <= 8192 else { throw APIError.invalidRequest("The query string is longer than 8192 bytes.") }
        for pair in raw.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let name = PercentEncoding.decodeQueryComponent(parts[0]), let value = parts.count > 1 ? PercentEncoding.decodeQueryComponent(parts[1]) : "" else {
                throw APIError.invalidRequest("The query string is not valid percent-encoded UTF-8.")
            }
            if values[name] == nil { values[name] = value }
        }
    }

    subscript(_ name: String) -> String? { values[name] }

    /// A whole number in `range`, or `defaultValue` when absent; 400 otherwise.
    func integer(_ name: String, in range: ClosedRange<Int>, default defaultValue: Int) throws -> Int {
        guard let text = values[name] else { return defaultValue }
        guard let value = Int(text), range.contains(value) else {
            throw APIError.invalidRequest("'\(name)' must be a whole number from \(range.lowerBound) to \(range.upperBound); got '\(text.prefix(40))'.")
        }
        return value
    }

    /// A non-negative number of seconds, or nil; 400 otherwise.
    func seconds(_ name: String) throws -> Double? {
        guard let text = values[name] else { return nil }
        guard let value = Double(text), value.isFinite, value >= 0, value <= 1e9 else {
            throw APIError.invalidRequest("'\(name)' must be a number of seconds from 0 to 1e9; got '\(text.prefix(40))'.")
        }
        return value
    }

    /// An ISO 8601 time, or nil; 400 otherwise.
    func date(_ name: String) throws -> Date? {
        guard let text = values[name] else { return nil }
        guard let date = APIDates.parse(text) else {
            throw APIError.invalidRequest("'\(name)' must be an ISO 8601 time such as 2026-12-01T23:40:00Z; got '\(text.prefix(40))'.")
        }
        return date
    }

    /// An opaque cursor, or nil: at most 4096 characters of URL-safe base64 and the few
    /// punctuation marks cursors use; 400 otherwise.
    func cursor(_ name: String = "cursor") throws -> String? {
        guard let text = values[name], !text.isEmpty else { return nil }
        guard text.utf8.count <= 4096,
              text.utf8.allSatisfy({ $0 < 0x80 && ($0.isASCIIAlphanumeric || "-_=.~+/:".utf8.contains($0)) })
        else { throw APIError.invalidRequest("The cursor is not one this API returned; pass nextCursor back unchanged.") }
        return text
    }
}

extension UInt8 {
    fileprivate var isASCIIAlphanumeric: Bool {
        (0x30...0x39).contains(self) || (0x41...0x5A).contains(self) || (0x61...0x7A).contains(self)
    }
}

/// ISO 8601 times as the API writes and reads them.
enum APIDates {
    static func parse(_ text: String) -> Date? {
        guard text.utf8.count <= 40 else { return nil }
        if let date = try? Date(text, strategy: .iso8601) { return date }
        return try? Date(text, strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }
}
