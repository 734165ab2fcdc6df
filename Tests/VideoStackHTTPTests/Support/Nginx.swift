import Foundation
import Testing
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

/// A real nginx started by a test with its own configuration on a free loopback port.
final class Nginx: Sendable {
    let port: Int
    let directory: URL
    private let process: ChildProcess

    /// Starts nginx with `http` as the body of its `http { }` block; `PORT` in it is replaced by
    /// the port nginx listens on.
    init(directory: URL, http: String) async throws {
        self.directory = directory
        try FileManager.default.createDirectory(at: directory.appendingPathComponent("logs"), withIntermediateDirectories: true)
        port = try Self.freePort()
        // Workers of a root master run as nobody unless told otherwise, and could not write the
        // cache directory the test made.
        let user = getuid() == 0 ? "user root;" : ""
        let configuration = """
        \(user)
        worker_processes 1;
        pid \(directory.path)/nginx.pid;
        error_log \(directory.path)/logs/error.log warn;
        events { worker_connections 256; }
        http {
            access_log \(directory.path)/logs/access.log;
            client_body_temp_path \(directory.path)/client_temp;
            proxy_temp_path \(directory.path)/proxy_temp;
            fastcgi_temp_path \(directory.path)/fastcgi_temp;
            uwsgi_temp_path \(directory.path)/uwsgi_temp;
            scgi_temp_path \(directory.path)/scgi_temp;
        \(http.replacingOccurrences(of: "PORT", with: String(port)))
        }
        """
        let file = directory.appendingPathComponent("nginx.conf")
        try configuration.write(to: file, atomically: true, encoding: .utf8)
        process = try ChildProcess(["/usr/sbin/nginx", "-p", directory.path, "-c", file.path, "-g", "daemon off;"])
        for _ in 0..<400 {
            if Self.canConnect(port: port) { return }
            try await Task.sleep(for: .milliseconds(25))
        }
        let log = (try? String(contentsOf: directory.appendingPathComponent("logs/error.log"), encoding: .utf8)) ?? ""
        _ = try? await process.stop()
        throw NginxError(message: "nginx did not start: \(process.stderrSoFar) \(log)")
    }

    func stop() async {
        _ = try? await process.stop()
    }

    struct NginxError: Error, CustomStringConvertible {
        var message: String
        var description: String { message }
    }

    /// A loopback port that was free a moment ago.
    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(fd, pointer, length) == 0 && getsockname(fd, pointer, &length) == 0
            }
        }
        guard bound else { throw NginxError(message: "no free loopback port") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    static func canConnect(port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
    }
}

/// One response as curl saw it: status, headers (lower-cased names) and body.
struct CurlResponse {
    var status: Int
    var headers: [String: String]
    var body: Data

    /// Runs curl with `arguments` (the URL among them), capturing headers and body.
    static func fetch(_ arguments: [String]) async throws -> CurlResponse {
        let headerFile = FileManager.default.temporaryDirectory.appendingPathComponent("curl-\(UUID().uuidString).h")
        defer { try? FileManager.default.removeItem(at: headerFile) }
        let result = try await ChildProcess.run(["curl", "-s", "-S", "--max-time", "30", "-D", headerFile.path, "-o", "-"] + arguments)
        guard result.status == 0 else { throw Nginx.NginxError(message: "curl \(arguments) failed (\(result.status)): \(result.stderr)") }
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
