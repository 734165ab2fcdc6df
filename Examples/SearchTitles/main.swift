// search-titles: search as you type over a folder of titles (one file per title, its name the
// title), with prefixes, typos and highlights, on SearchIndex alone.
//
//     swift run search-titles ~/Videos "analitical engi"
//
// With no folder it indexes a few built-in titles.
import Foundation
import Logging
import SearchIndex

func searchTitles(in folder: URL?, for text: String, logger: Logger) throws {
    let index = SearchIndex(logger: logger)
    var titles = ["The Analytical Engine, explained", "Café au lait at home", "Bernoulli numbers by hand", "Babbage's Difference Engine No. 2"]
    if let folder {
        titles = try FileManager.default.contentsOfDirectory(atPath: folder.path)
            .filter { !$0.hasPrefix(".") }
            .map { ($0 as NSString).deletingPathExtension }
    }
    try index.apply(titles.enumerated().map { .upsert(SearchDocument(id: "\($0.offset)", title: $0.element)) })
    // Every keystroke is a query: the last word is a prefix, and small typos still match.
    for end in text.indices.dropFirst().map({ text[..<$0] }) + [text[...]] {
        let hits = try index.search(SearchQuery(String(end))).hits
        print("\(end) → \(hits.prefix(3).map { $0.title.marked(open: "[", close: "]") }.joined(separator: " | "))")
    }
}

func main() throws {
    var logger = Logger(label: "search-titles")
    logger.logLevel = .warning
    let arguments = Array(CommandLine.arguments.dropFirst())
    let folder = arguments.count >= 2 ? URL(fileURLWithPath: arguments[0], isDirectory: true) : nil
    try searchTitles(in: folder, for: arguments.last ?? "analitical engi", logger: logger)
}

try main()
