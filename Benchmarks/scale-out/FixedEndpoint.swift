import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix

/// A bare HTTP endpoint on 127.0.0.1 that answers as fast as it can, so a client's own cost per
/// request shows apart from a service's:
/// - DynamoDB JSON requests (by `X-Amz-Target`) get fixed answers: `DescribeTable` the bench's
///   table, `GetItem` one item, `Query` a page of items, `TransactWriteItems` and `PutItem` `{}`;
/// - S3 requests: PUT bodies are read and dropped (an ETag comes back), multipart uploads are
///   started and completed on the spot, GET and HEAD serve one object from memory (ranges too).
/// Every request must carry a SigV4 `Authorization` header (403 otherwise); signatures are not
/// checked, which costs the server nothing either side would wait on.
final class FixedEndpoint: Sendable {
    let channel: any Channel
    let group: MultiThreadedEventLoopGroup
    var port: Int { channel.localAddress!.port! }
    var url: URL { URL(string: "http://127.0.0.1:\(port)")! }

    struct Content: Sendable {
        var describeTable: ByteBuffer
        var getItem: ByteBuffer
        var query: ByteBuffer
        var object: ByteBuffer
    }

    init(content: Content, threads: Int) async throws {
        group = MultiThreadedEventLoopGroup(numberOfThreads: threads)
        channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelOption(.backlog, value: 256)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                channel.pipeline.configureHTTPServerPipeline(withErrorHandling: true).flatMap {
                    channel.pipeline.addHandler(Handler(content: content))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
    }

    func shutdown() async throws {
        try await channel.close()
        try await group.shutdownGracefully()
    }

    private final class Handler: ChannelInboundHandler, @unchecked Sendable {
        // @unchecked Sendable: NIO calls a handler only on its channel's event loop.
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart
        let content: Content
        var head: HTTPRequestHead?
        var received = 0
        var uploads = 0

        init(content: Content) { self.content = content }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let head):
                self.head = head
                received = 0
                if head.headers.first(name: "Expect")?.lowercased() == "100-continue" {
                    context.writeAndFlush(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: .continue))), promise: nil)
                }
            case .body(let part):
                received += part.readableBytes  // dropped: nobody waits on a disk
            case .end:
                guard let head else { return }
                self.head = nil
                respond(to: head, context: context)
            }
        }

        private func respond(to head: HTTPRequestHead, context: ChannelHandlerContext) {
            guard head.headers.first(name: "Authorization")?.hasPrefix("AWS4-HMAC-SHA256 Credential=") == true else {
                return send(context, .forbidden, type: "application/xml", ByteBuffer(string: "<Error><Code>AccessDenied</Code><Message>unsigned request</Message></Error>"))
            }
            if let target = head.headers.first(name: "X-Amz-Target") {
                let operation = target.split(separator: ".").last.map(String.init) ?? ""
                let json = "application/x-amz-json-1.0"
                switch operation {
                case "DescribeTable": return send(context, .ok, type: json, content.describeTable)
                case "GetItem": return send(context, .ok, type: json, content.getItem)
                case "Query": return send(context, .ok, type: json, content.query)
                case "TransactWriteItems", "PutItem": return send(context, .ok, type: json, ByteBuffer(string: "{}"))
                default:
                    return send(context, .badRequest, type: json, ByteBuffer(string: #"{"__type":"UnknownOperationException","message":"\#(operation)"}"#))
                }
            }
            let parts = head.uri.split(separator: "?", maxSplits: 1)
            let path = parts.first.map(String.init) ?? "/"
            let query = parts.count > 1 ? String(parts[1]) : ""
            let isBucket = path.split(separator: "/").count <= 1
            switch head.method {
            case .HEAD where isBucket:
                send(context, .ok, type: "application/xml", ByteBuffer())
            case .PUT:
                send(context, .ok, type: "application/xml", ByteBuffer(), extra: [("ETag", "\"\(String(received, radix: 16))\"")])
            case .POST where query.hasPrefix("uploads"):
                uploads += 1
                send(context, .ok, type: "application/xml", ByteBuffer(string: "<?xml version=\"1.0\" encoding=\"UTF-8\"?><InitiateMultipartUploadResult><Bucket>bench</Bucket><Key>\(path)</Key><UploadId>upload-\(uploads)</UploadId></InitiateMultipartUploadResult>"))
            case .POST where query.contains("uploadId="):
                send(context, .ok, type: "application/xml", ByteBuffer(string: "<?xml version=\"1.0\" encoding=\"UTF-8\"?><CompleteMultipartUploadResult><Bucket>bench</Bucket><Key>\(path)</Key><ETag>\"done-8\"</ETag></CompleteMultipartUploadResult>"))
            case .DELETE:
                send(context, .noContent, type: "application/xml", ByteBuffer())
            case .GET, .HEAD:
                let object = content.object
                var status = HTTPResponseStatus.ok
                var slice = object
                var extra: [(String, String)] = [("ETag", "\"bench-object\""), ("Last-Modified", "Tue, 01 Dec 2026 00:00:00 GMT"), ("Accept-Ranges", "bytes")]
                if let range = head.headers.first(name: "Range"), let (start, end) = Self.parseRange(range, size: object.readableBytes) {
                    status = .partialContent
                    slice = object.getSlice(at: object.readerIndex + start, length: end - start + 1)!
                    extra.append(("Content-Range", "bytes \(start)-\(end)/\(object.readableBytes)"))
                }
                if head.method == .HEAD {
                    var headers = HTTPHeaders(extra)
                    headers.add(name: "Content-Type", value: "application/octet-stream")
                    headers.add(name: "Content-Length", value: String(slice.readableBytes))
                    context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))), promise: nil)
                    context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
                } else {
                    send(context, status, type: "application/octet-stream", slice, extra: extra)
                }
            default:
                send(context, .methodNotAllowed, type: "application/xml", ByteBuffer())
            }
        }

        static func parseRange(_ header: String, size: Int) -> (Int, Int)? {
            guard header.hasPrefix("bytes=") else { return nil }
            let bounds = header.dropFirst(6).split(separator: "-", omittingEmptySubsequences: false)
            guard bounds.count == 2, let start = Int(bounds[0]) else { return nil }
            let end = min(Int(bounds[1]) ?? (size - 1), size - 1)
            return start <= end ? (start, end) : nil
        }

        private func send(_ context: ChannelHandlerContext, _ status: HTTPResponseStatus, type: String, _ body: ByteBuffer, extra: [(String, String)] = []) {
            var headers = HTTPHeaders(extra)
            headers.add(name: "Content-Type", value: type)
            headers.add(name: "Content-Length", value: String(body.readableBytes))
            headers.add(name: "x-amzn-RequestId", value: "fixed")
            context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))), promise: nil)
            if body.readableBytes > 0 { context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil) }
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        }
    }
}
