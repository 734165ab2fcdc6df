public import Foundation
public import VideoCore
internal import AsyncHTTPClient
internal import Logging
internal import NIOCore
internal import NIOHTTP1
internal import Synchronization

/// A ``BlobStore`` on an S3 bucket (AWS S3 or any S3-compatible store), speaking the REST API
/// through ``AWSClient``.
///
/// - Keys are checked exactly as ``FileBlobStore`` checks them (`FileBlobStore/validate(key:)`),
///   so an application that works on one works on the other, and no key means something
///   different to S3 than to a file system (`..`, `//`).
/// - Objects up to ``S3BlobStoreConfiguration/multipartThreshold`` go up in one PUT; larger ones
///   in a multipart upload whose parts (at least 5 MiB) are sent a few at a time as the chunks
///   arrive, so memory stays bounded; a failed or cancelled upload is aborted, so no parts are left
///   behind (and nothing is stored: S3 only shows the object when the upload completes).
/// - Listings come from ListObjectsV2 (`start-after` for ``BlobStore/list(prefix:after:limit:)``'s
///   position, continuation tokens within one call). S3 does not list content types, so a listing
///   derives them from the key's extension, as the file store does.
/// - ETags are S3's, without the quotes.
public final class S3BlobStore: BlobStore {
    /// The client requests go through (its endpoint, region, credentials and retries).
    public let client: AWSClient
    /// The bucket, addressing and upload settings.
    public let configuration: S3BlobStoreConfiguration

    /// Opens the store; checks the bucket exists (creating it when the configuration says so).
    ///
    /// Throws `invalidInput` for a bucket name S3 would refuse or part sizes outside S3's limits,
    /// and `notFound` when the bucket is missing and may not be created.
    public init(client: AWSClient, configuration: S3BlobStoreConfiguration) async throws {
        try Self.validate(bucket: configuration.bucket)
        guard configuration.partSize >= S3BlobStoreConfiguration.minimumPartSize, configuration.partSize <= S3BlobStoreConfiguration.maximumPartSize else {
            throw VideoStackError(.invalidInput, "S3 parts are 5 MiB to 5 GiB; a part size of \(configuration.partSize) bytes was configured.")
        }
        guard configuration.multipartThreshold >= 0, configuration.uploadConcurrency >= 1 else {
            throw VideoStackError(.invalidInput, "The multipart threshold must not be negative and the upload concurrency must be at least 1.")
        }
        self.client = client
        self.configuration = configuration
        try await ensureBucket()
    }

    // MARK: Addressing

    /// Whether requests name the bucket in the host.
    var usesVirtualHost: Bool {
        switch configuration.addressing {
        case .path: return false
        case .virtualHosted: return true
        case .automatic:
            let endpoint = client.configuration.endpoint(for: .s3)
            let isAWS = endpoint.host?.hasSuffix(".amazonaws.com") == true || endpoint.host?.hasSuffix(".amazonaws.com.cn") == true
            let dnsSafe = !configuration.bucket.contains(".") || endpoint.scheme == "http"
            return isAWS && dnsSafe
        }
    }

    /// A request for `key` (nil: the bucket itself).
    func request(_ method: String, key: String?, query: [(name: String, value: String?)] = [], headers: HTTPHeaders = HTTPHeaders()) -> AWSRequest {
        let keyPath = key.map { AWSRequest.encodePath($0) } ?? "/"
        if usesVirtualHost {
            var request = client.request(.s3, method: method, path: keyPath, query: query, headers: headers)
            request.host = configuration.bucket + "." + request.host
            return request
        }
        let bucketPath = "/" + AWSPercentEncoding.encode(configuration.bucket) + (key == nil ? "" : keyPath)
        return client.request(.s3, method: method, path: bucketPath, query: query, headers: headers)
    }

    /// A URL anyone can GET `key` with until `expires` (at most 7 days) passes.
    public func presignedURL(for key: String, expires: Duration = .seconds(3600)) async throws -> URL {
        let presigned = try await client.presign(request("GET", key: try FileBlobStore.validate(key: key)), service: .s3, expires: expires)
        guard let url = URL(string: presigned.url) else {
            throw VideoStackError(.internal, "The presigned URL for '\(key)' is not a valid URL: \(presigned.url.prefix(200))")
        }
        return url
    }

    // MARK: BlobStore

