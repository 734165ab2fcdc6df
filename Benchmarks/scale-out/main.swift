// bench-scale-out: the AWS backends' client code.
//
// DynamoDB: the store's get, 20-item query and 2-action transaction throughput on moto, beside the
// same client code against a bare local endpoint that answers fixed DynamoDB responses
// (FixedEndpoint), so the client's own cost per request shows apart from moto's.
//
// S3: `RATIO s3_put` and `RATIO s3_get` compare S3BlobStore with boto3 (multipart, the same part
// size and concurrency) on 64 MiB objects against the same fast endpoint, which drops PUT bodies
// and serves GETs from memory, so neither side waits on a server. Each ratio is boto3's best time
// over ours (above 1: ours is faster); for GET the reference is the faster of boto3's two ways
// (a ranged, concurrent download_fileobj and one get_object read). Floor 0.8.
//
// Both sides sign every request and SHA-256 every PUT body (botocore does over plain HTTP);
// boto3's extra CRC32 checksums are turned off (`when_required`), so it does no more than ours.
import AsyncHTTPClient
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Logging
import NIOCore
import SingleTableStore
import VideoCore
import VideoStackAWS
#if canImport(Glibc)
import Glibc
#endif

let seconds = Double(ProcessInfo.processInfo.environment["BENCH_SECONDS"] ?? "") ?? 2
let rounds = Int(ProcessInfo.processInfo.environment["BENCH_ROUNDS"] ?? "") ?? 3
let concurrency = 4
let objectSize = 64 << 20
let partSize = 8 << 20
let multipartThreshold = 16 << 20
let uploadConcurrency = 4
let credentials = AWSCredentials(accessKeyID: "AKIAVIDEOSTACKBENCH", secretAccessKey: "bench/secret+key")
let region = "eu-west-1"
let schema = TableSchema(partitionKey: KeyAttribute("PK"), sortKey: KeyAttribute("SK"))

func sampleItem(_ i: Int, partition: String) -> Item {
    [
        "PK": .s(partition), "SK": .s("#VIDEO#\(String(format: "%08d", i))"),
        "title": .s("A video about \(i) things, filmed in the mountains"), "owner": "user42",
        "status": "ready", "visibility": "public", "views": .int(Int64(i * 7)), "duration": .n(Number(floatLiteral: 93.5)),
        "createdAt": .int(1_700_000_000 + Int64(i)), "tags": ["travel", "mountains", "hiking"],
        "description": .s(String(repeating: "Some description text. ", count: 8)),
    ]
}

/// The same item in DynamoDB's JSON, for the fixed answers.
func sampleJSON(_ i: Int, partition: String) -> String {
    let sortKey = "#VIDEO#" + String(format: "%08d", i)
    let description = String(repeating: "Some description text. ", count: 8)
    return "{\"PK\":{\"S\":\"\(partition)\"},\"SK\":{\"S\":\"\(sortKey)\"},\"title\":{\"S\":\"A video about \(i) things, filmed in the mountains\"},"
        + "\"owner\":{\"S\":\"user42\"},\"status\":{\"S\":\"ready\"},\"visibility\":{\"S\":\"public\"},\"views\":{\"N\":\"\(i * 7)\"},"
        + "\"duration\":{\"N\":\"93.5\"},\"createdAt\":{\"N\":\"\(1_700_000_000 + i)\"},"
        + "\"tags\":{\"L\":[{\"S\":\"travel\"},{\"S\":\"mountains\"},{\"S\":\"hiking\"}]},\"description\":{\"S\":\"\(description)\"}}"
}

func fixedContent(object: ByteBuffer) -> FixedEndpoint.Content {
    let describe = #"{"Table":{"TableName":"bench","TableStatus":"ACTIVE","KeySchema":[{"AttributeName":"PK","KeyType":"HASH"},{"AttributeName":"SK","KeyType":"RANGE"}],"AttributeDefinitions":[{"AttributeName":"PK","AttributeType":"S"},{"AttributeName":"SK","AttributeType":"S"}]}}"#
    let get = #"{"Item":\#(sampleJSON(1, partition: "G"))}"#
    let items = (0..<20).map { sampleJSON($0, partition: "Q") }.joined(separator: ",")
    let query = #"{"Items":[\#(items)],"Count":20,"ScannedCount":20}"#
    return FixedEndpoint.Content(describeTable: ByteBuffer(string: describe), getItem: ByteBuffer(string: get), query: ByteBuffer(string: query), object: object)
}

