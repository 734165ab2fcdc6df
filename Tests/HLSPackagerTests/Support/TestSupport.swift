import Foundation
import Testing

/// What a finished child process printed and how it exited.
struct ProcessResult {
    var status: Int32
    var stdout: String
    var stderr: String
}

/// Runs `arguments` (first is looked up on PATH) to completion; stdin is closed unless given.
///
/// The wait happens on a thread of its own, so tests that run players in parallel never tie up
/// the Swift concurrency threads that a transcode or packager under test needs.
@discardableResult
func run(_ arguments: [String], stdin: String? = nil, currentDirectory: URL? = nil) async throws -> ProcessResult {
    try await withCheckedThrowingContinuation { continuation in
        let thread = Thread {
            continuation.resume(with: Result { try runBlocking(arguments, stdin: stdin, currentDirectory: currentDirectory) })
        }
        thread.start()
    }
}

private func runBlocking(_ arguments: [String], stdin: String?, currentDirectory: URL?) throws -> ProcessResult {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = arguments
    if let currentDirectory { process.currentDirectoryURL = currentDirectory }
    let out = Pipe(), err = Pipe(), input = Pipe()
    process.standardOutput = out
    process.standardError = err
    process.standardInput = input
    try process.run()
    if let stdin { input.fileHandleForWriting.write(Data(stdin.utf8)) }
    try input.fileHandleForWriting.close()
    // Read both pipes concurrently so a chatty child never blocks on a full pipe.
    nonisolated(unsafe) var errData = Data()
    let group = DispatchGroup()
    group.enter()
    DispatchQueue.global().async {
        errData = err.fileHandleForReading.readDataToEndOfFile()
        group.leave()
    }
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    group.wait()
    process.waitUntilExit()
    return ProcessResult(status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
                         stderr: String(decoding: errData, as: UTF8.self))
}

/// Checks playlists with the python `m3u8` library in strict mode; returns the files it rejected with its message.
func m3u8StrictFailures(_ files: [String]) async throws -> [String] {
    let script = """
    import sys, m3u8
    bad = []
    for path in sys.argv[1:]:
        text = open(path, encoding="utf-8").read()
        try:
            m3u8.M3U8(text, strict=True)
        except Exception as e:
            print(path + ": " + repr(e))
    """
    let result = try await run(["python3", "-c", script] + files)
    #expect(result.status == 0, "python m3u8 failed to run: \(result.stderr)")
    return result.stdout.split(separator: "\n").map(String.init)
}

/// Serves `directory` over HTTP on 127.0.0.1 with a port the OS picks; `stop()` ends the server.
final class HTTPServer {
    let process = Process()
    let port: Int

    init(directory: URL) throws {
        // Python's SimpleHTTPRequestHandler ignores Range, which byte-range playlists need; this one honours single ranges.
        let script = """
        import http.server, functools, os, re, sys
        class Handler(http.server.SimpleHTTPRequestHandler):
            def log_message(self, *a): pass
            def send_head(self):
                match = re.fullmatch(r"bytes=(\\d+)-(\\d*)", self.headers.get("Range", ""))
                path = self.translate_path(self.path)
                if not match or not os.path.isfile(path):
                    return super().send_head()
                size = os.path.getsize(path)
                start = int(match.group(1))
                end = min(int(match.group(2)) if match.group(2) else size - 1, size - 1)
                if start >= size:
                    self.send_error(416)
                    return None
                f = open(path, "rb")
                f.seek(start)
                self.send_response(206)
                self.send_header("Content-Type", self.guess_type(path))
                self.send_header("Content-Range", "bytes %d-%d/%d" % (start, end, size))
                self.send_header("Content-Length", str(end - start + 1))
                self.end_headers()
                import io
                return io.BytesIO(f.read(end - start + 1))
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Handler, directory=sys.argv[1]))
        print(server.server_address[1], flush=True)
        server.serve_forever()
        """
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script, directory.path]
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        var line = Data()
        while true {
            let byte = out.fileHandleForReading.readData(ofLength: 1)
            if byte.isEmpty || byte == Data("\n".utf8) { break }
            line.append(byte)
        }
        guard let port = Int(String(decoding: line, as: UTF8.self)) else {
            process.terminate()
            throw CocoaError(.fileReadUnknown)
        }
        self.port = port
    }

    func url(_ path: String) -> String { "http://127.0.0.1:\(port)/\(path)" }

    func stop() {
        // SIGKILL, not SIGTERM: the test runner blocks SIGTERM and children inherit that mask.
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }
}

