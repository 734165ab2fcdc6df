// bench-search: SearchIndex against SQLite FTS5 on the same corpus and queries, in one run.
//
//   swift run -c release bench-search [--scale 1m|100k] [--corpus FILE --queries FILE] [--typo-queries FILE]
//
// Corpus TSV: id, title, description, tags ('|'-joined), views, duration_s.
// Queries: kind <TAB> target_id <TAB> query <TAB> note (for typo queries, note = "word:how").
// Without --corpus the corpora are made by ../shared/data/make_corpus.py into bench-data/.
// A second, independent set of typo queries (typo <TAB> target <TAB> as typed <TAB> typed
// correctly <TAB> how) is made by Benchmarks/search/make_typo_queries.py from the 100k corpus
// into bench-data/typo_queries_b.txt unless --typo-queries names one.
import CSQLite
import Foundation
import Glibc
import Logging
import SearchIndex
import SingleTableStore
import VideoCore
import VideoPlatform

// MARK: Arguments and data

var scale = "1m"
var corpusPath: String?
var queriesPath: String?
var typoQueriesPath: String?
// Each query runs this many times per engine and its median latency counts: the machine is
// shared, and a single preempted run would otherwise land in the p99.
var rounds = 3
var missesKind: String?
// For tuning runs: prints the rank (1...100, 0 = not in the top 100) of each typo query's target,
// and of the same query typed correctly, to see how far a missed target is from the page.
var showRanks = false
// For tuning runs only: skips FTS5 (no comparison ratios are printed).
var skipReference = false
var arguments = CommandLine.arguments.dropFirst()
while let argument = arguments.popFirst() {
    switch argument {
    case "--scale": scale = arguments.popFirst() ?? scale
    case "--corpus": corpusPath = arguments.popFirst()
    case "--queries": queriesPath = arguments.popFirst()
    case "--typo-queries": typoQueriesPath = arguments.popFirst()
    case "--no-reference": skipReference = true
    case "--misses": missesKind = arguments.popFirst()
    case "--ranks": showRanks = true
    case "--rounds": rounds = max(1, Int(arguments.popFirst() ?? "") ?? rounds)
    default:
        FileHandle.standardError.write(Data("usage: bench-search [--scale 1m|100k] [--corpus FILE] [--queries FILE] [--typo-queries FILE] [--rounds N] [--no-reference] [--misses KIND,...] [--ranks]\n".utf8))
        exit(2)
    }
}

func ensureCorpus() {
    let directory = "bench-data"
    let needed = ["\(directory)/corpus_1m.tsv", "\(directory)/corpus_100k.tsv", "\(directory)/queries.txt"]
    guard !needed.allSatisfy({ FileManager.default.fileExists(atPath: $0) }) else { return }
    let script = "../shared/data/make_corpus.py"
    print("generating corpora with \(script) into \(directory)/ (about 25 s)")
    runPython(script, [directory])
}

/// Runs a Python script that makes benchmark data; exits the benchmark if it cannot or it fails.
func runPython(_ script: String, _ arguments: [String]) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["python3", script] + arguments
    do {
        try process.run()
        process.waitUntilExit()
    } catch {
        print("cannot run \(script): \(error)")
        exit(1)
    }
    guard process.terminationStatus == 0 else {
        print("\(script) failed with status \(process.terminationStatus)")
        exit(1)
    }
}

/// Makes the independent typo query set if it is missing (seeded: the same file every time).
func ensureTypoQueries(_ path: String) {
    guard !FileManager.default.fileExists(atPath: path) else { return }
    let script = "Benchmarks/search/make_typo_queries.py"
    runPython(script, ["bench-data/corpus_100k.tsv", path])
}

let roundsPerQuery = rounds
let showMisses = missesKind
if corpusPath == nil || queriesPath == nil { ensureCorpus() }
let corpusFile = corpusPath ?? "bench-data/corpus_\(scale).tsv"
let queryFile = queriesPath ?? "bench-data/queries.txt"
let typoQueryFile = typoQueriesPath ?? "bench-data/typo_queries_b.txt"
if typoQueriesPath == nil { ensureTypoQueries(typoQueryFile) }

