// A child process for the crash-safety test: performs transactional writes against a store and
// prints "ACK n" after each one is acknowledged, until it is killed.
//
// usage: store-crash-writer DATABASE FIRST
import Foundation
import SingleTableStore

let arguments = CommandLine.arguments
guard arguments.count == 3, let first = Int(arguments[2]) else {
    FileHandle.standardError.write(Data("usage: store-crash-writer DATABASE FIRST\n".utf8))
    exit(2)
}
let store = try await SQLiteItemStore(url: URL(fileURLWithPath: arguments[1]), schema: .singleTable, configuration: .init(durability: .full))

let payload = AttributeValue.s(String(repeating: "p", count: 2000))

// Several writers at once, so acknowledged writes land in shared group commits.
await withThrowingTaskGroup(of: Void.self) { group in
    for lane in 0..<4 {
        group.addTask {
            var n = first + lane
            while true {
                try await store.transactWrite([
                    .put(["PK": .s("A#\(n)"), "SK": "x", "n": .int(Int64(n)), "payload": payload], condition: .notExists("PK")),
                    .put(["PK": .s("B#\(n)"), "SK": "x", "n": .int(Int64(n)), "GSI1PK": "pairs", "GSI1SK": .s("\(n)")]),
                    .update(key: ["PK": "counter", "SK": "x"], actions: [.add("pairs", 1)]),
                ])
                // One unbuffered write per line: a pipe write under PIPE_BUF bytes is atomic.
                FileHandle.standardOutput.write(Data("ACK \(n)\n".utf8))
                n += 4
            }
        }
    }
}
