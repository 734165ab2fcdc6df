import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// The web page's files (Examples/VideoServer/Public), read once at start and served from memory.
///
/// `index.html` refers to its assets with a `?v=<hash>` of their bytes, so an asset fetched with
/// its current hash can be cached for a year (`immutable`) and a new version of the page is
/// fetched at once; the page itself and assets asked for without the hash must revalidate
/// (`no-cache`), which costs a 304 thanks to the `ETag`.
struct PageFiles: Sendable {
    struct File: Sendable {
        var bytes: ByteBuffer
        var contentType: String
        /// A strong entity tag: the first 16 bytes of the SHA-256 of the content, in hex.
        var etag: String
        /// The hash the page uses in `?v=`.
        var version: String
    }

    static let names = ["index.html", "app.css", "app.js", "tus.js", "favicon.svg"]

    private let files: [String: File]
    let directory: URL

    /// Reads the page from `directory`; throws naming the missing file.
    init(directory: URL) throws {
        self.directory = directory
        var raw: [String: Data] = [:]
        for name in Self.names {
            let url = directory.appendingPathComponent(name)
            do {
                raw[name] = try Data(contentsOf: url)
            } catch {
                throw PageError("The page's file \(url.path) could not be read (\(error.localizedDescription)); pass --public-dir with the folder that has \(Self.names.joined(separator: ", ")).")
            }
        }
        var files: [String: File] = [:]
        for (name, data) in raw where name != "index.html" {
            files[name] = Self.file(name, data)
        }
        // Point the page at the exact versions of its assets.
        var page = String(decoding: raw["index.html"]!, as: UTF8.self)
        for (name, file) in files {
            page = page.replacingOccurrences(of: "\"/assets/\(name)\"", with: "\"/assets/\(name)?v=\(file.version)\"")
        }
        files["index.html"] = Self.file("index.html", Data(page.utf8))
        self.files = files
    }

    private static func file(_ name: String, _ data: Data) -> File {
        let digest = SHA256.hash(data: data).prefix(16).map { String(format: "%02x", $0) }.joined()
        return File(bytes: ByteBuffer(bytes: data), contentType: contentType(of: name), etag: "\"\(digest)\"", version: String(digest.prefix(12)))
    }

    static func contentType(of name: String) -> String {
        switch name.split(separator: ".").last.map(String.init) ?? "" {
        case "html": "text/html; charset=utf-8"
        case "css": "text/css; charset=utf-8"
        case "js": "text/javascript; charset=utf-8"
        case "svg": "image/svg+xml"
        default: "application/octet-stream"
        }
    }

    /// The folder of the page: `override` if given, else the copy SwiftPM puts beside the
    /// executable (`VideoStack_VideoServer.resources/Public`), else the source tree's.
    static func locate(override: URL?) -> URL {
        if let override { return override }
        let executable = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        for bundle in ["VideoStack_VideoServer.resources", "VideoStack_VideoServer.bundle/Contents/Resources"] {
            let candidate = executable.appendingPathComponent(bundle).appendingPathComponent("Public")
            if FileManager.default.fileExists(atPath: candidate.appendingPathComponent("index.html").path) { return candidate }
        }
        return URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Public")
    }

    /// The page (`index.html`) for any of the page's own paths.
    func page(for request: Request, status: HTTPResponse.Status = .ok) -> Response {
        respond(files["index.html"]!, request: request, cacheControl: "no-cache", status: status, isPage: true)
    }

    /// `/assets/<name>`: immutable when asked for with the current `?v=`, else revalidated.
    func asset(_ name: String, request: Request) -> Response? {
        guard name != "index.html", let file = files[name] else { return nil }
        let current = request.uri.queryParameters["v"].map(String.init) == file.version
        return respond(file, request: request, cacheControl: current ? "public, max-age=31536000, immutable" : "no-cache", status: .ok, isPage: false)
    }

    private func respond(_ file: File, request: Request, cacheControl: String, status: HTTPResponse.Status, isPage: Bool) -> Response {
        var headers: HTTPFields = [
            .contentType: file.contentType,
            .eTag: file.etag,
            .cacheControl: cacheControl,
            HTTPField.Name("X-Content-Type-Options")!: "nosniff",
        ]
        if isPage {
            // Everything the page loads comes from this server; media may come as blob: URLs.
            headers[HTTPField.Name("Content-Security-Policy")!] = "default-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; "
                + "style-src 'self'; script-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
            headers[HTTPField.Name("Referrer-Policy")!] = "same-origin"
        }
        if status == .ok, let tags = request.headers[.ifNoneMatch], Self.matches(tags, etag: file.etag) {
            return Response(status: .notModified, headers: headers)
        }
        headers[.contentLength] = String(file.bytes.readableBytes)
        if request.method == .head {
            return Response(status: status, headers: headers)
        }
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: file.bytes))
    }

    /// `If-None-Match` against a strong tag with the weak comparison RFC 9110 asks for here: `*`,
    /// or any listed tag equal to ours once `W/` is dropped.
    static func matches(_ header: String, etag: String) -> Bool {
        let ours = etag
        for part in header.split(separator: ",") {
            var tag = part.trimmingCharacters(in: .whitespaces)
            if tag == "*" { return true }
            if tag.hasPrefix("W/") { tag.removeFirst(2) }
            if tag == ours { return true }
        }
        return false
    }
}

/// A problem with the page's files, said plainly.
struct PageError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