    public func put<Chunks: AsyncSequence & Sendable>(_ key: String, chunks: Chunks, contentType: String?) async throws -> BlobMetadata
    where Chunks.Element == [UInt8] {
        let key = try FileBlobStore.validate(key: key)
        let type = contentType ?? BlobMetadata.mimeType(forKey: key)
        var buffer: [UInt8] = []
        var iterator = chunks.makeAsyncIterator()
        // Gather up to the threshold: a small object goes up in one request.
        while buffer.count <= configuration.multipartThreshold {
            guard let chunk = try await Self.next(&iterator, key: key) else {
                return try await putSingle(key, bytes: buffer, contentType: type)
            }
            buffer += chunk
        }
        return try await putMultipart(key, first: buffer, rest: &iterator, contentType: type)
    }

    /// The whole object. One GET for the first `partSize` bytes tells its size; the rest comes
    /// in ranged GETs of `partSize`, `uploadConcurrency` at a time, each bound to the first
    /// answer's ETag (`If-Match`), so an object replaced meanwhile is read again from the start
    /// (up to three times) rather than spliced from two versions.
    public func get(_ key: String) async throws -> [UInt8] {
        let key = try FileBlobStore.validate(key: key)
        var attempt = 1
        while true {
            do {
                return try await download(key)
            } catch let error as VideoStackError where error.code == .conditionFailed && attempt < 3 {
                attempt += 1
                client.logger.debug("an object changed while it was downloaded; reading it again", metadata: ["key": "\(key)"])
            } catch let error as VideoStackError where error.code == .conditionFailed {
                throw VideoStackError(.conflict, "'\(key)' changed during each of three downloads; try again once its writer is done.", cause: error.cause)
            }
        }
    }

    private func download(_ key: String) async throws -> [UInt8] {
        let part = configuration.partSize
        var headers = HTTPHeaders()
        headers.add(name: "Range", value: "bytes=0-\(part - 1)")
        let head: HTTPClientResponse
        do {
            head = try await client.stream(request("GET", key: key, headers: headers), service: .s3, operation: "GetObject")
        } catch let error as VideoStackError where error.code == .notFound {
            throw missing(key, error)
        } catch let error as VideoStackError where error.code == .outOfRange {
            // An empty object has no byte 0, so S3 answers any range with 416.
            return try await wholeObject(key)
        }
        let what = "The GetObject response for '\(key)'"
        // 200: the endpoint sends the whole object (some ignore ranges).
        guard head.status == .partialContent else {
            return try await Self.readOrRefetch { try await AWSClient.collect(head, limit: .max, what: what) } refetch: { try await self.wholeObject(key) }
        }
        guard let total = Self.totalLength(contentRange: head.headers.first(name: "Content-Range")) else {
            _ = try? await AWSClient.collect(head, limit: part, what: what)
            return try await wholeObject(key)
        }
        // The size is known from the first answer's head: the other parts start while its body
        // still arrives.
        let ranges = stride(from: Int64(0), to: Int64(total), by: part).map { $0..<min($0 + Int64(part), Int64(total)) }
        guard !ranges.isEmpty else { return [] }
        let etag = head.headers.first(name: "ETag")
        var result = AWSClient.emptyBuffer(capacity: total)
        let concurrency = max(1, configuration.uploadConcurrency)
        // Parts stay the buffers they arrived in until their turn comes: each byte is copied once.
        try await withThrowingTaskGroup(of: (Int, [ByteBuffer]).self) { group in
            group.addTask {
                let chunks = try await Self.readOrRefetch { try await AWSClient.chunks(head, limit: part, what: what) } refetch: {
                    try await self.part(of: key, range: ranges[0], ifMatch: etag)
                }
                let count = chunks.reduce(0) { $0 + $1.readableBytes }
                guard count == ranges[0].count else {
                    throw VideoStackError(.corrupt, "S3 answered the first \(ranges[0].count) bytes of '\(key)' with \(count).")
                }
                return (0, chunks)
            }
            var launched = 1
            var appended = 0
            var arrived: [Int: [ByteBuffer]] = [:]
            func launchMore() {
                // `concurrency` in flight; parts are appended in order, so a slow one holds at
                // most `concurrency` finished ones in memory.
                while launched < ranges.count, launched - appended - arrived.count < concurrency, launched - appended < 2 * concurrency {
                    let index = launched
                    launched += 1
                    group.addTask { (index, try await self.part(of: key, range: ranges[index], ifMatch: etag)) }
                }
            }
            launchMore()
            for try await (index, bytes) in group {
                arrived[index] = bytes
                while let next = arrived.removeValue(forKey: appended) {
                    for chunk in next { result.append(contentsOf: chunk.readableBytesView) }
                    appended += 1
                }
                launchMore()
            }
        }
        return result
    }