/// Reads a file line by line without loading it whole (the 1M corpus is 236 MB).
func forEachLine(_ path: String, _ body: (Substring) throws -> Void) rethrows {
    guard let file = fopen(path, "r") else {
        print("cannot open \(path)")
        exit(1)
    }
    defer { fclose(file) }
    var line: UnsafeMutablePointer<CChar>? = nil
    var capacity = 0
    defer { free(line) }
    while true {
        let length = getline(&line, &capacity, file)
        if length < 0 { break }
        var text = String(cString: line!)
        if text.hasSuffix("\n") { text.removeLast() }
        try body(text[...])
    }
}

struct CorpusRow {
    var id: Int64
    var title: String
    var description: String
    var tags: [String]
    var views: Int64
    var duration: Double
}

func parseRow(_ line: Substring) -> CorpusRow? {
    let fields = line.split(separator: "\t", omittingEmptySubsequences: false)
    guard fields.count >= 6, let id = Int64(fields[0]) else { return nil }
    return CorpusRow(
        id: id, title: String(fields[1]), description: String(fields[2]),
        tags: fields[3].split(separator: "|").map(String.init), views: Int64(fields[4]) ?? 0,
        duration: Double(fields[5]) ?? 0)
}

struct Query {
    var kind: String
    var target: Int64
    var text: String
    var note: String
}

var queries: [Query] = []
forEachLine(queryFile) { line in
    let fields = line.split(separator: "\t", omittingEmptySubsequences: false)
    guard fields.count >= 3, let target = Int64(fields[1]) else { return }
    queries.append(Query(kind: String(fields[0]), target: target, text: String(fields[2]),
                         note: fields.count > 3 ? String(fields[3]) : ""))
}
// The typo queries typed correctly, to compare typo recall with.
let corrected: [Query] = queries.filter { $0.kind == "typo" }.compactMap { query in
    guard let word = query.note.split(separator: ":").first else { return nil }
    return Query(kind: "typo-corrected", target: query.target, text: String(word), note: "")
}
// The independent typo set (kind "typo-b") and the same queries typed correctly ("typo-b-corrected").
var typoB: [Query] = []
var correctedB: [Query] = []
forEachLine(typoQueryFile) { line in
    let fields = line.split(separator: "\t", omittingEmptySubsequences: false)
    guard fields.count >= 4, fields[0] == "typo", let target = Int64(fields[1]) else { return }
    let how = fields.count > 4 ? String(fields[4]) : ""
    typoB.append(Query(kind: "typo-b", target: target, text: String(fields[2]), note: String(fields[3]) + " " + how))
    correctedB.append(Query(kind: "typo-b-corrected", target: target, text: String(fields[3]), note: how))
}

func memoryStatus() -> (rss: Int, peak: Int) {
    var rss = 0, peak = 0
    forEachLine("/proc/self/status") { line in
        let parts = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
        if parts.first == "VmRSS:", parts.count > 1 { rss = (Int(parts[1]) ?? 0) * 1024 }
        if parts.first == "VmHWM:", parts.count > 1 { peak = (Int(parts[1]) ?? 0) * 1024 }
    }
    return (rss, peak)
}

func mib(_ bytes: Int) -> String { String(format: "%.1f MiB", Double(bytes) / 1_048_576) }
func now() -> Double {
    var spec = timespec()
    clock_gettime(CLOCK_MONOTONIC, &spec)
    return Double(spec.tv_sec) + Double(spec.tv_nsec) / 1e9
}
func percentile(_ values: [Double], _ p: Double) -> Double {
    let sorted = values.sorted()
    guard !sorted.isEmpty else { return 0 }
    return sorted[min(sorted.count - 1, Int((p * Double(sorted.count)).rounded(.up)) - 1)]
}

print("corpus \(corpusFile), queries \(queryFile) (\(queries.count) + \(corrected.count) corrected typo queries), independent typo queries \(typoQueryFile) (\(typoB.count) + as many typed correctly)")
let baseline = memoryStatus()

// MARK: SearchIndex

let rowSequence = AnySequence<SearchDocument> { () -> AnyIterator<SearchDocument> in
    guard let file = fopen(corpusFile, "r") else {
        print("cannot open \(corpusFile)")
        exit(1)
    }
    var line: UnsafeMutablePointer<CChar>? = nil
    var capacity = 0
    return AnyIterator {
        while true {
            let length = getline(&line, &capacity, file)
            if length < 0 {
                fclose(file)
                free(line)
                line = nil
                return nil
            }
            var text = String(cString: line!)
            if text.hasSuffix("\n") { text.removeLast() }
            guard let row = parseRow(text[...]) else { continue }
            return SearchDocument(
                id: String(row.id), title: row.title, description: row.description, tags: row.tags,
                uploader: "user\(row.id % 5000)", duration: .seconds(row.duration),
                uploadedAt: Date(timeIntervalSince1970: 1_500_000_000 + Double(row.id) * 97), views: row.views)
        }
    }
}