// MARK: Measuring

/// Operations per second of `operation` run by `concurrency` tasks for `seconds`.
func throughput(_ operation: @escaping @Sendable (Int) async throws -> Void) async throws -> Double {
    let clock = ContinuousClock()
    let started = clock.now
    let deadline = started + .milliseconds(Int(seconds * 1000))
    let count = try await withThrowingTaskGroup(of: Int.self) { group in
        for worker in 0..<concurrency {
            group.addTask {
                var i = worker
                var done = 0
                while clock.now < deadline {
                    try await operation(i)
                    done += 1
                    i += concurrency
                }
                return done
            }
        }
        return try await group.reduce(0, +)
    }
    let elapsed = started.duration(to: clock.now)
    return Double(count) / (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
}

/// Prints a line at once (unbuffered), also into a pipe or a file.
func say(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}

func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }

func format(_ opsPerSecond: Double) -> String {
    String(format: "%8.0f ops/s (%6.3f ms/op at %d in flight)", opsPerSecond, 1000 * Double(concurrency) / opsPerSecond, concurrency)
}

// MARK: DynamoDB

struct StoreOps {
    let get: @Sendable (Int) async throws -> Void
    let query: @Sendable (Int) async throws -> Void
    let transact: @Sendable (Int) async throws -> Void
}

func storeOps(_ store: DynamoDBItemStore) -> StoreOps {
    StoreOps(
        get: { _ in
            guard try await store.getItem(key: ["PK": "G", "SK": .s("#VIDEO#00000001")]) != nil else { throw BenchError("GetItem found nothing") }
        },
        query: { _ in
            let page = try await store.query(Query(partitionKey: "Q", limit: 25))
            guard page.items.count == 20 else { throw BenchError("Query returned \(page.items.count) items, not 20") }
        },
        transact: { i in
            try await store.transactWrite([
                .update(key: ["PK": "T", "SK": "counter"], actions: [.add("n", 1)]),
                .put(["PK": "T", "SK": .s("entry#\(i)"), "at": .int(Int64(i))]),
            ])
        })
}

struct BenchError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

func client(_ endpoint: URL, logger: Logger) -> AWSClient {
    AWSClient(configuration: AWSConfiguration(region: region, credentials: credentials, endpoint: endpoint), logger: logger)
}

func benchDynamoDB(moto: URL, fixed: URL, logger: Logger) async throws {
    let onMoto = try await DynamoDBItemStore(client: client(moto, logger: logger), tableName: "bench", schema: schema,
                                             configuration: DynamoDBStoreConfiguration(createsTable: true))
    try await onMoto.putItem(sampleItem(1, partition: "G"))
    for i in 0..<20 { try await onMoto.putItem(sampleItem(i, partition: "Q")) }
    let onFixed = try await DynamoDBItemStore(client: client(fixed, logger: logger), tableName: "bench", schema: schema)
    let motoOps = storeOps(onMoto)
    let fixedOps = storeOps(onFixed)
    let cases: [(String, KeyPath<StoreOps, @Sendable (Int) async throws -> Void>)] = [("get", \.get), ("query", \.query), ("transact", \.transact)]
    for (name, path) in cases {
        // Warm both paths (connections, caches), then alternate rounds.
        _ = try await throughput(motoOps[keyPath: path])
        var motoRounds: [Double] = []
        var fixedRounds: [Double] = []
        for _ in 0..<rounds {
            motoRounds.append(try await throughput(motoOps[keyPath: path]))
            fixedRounds.append(try await throughput(fixedOps[keyPath: path]))
        }
        let onMotoRate = median(motoRounds)
        let onFixedRate = median(fixedRounds)
        say("dynamodb \(name.padding(toLength: 8, withPad: " ", startingAt: 0)) moto \(format(onMotoRate))   bare endpoint \(format(onFixedRate))   client share of a moto request \(String(format: "%.0f", 100 * onMotoRate / onFixedRate)) %")
    }
}