    /// The body of a streamed answer as `read` collects it; when it breaks off after the head (a
    /// dropped connection), the same bytes fetched again by `refetch`, which retries as every
    /// request does.
    private static func readOrRefetch<T>(_ read: () async throws -> T, refetch: () async throws -> T) async throws -> T {
        do {
            return try await read()
        } catch let error as VideoStackError {
            throw error
        } catch {
            return try await refetch()
        }
    }

    /// One ranged GET of a download, as the buffers it arrived in; refused (`conditionFailed`)
    /// when the object is no longer `etag`.
    private func part(of key: String, range: Range<Int64>, ifMatch etag: String?) async throws -> [ByteBuffer] {
        var headers = HTTPHeaders()
        headers.add(name: "Range", value: "bytes=\(range.lowerBound)-\(range.upperBound - 1)")
        if let etag { headers.add(name: "If-Match", value: etag) }
        let response = try await client.fetch(request("GET", key: key, headers: headers), service: .s3, operation: "GetObject")
        let count = response.body.reduce(0) { $0 + $1.readableBytes }
        guard response.status == 206, count == range.count else {
            throw VideoStackError(.corrupt, "S3 answered bytes \(range.lowerBound)..<\(range.upperBound) of '\(key)' with HTTP \(response.status) and \(count) bytes.")
        }
        return response.body
    }

    /// One plain GET of the whole object.
    private func wholeObject(_ key: String) async throws -> [UInt8] {
        do {
            return try await client.send(request("GET", key: key), service: .s3, operation: "GetObject", maxResponseBytes: Int.max).body
        } catch let error as VideoStackError where error.code == .notFound {
            throw missing(key, error)
        }
    }

    /// The complete length in `Content-Range: bytes 0-99/1234`; nil when absent or `*`.
    static func totalLength(contentRange: String?) -> Int? {
        guard let contentRange, let slash = contentRange.lastIndex(of: "/") else { return nil }
        return Int(contentRange[contentRange.index(after: slash)...].trimmingCharacters(in: .whitespaces)).flatMap { $0 >= 0 ? $0 : nil }
    }

    public func get(_ key: String, range: Range<Int64>) async throws -> [UInt8] {
        let key = try FileBlobStore.validate(key: key)
        try Self.checkRange(range, key: key)
        var headers = HTTPHeaders()
        headers.add(name: "Range", value: "bytes=\(range.lowerBound)-\(range.upperBound - 1)")
        do {
            let response = try await client.send(request("GET", key: key, headers: headers), service: .s3, operation: "GetObject", maxResponseBytes: Int.max)
            return try clampedBody(response, range: range, key: key)
        } catch let error as VideoStackError where error.code == .notFound {
            throw missing(key, error)
        } catch let error as VideoStackError where error.code == .outOfRange {
            throw VideoStackError(.outOfRange, "Bytes \(range.lowerBound)..<\(range.upperBound) lie outside '\(key)'.", cause: error.cause)
        }
    }

    public func read(_ key: String, range: Range<Int64>?, chunkSize: Int) async throws -> AsyncThrowingStream<[UInt8], any Error> {
        let key = try FileBlobStore.validate(key: key)
        if let range { try Self.checkRange(range, key: key) }
        var headers = HTTPHeaders()
        if let range { headers.add(name: "Range", value: "bytes=\(range.lowerBound)-\(range.upperBound - 1)") }
        let response: HTTPClientResponse
        do {
            response = try await client.stream(request("GET", key: key, headers: headers), service: .s3, operation: "GetObject")
        } catch let error as VideoStackError where error.code == .notFound {
            throw missing(key, error)
        } catch let error as VideoStackError where error.code == .outOfRange {
            throw VideoStackError(.outOfRange, "Bytes \(range!.lowerBound)..<\(range!.upperBound) lie outside '\(key)'.", cause: error.cause)
        }
        if range != nil, response.status != .partialContent {
            throw VideoStackError(.unsupported, "The S3 endpoint ignored the Range header of a read of '\(key)' (HTTP \(response.status.code)).")
        }
        let reader = ChunkReader(body: response.body, chunkSize: max(4096, chunkSize), key: key)
        return AsyncThrowingStream(unfolding: { try await reader.next() })
    }

