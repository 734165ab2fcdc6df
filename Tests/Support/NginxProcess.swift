public import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A real nginx started with its own configuration on a free loopback port, for tests (a
/// caching proxy in front of a server under test) and benchmarks (a reference server).
public final class NginxProcess: Sendable {
    /// The loopback port nginx listens on.
    public let port: Int
    /// Its prefix directory: configuration, logs, pid file, temporary files.
    public let directory: URL
    private let process: ToolProcess

    /// Starts nginx and returns once it accepts connections.
    /// - Parameters:
    ///   - directory: the prefix directory (created).
    ///   - http: the body of the `http { }` block; `PORT` in it is replaced by the listening port.
    ///   - main: extra top-level directives (`worker_rlimit_nofile …;`).
    ///   - workerProcesses: `worker_processes` (`"1"`, `"auto"`).
    ///   - workerConnections: `worker_connections`.
    public init(directory: URL, http: String, main: String = "", workerProcesses: String = "1", workerConnections: Int = 256) async throws {
        self.directory = directory
        try FileManager.default.createDirectory(at: directory.appendingPathComponent("logs"), withIntermediateDirectories: true)
        port = try Loopback.freePort()
        // Workers of a root master run as nobody unless told otherwise, and could not write the
        // temporary and cache directories made here.
        let user = getuid() == 0 ? "user root;" : ""
        let configuration = """
        \(user)
        \(main)
        worker_processes \(workerProcesses);
        pid \(directory.path)/nginx.pid;
        error_log \(directory.path)/logs/error.log warn;
        events { worker_connections \(workerConnections); }
        http {
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
        process = try ToolProcess(["/usr/sbin/nginx", "-p", directory.path, "-c", file.path, "-g", "daemon off;"])
        for _ in 0..<400 {
            if Loopback.canConnect(port: port) { return }
            try await Task.sleep(for: .milliseconds(25))
        }
        let log = (try? String(contentsOf: directory.appendingPathComponent("logs/error.log"), encoding: .utf8)) ?? ""
        _ = try? await process.stop()
        throw LoopbackError(message: "nginx did not start: \(process.stderrSoFar) \(log)")
    }

    /// Stops nginx (SIGTERM: a fast shutdown) and waits for it.
    public func stop() async {
        _ = try? await process.stop()
    }
}

/// A failure to set up a loopback server or client.
public struct LoopbackError: Error, CustomStringConvertible {
    /// What went wrong.
    public var message: String
    /// The message.
    public var description: String { message }

    /// Creates the error.
    public init(message: String) { self.message = message }
}

/// Ports on 127.0.0.1.
public enum Loopback {
    /// A port that was free a moment ago (the OS picked it for a socket that is closed again).
    public static func freePort() throws -> Int {
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
        guard bound else { throw LoopbackError(message: "no free loopback port") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// Whether something accepts TCP connections on `port`.
    public static func canConnect(port: Int) -> Bool {
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