// Tuning knobs for experiments, e.g. BENCH_TYPO_EXPONENT=1; the defaults are the library's.
var configuration = SearchIndexConfiguration()
let environment = ProcessInfo.processInfo.environment
if let value = environment["BENCH_TYPO_EXPONENT"].flatMap(Double.init) { configuration.typoFrequencyExponent = value }
if let value = environment["BENCH_TYPO_THRESHOLD"].flatMap(Int.init) { configuration.typoThreshold = value }
if let value = environment["BENCH_TYPO_EXPANSIONS"].flatMap(Int.init) { configuration.maxTypoExpansions = value }
if let value = environment["BENCH_ONE_TYPO_MIN"].flatMap(Int.init) { configuration.minLengthForOneTypo = value }
if let value = environment["BENCH_ONE_TYPO_MIN_OOV"].flatMap(Int.init) { configuration.minLengthForOneTypoOutOfVocabulary = value }
if let value = environment["BENCH_POPULARITY"].flatMap(Double.init) { configuration.popularityWeight = value }
if let value = environment["BENCH_NEARBY_SLIP"].flatMap(Double.init) { configuration.nearbySlipMultiplier = value }
if let value = environment["BENCH_UNLIKELY_EDIT"].flatMap(Double.init) { configuration.unlikelyEditMultiplier = value }
if let value = environment["BENCH_ONE_TYPO_MULTIPLIER"].flatMap(Double.init) { configuration.oneTypoMultiplier = value }
var logger = Logger(label: "bench-search")
logger.logLevel = .warning
let index = SearchIndex(configuration: configuration, logger: logger)
var start = now()
try index.add(contentsOf: rowSequence)
let oursBuild = now() - start
let afterBuild = memoryStatus()
let stats = index.statistics
print(String(format: "ours: built %d documents in %.2f s (%d terms, %d segment(s))", stats.documents, oursBuild, stats.terms, stats.segments))
print("ours: index columns \(mib(stats.memoryBytes)); process RSS \(mib(afterBuild.rss)) (before build \(mib(baseline.rss))), peak RSS \(mib(afterBuild.peak))")

struct Outcome {
    var latencies: [Double] = []
    /// Per query, whether its target was on the first page.
    var found: [Bool] = []
    var hitsByKind: [String: (found: Int, total: Int)] = [:]
}

func runOurs(_ list: [Query]) throws -> Outcome {
    var outcome = Outcome()
    for query in list {
        var times: [Double] = []
        var results: SearchResults? = nil
        for _ in 0..<roundsPerQuery {
            let begin = now()
            results = try index.search(SearchQuery(query.text, limit: 10))
            times.append(now() - begin)
        }
        outcome.latencies.append(times.sorted()[times.count / 2])
        let found = results!.hits.contains { $0.id == String(query.target) }
        outcome.found.append(found)
        if !found, let kinds = showMisses, kinds.split(separator: ",").contains(Substring(query.kind)) {
            let target = index.document(id: String(query.target))?.title ?? "?"
            print("miss \(query.kind) '\(query.text)' (\(query.note)) target '\(target)'; got: " + results!.hits.prefix(3).map { "'\($0.title.text)' t\($0.tier) \(String(format: "%.2f", $0.score))" }.joined(separator: ", "))
        }
        var entry = outcome.hitsByKind[query.kind] ?? (0, 0)
        entry.total += 1
        if found { entry.found += 1 }
        outcome.hitsByKind[query.kind] = entry
    }
    return outcome
}

_ = try runOurs(Array(queries.prefix(200)))  // warm caches and lazy tables
let ours = try runOurs(queries)
let oursQueryTime = ours.latencies.reduce(0, +)
let oursCorrected = try runOurs(corrected)
let oursB = try runOurs(typoB)
let oursCorrectedB = try runOurs(correctedB)
if showRanks {
    for (list, label) in [(corrected, "corr"), (queries.filter { $0.kind == "typo" }, "typo"), (correctedB, "corr-b"), (typoB, "typo-b")] {
        for query in list {
            let hits = try index.search(SearchQuery(query.text, limit: 100, highlights: false)).hits
            let rank = hits.firstIndex { $0.id == String(query.target) }.map { $0 + 1 } ?? 0
            print("rank \(label) \(query.text) \(rank)")
        }
    }
}
let afterQueries = memoryStatus()
print("ours: RSS after queries \(mib(afterQueries.rss))")