    public func metadata(_ key: String) async throws -> BlobMetadata? {
        let key = try FileBlobStore.validate(key: key)
        let response = try await client.send(request("HEAD", key: key), service: .s3, operation: "HeadObject", accept: [404])
        guard response.status != 404 else { return nil }
        return BlobMetadata(key: key, size: Int64(response.headers.first(name: "Content-Length") ?? "") ?? 0,
                            etag: Self.unquote(response.headers.first(name: "ETag") ?? ""),
                            lastModified: HTTPDate.parse(response.headers.first(name: "Last-Modified") ?? "") ?? Date(),
                            contentType: response.headers.first(name: "Content-Type") ?? BlobMetadata.mimeType(forKey: key))
    }

    public func delete(_ key: String) async throws {
        let key = try FileBlobStore.validate(key: key)
        _ = try await client.send(request("DELETE", key: key), service: .s3, operation: "DeleteObject", accept: [404])
    }

    public func list(prefix: String, after: String?, limit: Int) async throws -> BlobListing {
        guard limit > 0 else {
            throw VideoStackError(.invalidInput, "A listing limit must be positive; got \(limit).")
        }
        guard !prefix.contains("\0"), prefix.utf8.count <= 1024 else {
            throw VideoStackError(.invalidInput, "A listing prefix may not contain NUL or exceed 1,024 bytes.")
        }
        var objects: [BlobMetadata] = []
        var continuation: String?
        var truncated = false
        repeat {
            var query: [(name: String, value: String?)] = [("list-type", "2"), ("max-keys", String(min(1000, limit - objects.count)))]
            if !prefix.isEmpty { query.append(("prefix", prefix)) }
            if let continuation { query.append(("continuation-token", continuation)) }
            else if let after { query.append(("start-after", after)) }
            let response = try await client.send(request("GET", key: nil, query: query), service: .s3, operation: "ListObjectsV2")
            let root = try XMLNode.parse(response.body, what: "ListObjectsV2")
            for content in root.all("Contents") {
                guard let key = content.string("Key") else { continue }
                objects.append(BlobMetadata(key: key, size: Int64(content.string("Size") ?? "") ?? 0, etag: Self.unquote(content.string("ETag") ?? ""),
                                            lastModified: ISO8601.parse(content.string("LastModified") ?? "") ?? Date(), contentType: BlobMetadata.mimeType(forKey: key)))
            }
            truncated = root.string("IsTruncated") == "true"
            continuation = root.string("NextContinuationToken")
            if truncated && continuation == nil {
                throw VideoStackError(.corrupt, "The S3 listing of '\(prefix)' is truncated but has no continuation token.")
            }
        } while truncated && objects.count < limit
        return BlobListing(objects: objects, nextAfter: truncated ? objects.last?.key : nil)
    }

    // MARK: Uploads