// MARK: S3

let boto3Script = #"""
import io, json, sys, time
import boto3
from boto3.s3.transfer import TransferConfig
from botocore.config import Config

endpoint, size, part, threshold, concurrency = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
s3 = boto3.client("s3", endpoint_url=endpoint, region_name="eu-west-1",
                  aws_access_key_id="AKIAVIDEOSTACKBENCH", aws_secret_access_key="bench/secret+key",
                  config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1, "mode": "standard"},
                                request_checksum_calculation="when_required", response_checksum_validation="when_required",
                                max_pool_connections=max(10, concurrency)))
transfer = TransferConfig(multipart_threshold=threshold, multipart_chunksize=part, max_concurrency=concurrency, use_threads=True)
data = bytes(range(256)) * (size // 256)
s3.head_bucket(Bucket="bench")
times = {}
t = time.perf_counter(); s3.upload_fileobj(io.BytesIO(data), "bench", "boto3.bin", Config=transfer); times["put"] = time.perf_counter() - t
sink = io.BytesIO()
t = time.perf_counter(); s3.download_fileobj("bench", "boto3.bin", sink, Config=transfer); times["get_transfer"] = time.perf_counter() - t
assert sink.getbuffer().nbytes == size, sink.getbuffer().nbytes
t = time.perf_counter(); body = s3.get_object(Bucket="bench", Key="boto3.bin")["Body"].read(); times["get_object"] = time.perf_counter() - t
assert len(body) == size, len(body)
print(json.dumps(times))
"""#

/// One boto3 round in its own Python process (start-up not timed); returns its timings.
func boto3Round(endpoint: URL, script: URL) throws -> [String: Double] {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["python3", script.path, endpoint.absoluteString, String(objectSize), String(partSize), String(multipartThreshold), String(uploadConcurrency)]
    let output = Pipe()
    process.standardOutput = output
    try process.run()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0, let times = try JSONSerialization.jsonObject(with: data) as? [String: Double] else {
        throw BenchError("the boto3 round failed (status \(process.terminationStatus)): \(String(decoding: data, as: UTF8.self))")
    }
    return times
}

func timed(_ body: () async throws -> Void) async rethrows -> Double {
    let clock = ContinuousClock()
    let started = clock.now
    try await body()
    let elapsed = started.duration(to: clock.now)
    return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
}

func benchS3(fixed: URL, logger: Logger) async throws {
    let store = try await S3BlobStore(client: client(fixed, logger: logger), configuration: S3BlobStoreConfiguration(
        bucket: "bench", addressing: .path, multipartThreshold: multipartThreshold, partSize: partSize, uploadConcurrency: uploadConcurrency))
    let data = (0..<objectSize).map { UInt8(truncatingIfNeeded: $0) }
    let script = FileManager.default.temporaryDirectory.appendingPathComponent("bench-scale-out-\(getpid()).py")
    try boto3Script.write(to: script, atomically: true, encoding: .utf8)
    defer { try? FileManager.default.removeItem(at: script) }

    var ours: (put: [Double], get: [Double]) = ([], [])
    var boto: (put: [Double], transfer: [Double], object: [Double]) = ([], [], [])
    _ = try await store.put("warm.bin", bytes: Array(data[..<(1 << 20)]))
    for _ in 0..<rounds {
        ours.put.append(try await timed { _ = try await store.put("ours.bin", bytes: data) })
        var got = 0
        ours.get.append(try await timed { got = try await store.get("ours.bin").count })
        guard got == objectSize else { throw BenchError("GET returned \(got) bytes, not \(objectSize)") }
        let times = try boto3Round(endpoint: fixed, script: script)
        boto.put.append(times["put"] ?? .infinity)
        boto.transfer.append(times["get_transfer"] ?? .infinity)
        boto.object.append(times["get_object"] ?? .infinity)
    }
    let mib = Double(objectSize) / Double(1 << 20)
    func rate(_ time: Double) -> String { String(format: "%.0f MiB/s", mib / time) }
    let bestPut = (ours: ours.put.min()!, boto: boto.put.min()!)
    let bestGet = (ours: ours.get.min()!, transfer: boto.transfer.min()!, object: boto.object.min()!)
    let botoGet = min(bestGet.transfer, bestGet.object)
    func f(_ value: Double, _ digits: Int = 3) -> String { String(format: "%.\(digits)f", value) }
    say("RATIO s3_put \(f(bestPut.boto / bestPut.ours, 2)) (64 MiB, \(partSize >> 20) MiB parts, \(uploadConcurrency) at a time; "
        + "ours \(f(bestPut.ours)) s = \(rate(bestPut.ours)), boto3 \(f(bestPut.boto)) s = \(rate(bestPut.boto)); best of \(rounds))")
    say("RATIO s3_get \(f(botoGet / bestGet.ours, 2)) (64 MiB; ours ranged GETs \(f(bestGet.ours)) s = \(rate(bestGet.ours)); "
        + "boto3 download_fileobj \(f(bestGet.transfer)) s = \(rate(bestGet.transfer)), get_object \(f(bestGet.object)) s = \(rate(bestGet.object)); best of \(rounds))")
}

// MARK: moto

func freePort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
    guard bound == 0 else { throw BenchError("bind() failed") }
    _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
    return Int(UInt16(bigEndian: address.sin_port))
}

func startMoto() async throws -> (Process, URL) {
    let port = try freePort()
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["moto_server", "-H", "127.0.0.1", "-p", String(port)]
    process.standardOutput = FileHandle.nullDevice
    process.standardError = FileHandle.nullDevice
    try process.run()
    let url = URL(string: "http://127.0.0.1:\(port)")!
    for _ in 0..<600 {
        guard process.isRunning else { throw BenchError("moto_server exited with status \(process.terminationStatus)") }
        if let (_, response) = try? await URLSession.shared.data(from: url.appendingPathComponent("moto-api/")), (response as? HTTPURLResponse) != nil {
            return (process, url)
        }
        try await Task.sleep(for: .milliseconds(100))
    }
    kill(process.processIdentifier, SIGKILL)
    throw BenchError("moto_server did not answer on port \(port) within a minute")
}

// The steps run in functions: Swift 6.3's optimizer has crashed on top-level async code in release.
func runBenchmark() async throws {
    let only = ProcessInfo.processInfo.environment["BENCH_ONLY"]  // dynamodb or s3, to run one half
    let logger = Logger(label: "bench-scale-out")
    var object = ByteBuffer()
    object.writeBytes((0..<objectSize).map { UInt8(truncatingIfNeeded: $0 &* 7) })
    let fixed = try await FixedEndpoint(content: fixedContent(object: object), threads: 1)
    let (moto, motoURL) = try await startMoto()
    defer {
        // SIGKILL, not terminate(): moto_server started from here ignored SIGTERM and the
        // benchmark waited forever (Python children of the test runner do the same; likely a
        // signal mask inherited from the spawning thread, not confirmed). moto keeps no state.
        kill(moto.processIdentifier, SIGKILL)
        moto.waitUntilExit()
    }
    say("bench-scale-out: \(ProcessInfo.processInfo.activeProcessorCount) cores, \(concurrency) requests in flight, \(rounds) rounds of \(seconds) s (median)")
    if only == nil || only == "dynamodb" { try await benchDynamoDB(moto: motoURL, fixed: fixed.url, logger: logger) }
    if only == nil || only == "s3" { try await benchS3(fixed: fixed.url, logger: logger) }
    try await fixed.shutdown()
}

do {
    try await runBenchmark()
} catch {
    say("bench-scale-out failed: \(error)")
    exit(1)
}