// Incremental updates on the built index: each upsert replaces an existing document (a new small
// segment plus a tombstone; small segments merge as they pile up).
var updateLatencies: [Double] = []
for n in 0..<300 {
    let id = String(queries[n % queries.count].target)
    guard var document = index.document(id: id) else { continue }
    document.title += " updated\(n)"
    document.views += 1
    let begin = now()
    try index.upsert([document])
    updateLatencies.append(now() - begin)
}
let updatedFound = try index.search(SearchQuery("updated299 ", highlights: false)).hits.count
print(String(format: "ours: %d single-document updates: p50 %.3f ms, p99 %.3f ms; %d segments after; last update searchable: %@",
             updateLatencies.count, percentile(updateLatencies, 0.5) * 1000, percentile(updateLatencies, 0.99) * 1000,
             index.statistics.segments, updatedFound == 1 ? "yes" : "NO"))

let snapshotURL = URL(fileURLWithPath: "bench-data/search-\(URL(fileURLWithPath: corpusFile).deletingPathExtension().lastPathComponent).snapshot")
start = now()
try index.writeSnapshot(to: snapshotURL)
let snapshotWrite = now() - start
let snapshotSize = (try? FileManager.default.attributesOfItem(atPath: snapshotURL.path)[.size] as? Int) ?? 0
start = now()
let reloaded = try SearchIndex.loadSnapshot(from: snapshotURL, logger: logger)
let snapshotLoad = now() - start
let reloadedSame = try reloaded.search(SearchQuery(queries[0].text)).hits.map(\.id) == index.search(SearchQuery(queries[0].text)).hits.map(\.id)
print(String(format: "ours: snapshot %@ on disk, written in %.2f s, loaded in %.2f s (same results after load: %@)",
             mib(snapshotSize), snapshotWrite, snapshotLoad, reloadedSame ? "yes" : "NO"))

/// Recall of the independent typo set, against the same queries typed correctly, by error kind
/// and query length; the RATIO line for it is printed with the others.
@MainActor func printTypoReport() {
    print("independent typo queries (\(typoQueryFile)): found as typo / found typed correctly / both, by kind")
    var groups: [String: (typo: Int, correct: Int, both: Int, total: Int)] = [:]
    for (n, query) in correctedB.enumerated() {
        let parts = query.note.split(separator: ":")
        for key in ["all", parts.first.map(String.init) ?? "?", parts.count > 1 ? String(parts[1]) : "?"] {
            var entry = groups[key] ?? (0, 0, 0, 0)
            entry.total += 1
            if oursB.found[n] { entry.typo += 1 }
            if oursCorrectedB.found[n] { entry.correct += 1 }
            if oursB.found[n] && oursCorrectedB.found[n] { entry.both += 1 }
            groups[key] = entry
        }
    }
    for (key, entry) in groups.sorted(by: { $0.key < $1.key }) {
        print(String(format: "  %-10@ n %4d  typo %4d  correct %4d  both %4d  ratio %.2f", key as NSString, entry.total,
                     entry.typo, entry.correct, entry.both, Double(entry.typo) / Double(max(1, entry.correct))))
    }
    print(String(format: "  latency of the independent typo queries: p50 %.3f ms, p99 %.3f ms", percentile(oursB.latencies, 0.5) * 1000,
                 percentile(oursB.latencies, 0.99) * 1000))
    if let kinds = showMisses, kinds.split(separator: ",").contains("typo-b") {
        for (n, query) in typoB.enumerated() where oursCorrectedB.found[n] && !oursB.found[n] {
            print("  lost typo-b '\(query.text)' (\(query.note))")
        }
    }
}
let typoRecallB = Double(oursB.found.filter { $0 }.count) / Double(max(1, typoB.count))
let correctRecallB = Double(oursCorrectedB.found.filter { $0 }.count) / Double(max(1, correctedB.count))
let typoRatioB = typoRecallB / max(1e-9, correctRecallB)
let typoRatioLineB = String(format: "RATIO search_typo_recall_b %.2f (independent set, %d queries of 1-3 words: ours typo recall@10 %.3f / same queries typed correctly %.3f; floor 0.85)",
                            typoRatioB, typoB.count, typoRecallB, correctRecallB)

