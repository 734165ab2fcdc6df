import Foundation
import TestSupport

/// One response as curl saw it: status, headers (lower-cased names) and body.
struct CurlResponse {
    var status: Int
    var headers: [String: String]
    var body: Data

    /// Runs curl with `arguments` (the URL among them), capturing headers and body.
    static func fetch(_ arguments: [String]) async throws -> CurlResponse {
        let headerFile = FileManager.default.temporaryDirectory.appendingPathComponent("curl-\(UUID().uuidString).h")
        defer { try? FileManager.default.removeItem(at: headerFile) }
        let result = try await ToolProcess.run(["curl", "-s", "-S", "--max-time", "30", "-D", headerFile.path, "-o", "-"] + arguments)
        guard result.status == 0 else { throw LoopbackError(message: "curl \(arguments) failed (\(result.status)): \(result.stderr)") }
        let text = (try? String(contentsOf: headerFile, encoding: .utf8)) ?? ""
        var status = 0
        var headers: [String: String] = [:]
        for line in text.split(separator: "\r\n") {
            if line.hasPrefix("HTTP/") {
                // The last status line wins (a 100 Continue may come first).
                status = Int(line.split(separator: " ")[1]) ?? 0
                headers = [:]
            } else if let colon = line.firstIndex(of: ":") {
                headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            }
        }
        return CurlResponse(status: status, headers: headers, body: result.stdout)
    }
}
