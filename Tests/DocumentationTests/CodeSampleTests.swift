import Foundation
import Testing

/// The Swift samples of the README, the guides and the DocC articles must be real code: each one
/// stands, line for line, in a file under `Examples/`, which the package builds, so a sample that
/// stops compiling breaks the build, and one edited apart from its example fails here.
@Suite struct CodeSampleTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// Lines as they matter to the compiler: trimmed, blank lines dropped.
    static func normalized(_ text: Substring) -> [String] {
        text.split(separator: "\n", omittingEmptySubsequences: false)
            .map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty }
    }

    /// The fenced ```swift blocks of a Markdown file.
    static func samples(in url: URL) throws -> [(line: Int, code: [String])] {
        let text = try String(contentsOf: url, encoding: .utf8)
        var samples: [(Int, [String])] = []
        var current: [Substring]?
        var start = 0
        for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if current == nil, trimmed == "```swift" {
                current = []
                start = number + 1
            } else if current != nil, trimmed == "```" {
                samples.append((start, normalized(current!.joined(separator: "\n")[...])))
                current = nil
            } else {
                current?.append(line)
            }
        }
        return samples
    }

    static func documents() throws -> [URL] {
        var urls = [root.appendingPathComponent("README.md")]
        let enumerator = FileManager.default.enumerator(at: root.appendingPathComponent("Sources"), includingPropertiesForKeys: nil)
        while let url = enumerator?.nextObject() as? URL {
            if url.pathExtension == "md" { urls.append(url) }
        }
        let guides = root.appendingPathComponent("Documentation")
        for name in try FileManager.default.contentsOfDirectory(atPath: guides.path) where name.hasSuffix(".md") {
            urls.append(guides.appendingPathComponent(name))
        }
        return urls
    }

    static func exampleFiles() throws -> [(name: String, lines: [String])] {
        var files: [(String, [String])] = []
        let enumerator = FileManager.default.enumerator(at: root.appendingPathComponent("Examples"), includingPropertiesForKeys: nil)
        while let url = enumerator?.nextObject() as? URL {
            guard url.pathExtension == "swift" else { continue }
            files.append((url.path, normalized(try String(contentsOf: url, encoding: .utf8)[...])))
        }
        return files
    }

    @Test func everySwiftSampleStandsInACompiledExample() throws {
        let examples = try Self.exampleFiles()
        #expect(!examples.isEmpty)
        var checked = 0
        for document in try Self.documents() {
            for sample in try Self.samples(in: document) where !sample.code.isEmpty {
                checked += 1
                // Imports stand at the top of a file, so they are looked for anywhere in it; the
                // rest of the sample must stand as one run of lines.
                let imports = sample.code.filter { $0.hasPrefix("import ") }
                let code = sample.code.filter { !$0.hasPrefix("import ") }
                let found = examples.contains { file in
                    guard imports.allSatisfy(file.lines.contains), file.lines.count >= code.count else { return false }
                    return (0...(file.lines.count - code.count)).contains { offset in
                        Array(file.lines[offset..<(offset + code.count)]) == code
                    }
                }
                let name = document.path.replacingOccurrences(of: Self.root.path + "/", with: "")
                #expect(found, "The Swift sample at \(name):\(sample.line) is not in any file under Examples/; put it into an example so it compiles.")
            }
        }
        #expect(checked > 0)
    }
}

/// The README's samples compose: its quick start, run whole, publishes the upload and its
/// search finds the video the upload created.
@Suite struct QuickstartTests {
    @Test func theQuickStartRunsAndItsSearchFindsItsUpload() throws {
        let executable = CodeSampleTests.root.appendingPathComponent(".build/debug/quickstart")
        try #require(FileManager.default.isExecutableFile(atPath: executable.path), "build the examples first (swift build --build-tests)")
        let process = Process()
        process.executableURL = executable
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        let lines = text.split(separator: "\n").map(String.init).filter { !$0.hasPrefix("20") }  // log lines start with a date
        #expect(lines.first?.hasPrefix("ready videos/") == true, "\(lines)")
        #expect(lines.contains("The [Analytical] [Engine], explained"), "\(lines)")
        #expect(lines.contains("The username 'ada' is taken; choose another."), "\(lines)")
    }
}