if skipReference {
    print("ours: qps \(Int(Double(queries.count) / ours.latencies.reduce(0, +))), p50 \(percentile(ours.latencies, 0.5) * 1000) ms, p99 \(percentile(ours.latencies, 0.99) * 1000) ms")
    for kind in ["one", "two", "prefix", "typo"] {
        let entry = ours.hitsByKind[kind] ?? (0, 0)
        print("recall \(kind) \(Double(entry.found) / Double(max(1, entry.total)))")
    }
    print("ours, slowest queries: " + zip(queries, ours.latencies).sorted { $0.1 > $1.1 }.prefix(8)
        .map { String(format: "%@ '%@' %.2f ms", $0.0.kind, $0.0.text, $0.1 * 1000) }.joined(separator: "; "))
    let corrected = oursCorrected.hitsByKind["typo-corrected"] ?? (0, 0)
    print("recall typo-corrected \(Double(corrected.found) / Double(max(1, corrected.total)))")
    printTypoReport()
    let typoA = ours.hitsByKind["typo"] ?? (0, 0)
    print(String(format: "RATIO search_typo_recall %.2f (ours typo recall@10 %.3f / same queries typed correctly %.3f; floor 0.85)",
                 Double(typoA.found) / Double(max(1, corrected.found)), Double(typoA.found) / Double(max(1, typoA.total)),
                 Double(corrected.found) / Double(max(1, corrected.total))))
    print(typoRatioLineB)
    exit(0)
}

// MARK: SQLite FTS5

final class Database {
    var handle: OpaquePointer?
    init(path: String) {
        unlink(path)
        guard sqlite3_open(path, &handle) == SQLITE_OK else { fatalError("cannot open \(path)") }
    }
    deinit { sqlite3_close(handle) }
    func exec(_ sql: String) {
        var message: UnsafeMutablePointer<CChar>? = nil
        if sqlite3_exec(handle, sql, nil, nil, &message) != SQLITE_OK {
            fatalError("\(sql): \(String(cString: message!))")
        }
    }
    func prepare(_ sql: String) -> OpaquePointer? {
        var statement: OpaquePointer? = nil
        guard sqlite3_prepare_v2(handle, sql, -1, &statement, nil) == SQLITE_OK else {
            fatalError("\(sql): \(String(cString: sqlite3_errmsg(handle)))")
        }
        return statement
    }
}

let ftsPath = "bench-data/fts5-\(URL(fileURLWithPath: corpusFile).deletingPathExtension().lastPathComponent).db"
let database = Database(path: ftsPath)
database.exec("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; PRAGMA cache_size=-262144;")
// The same fields and weights as SearchIndex's defaults (title 4, tags 2, description 1);
// remove_diacritics 2 folds accents like our analyzer.
database.exec("CREATE VIRTUAL TABLE docs USING fts5(title, tags, description, tokenize = 'unicode61 remove_diacritics 2')")
start = now()
database.exec("BEGIN")
let insert = database.prepare("INSERT INTO docs(rowid, title, tags, description) VALUES (?, ?, ?, ?)")
forEachLine(corpusFile) { line in
    guard let row = parseRow(line) else { return }
    sqlite3_bind_int64(insert, 1, row.id)
    sqlite3_bind_text(insert, 2, row.title, -1, videostack_sqlite_transient())
    sqlite3_bind_text(insert, 3, row.tags.joined(separator: " "), -1, videostack_sqlite_transient())
    sqlite3_bind_text(insert, 4, row.description, -1, videostack_sqlite_transient())
    if sqlite3_step(insert) != SQLITE_DONE { fatalError(String(cString: sqlite3_errmsg(database.handle))) }
    sqlite3_reset(insert)
}
sqlite3_finalize(insert)
database.exec("COMMIT")
let ftsBuild = now() - start
let ftsSize = (try? FileManager.default.attributesOfItem(atPath: ftsPath)[.size] as? Int) ?? 0
print(String(format: "fts5: built in %.2f s, %@ on disk", ftsBuild, mib(ftsSize)))

