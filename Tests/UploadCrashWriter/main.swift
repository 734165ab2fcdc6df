// A child process for the upload crash tests. It appends the bytes of SOURCE to an existing
// upload, from the upload's acknowledged offset on, and prints "ACK <offset>" after each append
// returns, until the upload is complete or the process is killed.
//
// usage: upload-crash-writer append|complete DATABASE DIRECTORY SOURCE UPLOAD-ID CHUNK-BYTES
//   append:   prints "HANDED <id>" if the upload completes and is handed over, then "DONE".
//   complete: the completion handler prints "HANDLING <id> <attempt>" and kills this process
//             with SIGKILL, so the upload is left between `completing` and `finished`.
import Foundation
import Logging
import SingleTableStore
import VideoCore
import VideoPlatform

func say(_ line: String) {
    // One unbuffered write per line: a pipe write under PIPE_BUF bytes is atomic.
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}

struct PrintingHandler: UploadCompletionHandler {
    let dies: Bool

    func complete(_ upload: CompletedUpload) async throws {
        if dies {
            say("HANDLING \(upload.id) \(upload.attempt)")
            kill(getpid(), SIGKILL)
        }
        say("HANDED \(upload.id)")
    }
}

let arguments = CommandLine.arguments
guard arguments.count == 7, ["append", "complete"].contains(arguments[1]), let id = UploadID(arguments[5]),
      let chunkBytes = Int(arguments[6]), chunkBytes > 0 else {
    FileHandle.standardError.write(Data("usage: upload-crash-writer append|complete DATABASE DIRECTORY SOURCE UPLOAD-ID CHUNK-BYTES\n".utf8))
    exit(2)
}
let source = try [UInt8](Data(contentsOf: URL(fileURLWithPath: arguments[4])))
let store = try await SQLiteItemStore(url: URL(fileURLWithPath: arguments[2]), schema: .singleTable)
let service = try UploadService(store: store, directory: URL(fileURLWithPath: arguments[3]),
                                completionHandler: PrintingHandler(dies: arguments[1] == "complete"),
                                logger: Logger(label: "upload-crash-writer", factory: { _ in SwiftLogNoOpLogHandler() }))

var offset = try await service.status(id).offset
while offset < Int64(source.count) {
    let end = min(Int(offset) + chunkBytes, source.count)
    // Each PATCH body arrives in four pieces, as a network would deliver it, so a kill can land
    // between writes of one PATCH as well as between PATCHes.
    let piece = max(1, (end - Int(offset) + 3) / 4)
    let pieces = stride(from: Int(offset), to: end, by: piece).map { Array(source[$0..<min($0 + piece, end)]) }
    offset = try await service.append(id, at: offset, body: pieces.async).offset
    say("ACK \(offset)")
}
say("DONE")
store.close()

extension Array where Element == [UInt8] {
    /// The chunks as an async sequence, as a request body would deliver them.
    var async: AsyncStream<[UInt8]> {
        AsyncStream { continuation in
            for chunk in self { continuation.yield(chunk) }
            continuation.finish()
        }
    }
}