    private func putSingle(_ key: String, bytes: [UInt8], contentType: String) async throws -> BlobMetadata {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: contentType)
        let response = try await client.send(request("PUT", key: key, headers: headers), body: bytes[...], service: .s3, operation: "PutObject")
        return BlobMetadata(key: key, size: Int64(bytes.count), etag: Self.unquote(response.headers.first(name: "ETag") ?? ""),
                            lastModified: HTTPDate.parse(response.headers.first(name: "Date") ?? "") ?? client.now(), contentType: contentType)
    }

    private func putMultipart<Iterator: AsyncIteratorProtocol>(_ key: String, first: [UInt8], rest iterator: inout Iterator, contentType: String) async throws -> BlobMetadata
    where Iterator.Element == [UInt8] {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: contentType)
        let created = try await client.send(request("POST", key: key, query: [("uploads", nil)], headers: headers), service: .s3, operation: "CreateMultipartUpload")
        guard let uploadID = try XMLNode.parse(created.body, what: "CreateMultipartUpload").string("UploadId"), !uploadID.isEmpty else {
            throw VideoStackError(.corrupt, "S3 started a multipart upload of '\(key)' without an upload id.")
        }
        do {
            let (parts, size) = try await uploadParts(key, uploadID: uploadID, first: first, rest: &iterator)
            let body = "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
                + parts.map { "<Part><PartNumber>\($0.number)</PartNumber><ETag>\($0.etag.xmlEscaped)</ETag></Part>" }.joined()
                + "</CompleteMultipartUpload>"
            let completed = try await client.send(request("POST", key: key, query: [("uploadId", uploadID)]), body: Array(body.utf8)[...], service: .s3, operation: "CompleteMultipartUpload")
            // CompleteMultipartUpload can fail with a 200 and an <Error> body (AWS documents it).
            let root = try XMLNode.parse(completed.body, what: "CompleteMultipartUpload")
            if root.name == "Error" {
                throw AWSClient.serviceError(AWSResponse(status: 500, headers: completed.headers, body: completed.body), service: .s3).videoStackError(operation: "CompleteMultipartUpload")
            }
            return BlobMetadata(key: key, size: size, etag: Self.unquote(root.string("ETag") ?? ""),
                                lastModified: HTTPDate.parse(completed.headers.first(name: "Date") ?? "") ?? client.now(), contentType: contentType)
        } catch {
            // Parts of an upload that never completes are billed until aborted: always abort.
            await abort(key, uploadID: uploadID)
            if error is CancellationError || (error as? VideoStackError)?.code == .cancelled {
                throw VideoStackError(.cancelled, "The write of '\(key)' was cancelled; nothing was stored.")
            }
            throw error
        }
    }

    struct UploadedPart: Sendable {
        var number: Int
        var etag: String
    }

    /// Sends parts as they fill, at most `uploadConcurrency` at once; returns them in order.
    private func uploadParts<Iterator: AsyncIteratorProtocol>(_ key: String, uploadID: String, first: [UInt8], rest iterator: inout Iterator) async throws -> ([UploadedPart], Int64)
    where Iterator.Element == [UInt8] {
        let partSize = configuration.partSize
        // The bytes not sent yet are pending[start...]: parts are cut by moving `start`, so a large
        // first chunk is copied once per part, not shifted down after each one.
        var pending = first
        var start = 0
        var total: Int64 = 0
        var finished = false
        var nextNumber = 1
        return try await withThrowingTaskGroup(of: UploadedPart.self) { group in
            var parts: [UploadedPart] = []
            var running = 0
            while !finished || start < pending.count {
                // Fill one part (or take the remainder once the source is done).
                while !finished && pending.count - start < partSize {
                    if let chunk = try await Self.next(&iterator, key: key) {
                        if start > 0 {
                            pending.removeFirst(start)
                            start = 0
                        }
                        pending += chunk
                    } else {
                        finished = true
                    }
                }
                guard start < pending.count else { break }
                let end = min(start + partSize, pending.count)
                // A slice shares the pending bytes: the part is not copied out before it is sent.
                let body = pending[start..<end]
                start = end
                if start == pending.count {
                    pending = []
                    start = 0
                }
                guard nextNumber <= S3BlobStoreConfiguration.maximumParts else {
                    throw VideoStackError(.limitExceeded, "'\(key)' needs more than \(S3BlobStoreConfiguration.maximumParts) parts of \(partSize) bytes; configure a larger part size.")
                }
                total += Int64(body.count)
                let number = nextNumber
                nextNumber += 1
                if running == configuration.uploadConcurrency, let done = try await group.next() {
                    parts.append(done)
                    running -= 1
                }
                group.addTask {
                    let response = try await self.client.send(self.request("PUT", key: key, query: [("partNumber", String(number)), ("uploadId", uploadID)]),
                                                              body: body, service: .s3, operation: "UploadPart")
                    guard let etag = response.headers.first(name: "ETag") else {
                        throw VideoStackError(.corrupt, "S3 accepted part \(number) of '\(key)' without an ETag.")
                    }
                    return UploadedPart(number: number, etag: etag)
                }
                running += 1
            }
            for try await done in group { parts.append(done) }
            return (parts.sorted { $0.number < $1.number }, total)
        }
    }

    private func abort(_ key: String, uploadID: String) async {
        do {
            // Runs even when the put was cancelled: the abort itself must not be.
            try await Task.detached { [self] in
                _ = try await self.client.send(self.request("DELETE", key: key, query: [("uploadId", uploadID)]), service: .s3,
                                               operation: "AbortMultipartUpload", accept: [404])
            }.value
        } catch {
            client.logger.warning("could not abort a multipart upload", metadata: ["key": "\(key)", "uploadId": "\(uploadID)", "error": "\(error)"])
        }
    }

    // MARK: Bucket

    private func ensureBucket() async throws {
        let head = try await client.send(request("HEAD", key: nil), service: .s3, operation: "HeadBucket", accept: [404])
        guard head.status == 404 else { return }
        guard configuration.createsBucket else {
            throw VideoStackError(.notFound, "The S3 bucket '\(configuration.bucket)' does not exist; create it or set createsBucket.")
        }
        let region = client.configuration.region
        let body = region == "us-east-1" ? "" :
            "<CreateBucketConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><LocationConstraint>\(region.xmlEscaped)</LocationConstraint></CreateBucketConfiguration>"
        do {
            _ = try await client.send(request("PUT", key: nil), body: Array(body.utf8)[...], service: .s3, operation: "CreateBucket")
        } catch let error as VideoStackError where (error.cause as? AWSServiceError)?.code == "BucketAlreadyOwnedByYou" {
            return  // another process created it first
        }
    }

    // MARK: Helpers

    /// S3's bucket naming rules (3-63 characters, lower case, digits, dots, hyphens).
    static func validate(bucket: String) throws {
        let bytes = Array(bucket.utf8)
        let allowed = bytes.allSatisfy { ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2E || $0 == 0x2D }
        guard (3...63).contains(bytes.count), allowed, let first = bytes.first, let last = bytes.last,
              first != 0x2E, first != 0x2D, last != 0x2E, last != 0x2D, !bucket.contains("..") else {
            throw VideoStackError(.invalidInput, "'\(bucket.prefix(80))' is not a valid S3 bucket name: use 3 to 63 lower-case letters, digits, dots and hyphens, starting and ending with a letter or digit.")
        }
    }

    static func checkRange(_ range: Range<Int64>, key: String) throws {
        guard range.lowerBound >= 0, !range.isEmpty else {
            throw VideoStackError(.outOfRange, "Bytes \(range.lowerBound)..<\(range.upperBound) of '\(key)' are not a readable range.")
        }
    }

    /// The body of a ranged GET, checked against the range asked for.
    private func clampedBody(_ response: AWSResponse, range: Range<Int64>, key: String) throws -> [UInt8] {
        guard response.status == 206 else {
            throw VideoStackError(.unsupported, "The S3 endpoint ignored the Range header of a read of '\(key)' (HTTP \(response.status)).")
        }
        guard response.body.count <= range.count else {
            throw VideoStackError(.corrupt, "S3 answered a range of \(range.count) bytes of '\(key)' with \(response.body.count).")
        }
        return response.body
    }

    private func missing(_ key: String, _ error: VideoStackError) -> VideoStackError {
        VideoStackError(.notFound, "There is no object '\(key)'.", cause: error.cause)
    }

    static func unquote(_ etag: String) -> String {
        etag.count >= 2 && etag.hasPrefix("\"") && etag.hasSuffix("\"") ? String(etag.dropFirst().dropLast()) : etag
    }

    /// The next chunk of a put's source, with cancellation turned into the store's error.
    static func next<Iterator: AsyncIteratorProtocol>(_ iterator: inout Iterator, key: String) async throws -> [UInt8]? where Iterator.Element == [UInt8] {
        if Task.isCancelled { throw VideoStackError(.cancelled, "The write of '\(key)' was cancelled; nothing was stored.") }
        return try await iterator.next()
    }
}

/// Re-chunks a response body into pieces of at most `chunkSize` bytes, on demand.
private final class ChunkReader: @unchecked Sendable {
    // @unchecked Sendable: AsyncThrowingStream(unfolding:) calls `next` once at a time, so the
    // iterator and the buffer are never touched concurrently.
    var iterator: HTTPClientResponse.Body.AsyncIterator
    var buffer: [UInt8] = []
    var done = false
    let chunkSize: Int
    let key: String

    init(body: HTTPClientResponse.Body, chunkSize: Int, key: String) {
        iterator = body.makeAsyncIterator()
        self.chunkSize = chunkSize
        self.key = key
    }

    func next() async throws -> [UInt8]? {
        while buffer.count < chunkSize && !done {
            do {
                if let part = try await iterator.next() { buffer += Array(buffer: part) } else { done = true }
            } catch {
                throw VideoStackError(.io, "The download of '\(key)' broke off: \(error).", cause: ErrorDescription(error))
            }
        }
        guard !buffer.isEmpty else { return nil }
        let count = min(chunkSize, buffer.count)
        let chunk = Array(buffer[..<count])
        buffer.removeFirst(count)
        return chunk
    }
}