let select = database.prepare("SELECT rowid FROM docs WHERE docs MATCH ? ORDER BY bm25(docs, 4.0, 2.0, 1.0) LIMIT 10")
/// The FTS5 form of a query: every word quoted, the last one a prefix (search as you type).
func ftsQuery(_ text: String) -> String {
    let words = text.split(separator: " ").map { "\"" + $0.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }
    guard !words.isEmpty else { return "\"\"" }
    return words.joined(separator: " ") + "*"
}
func runFTS(_ list: [Query], _ select: OpaquePointer?) -> Outcome {
    var outcome = Outcome()
    for query in list {
        let expression = ftsQuery(query.text)
        var times: [Double] = []
        var found = false
        for _ in 0..<roundsPerQuery {
            let begin = now()
            sqlite3_bind_text(select, 1, expression, -1, videostack_sqlite_transient())
            found = false
            while sqlite3_step(select) == SQLITE_ROW {
                if sqlite3_column_int64(select, 0) == query.target { found = true }
            }
            sqlite3_reset(select)
            times.append(now() - begin)
        }
        outcome.latencies.append(times.sorted()[times.count / 2])
        var entry = outcome.hitsByKind[query.kind] ?? (0, 0)
        entry.total += 1
        if found { entry.found += 1 }
        outcome.hitsByKind[query.kind] = entry
    }
    return outcome
}
_ = runFTS(Array(queries.prefix(200)), select)
let fts = runFTS(queries, select)
let ftsQueryTime = fts.latencies.reduce(0, +)
let ftsCorrected = runFTS(corrected, select)
sqlite3_finalize(select)

// MARK: Freshness: from a committed store write to a search hit, through the change feed

let freshnessPath = "bench-data/freshness.sqlite"
for suffix in ["", "-wal", "-shm"] { unlink(freshnessPath + suffix) }
let feedStore = try await SQLiteItemStore(url: URL(fileURLWithPath: freshnessPath), schema: .singleTable)
let feedCatalog = try Catalog(store: feedStore)
try await feedCatalog.register(User(username: "bench", email: "bench@example.com", displayName: "Bench"))
let freshIndex = SearchIndex(logger: logger)
// The default 100 ms poll.
let follower = SearchFeedFollower(index: freshIndex, store: feedStore, mapping: CatalogSearchMapping(), logger: logger)
let feedStart = try await follower.rebuild()
let followTask = Task { try await follower.follow(after: feedStart) }
var freshness: [Double] = []
for n in 0..<60 {
    var video = Video(owner: "bench", title: "Fresh upload \(n) zqfresh\(n)", description: "freshness probe")
    video.status = .ready
    // Writes land at varying points of the follower's poll cycle.
    try await Task.sleep(for: .milliseconds(n * 37 % 100))
    try await feedCatalog.create(video)
    let written = now()
    while try !freshIndex.search(SearchQuery("zqfresh\(n) ", highlights: false)).hits.contains(where: { $0.id == video.id.description }) {
        try await Task.sleep(for: .milliseconds(1))
        if now() - written > 10 { break }
    }
    freshness.append(now() - written)
}
followTask.cancel()
_ = try? await followTask.value
feedStore.close()
for suffix in ["", "-wal", "-shm"] { unlink(freshnessPath + suffix) }

// MARK: Report

let oursQPS = Double(queries.count) / oursQueryTime
let ftsQPS = Double(queries.count) / ftsQueryTime
print("")
print(String(format: "%-8@ %10@ %10@ %10@ %10@", "engine" as NSString, "build s" as NSString, "qps" as NSString, "p50 ms" as NSString, "p99 ms" as NSString))
print(String(format: "%-8@ %10.2f %10.0f %10.3f %10.3f", "ours" as NSString, oursBuild, oursQPS, percentile(ours.latencies, 0.5) * 1000, percentile(ours.latencies, 0.99) * 1000))
print(String(format: "%-8@ %10.2f %10.0f %10.3f %10.3f", "fts5" as NSString, ftsBuild, ftsQPS, percentile(fts.latencies, 0.5) * 1000, percentile(fts.latencies, 0.99) * 1000))
print("")
print("latency by query kind (ms):")
print(String(format: "%-8@ %-8@ %8@ %8@", "engine" as NSString, "kind" as NSString, "p50" as NSString, "p99" as NSString))
for (name, outcome) in [("ours", ours), ("fts5", fts)] {
    for kind in ["one", "two", "prefix", "typo"] {
        let values = zip(queries, outcome.latencies).filter { $0.0.kind == kind }.map(\.1)
        print(String(format: "%-8@ %-8@ %8.3f %8.3f", name as NSString, kind as NSString, percentile(values, 0.5) * 1000, percentile(values, 0.99) * 1000))
    }
}
let slowest = zip(queries, ours.latencies).sorted { $0.1 > $1.1 }.prefix(8)
print("ours, slowest queries: " + slowest.map { String(format: "%@ '%@' %.2f ms", $0.0.kind, $0.0.text, $0.1 * 1000) }.joined(separator: "; "))
print("")
print("recall@10 of the source document, by query kind:")
print(String(format: "%-16@ %6@ %8@ %8@", "kind" as NSString, "n" as NSString, "ours" as NSString, "fts5" as NSString))
func recall(_ outcome: Outcome, _ kind: String) -> Double {
    guard let entry = outcome.hitsByKind[kind], entry.total > 0 else { return 0 }
    return Double(entry.found) / Double(entry.total)
}
for kind in ["one", "two", "prefix", "typo"] {
    print(String(format: "%-16@ %6d %8.3f %8.3f", kind as NSString, ours.hitsByKind[kind]?.total ?? 0, recall(ours, kind), recall(fts, kind)))
}
print(String(format: "%-16@ %6d %8.3f %8.3f", "typo-corrected" as NSString, corrected.count, recall(oursCorrected, "typo-corrected"), recall(ftsCorrected, "typo-corrected")))
let allOurs = ours.hitsByKind.values.reduce((0, 0)) { ($0.0 + $1.found, $0.1 + $1.total) }
let allFTS = fts.hitsByKind.values.reduce((0, 0)) { ($0.0 + $1.found, $0.1 + $1.total) }
print(String(format: "%-16@ %6d %8.3f %8.3f", "all" as NSString, allOurs.1, Double(allOurs.0) / Double(max(1, allOurs.1)), Double(allFTS.0) / Double(max(1, allFTS.1))))
print("")
print("memory: ours RSS \(mib(afterQueries.rss)) after build and queries (peak \(mib(afterBuild.peak)) during build); index columns \(mib(stats.memoryBytes))")
print(String(format: "freshness: store write to search hit via the change feed (100 ms poll), %d videos: p50 %.0f ms, p99 %.0f ms, max %.0f ms",
             freshness.count, percentile(freshness, 0.5) * 1000, percentile(freshness, 0.99) * 1000, (freshness.max() ?? 0) * 1000))
print("disk: ours snapshot \(mib(snapshotSize)), fts5 database \(mib(ftsSize))")
print(String(format: "RATIO search_qps %.2f (ours %.0f q/s vs fts5 %.0f q/s, one thread, %d queries, median of %d runs each, %@)", oursQPS / ftsQPS, oursQPS, ftsQPS, queries.count, roundsPerQuery, corpusFile))
print(String(format: "RATIO search_build %.2f (fts5 %.2f s / ours %.2f s)", ftsBuild / oursBuild, ftsBuild, oursBuild))
print(String(format: "RATIO search_p99 %.2f (fts5 p99 %.3f ms / ours p99 %.3f ms)", percentile(fts.latencies, 0.99) / percentile(ours.latencies, 0.99), percentile(fts.latencies, 0.99) * 1000, percentile(ours.latencies, 0.99) * 1000))
let typoRatio = recall(ours, "typo") / max(1e-9, recall(oursCorrected, "typo-corrected"))
print(String(format: "RATIO search_typo_recall %.2f (ours typo recall@10 %.3f / same queries typed correctly %.3f; floor 0.85)", typoRatio, recall(ours, "typo"), recall(oursCorrected, "typo-corrected")))
printTypoReport()
print(typoRatioLineB)
print(String(format: "RATIO search_recall %.2f (ours recall@10 over all queries %.3f / fts5 %.3f)", (Double(allOurs.0) / Double(max(1, allOurs.1))) / max(1e-9, Double(allFTS.0) / Double(max(1, allFTS.1))), Double(allOurs.0) / Double(max(1, allOurs.1)), Double(allFTS.0) / Double(max(1, allFTS.1))))
print(String(format: "RATIO search_memory %.2f (floor 1 GiB / ours RSS %@)", 1_073_741_824 / Double(max(1, afterQueries.rss)), mib(afterQueries.rss)))
