internal import VideoCore

/// What a publishing connection said, as the server side of the RTMP session understood it.
public enum RTMPEvent: Sendable, Equatable {
    /// `connect` to application `app` (accepted; the server already answered).
    case connect(app: String, tcURL: String?)
    /// `publish` of `streamKey` (the last path component of the URL, without any query). The
    /// session answers only once ``RTMPServerSession/acceptPublish()`` or
    /// ``RTMPServerSession/refusePublish(code:description:)`` is called.
    case publish(streamKey: String, type: String)
    /// `@setDataFrame`/`onMetaData`: the encoder's description of the stream.
    case metadata(AMF0Value)
    /// An FLV audio tag body at `timestamp` milliseconds.
    case audio(timestamp: UInt32, body: [UInt8])
    /// An FLV video tag body at `timestamp` milliseconds.
    case video(timestamp: UInt32, body: [UInt8])
    /// `FCUnpublish`, `deleteStream` or `closeStream`: the publisher is done.
    case unpublish
}

/// The server side of one RTMP connection as a state machine without I/O: bytes in, events and
/// reply bytes out.
///
/// It performs the handshake (C0/C1/C2 against S0/S1/S2, the plain handshake every encoder
/// accepts when publishing), reassembles chunks (``RTMPChunkParser``), answers protocol control
/// (acknowledgements at the peer's window, ping responses) and the commands OBS and FFmpeg send
/// to publish: `connect`, `releaseStream`, `FCPublish`, `createStream`, `publish`,
/// `FCUnpublish`, `deleteStream`. Anything malformed throws (``VideoStackError/Code/corrupt``,
/// ``VideoStackError/Code/limitExceeded``, ``VideoStackError/Code/unsupported``,
/// ``VideoStackError/Code/forbidden`` for a wrong application name); the caller then sends
/// ``takeOutput()`` (an error status, when there is one) and closes the connection.
public struct RTMPServerSession: Sendable {
    /// Limits and names the session enforces.
    public struct Options: Sendable {
        /// The application publishers must connect to (`rtmp://host/APP/KEY`).
        public var application: String
        /// The chunk size this side uses for what it sends.
        public var outgoingChunkSize: Int
        /// The acknowledgement window announced to the peer.
        public var windowAcknowledgementSize: UInt32
        /// The largest chunk size a peer may set.
        public var maxChunkSize: Int
        /// The largest message accepted.
        public var maxMessageSize: Int

        /// Creates options; the defaults suit OBS and FFmpeg.
        public init(application: String = "live", outgoingChunkSize: Int = 4096, windowAcknowledgementSize: UInt32 = 2_500_000,
                    maxChunkSize: Int = 1 << 20, maxMessageSize: Int = 16 << 20) {
            self.application = application
            self.outgoingChunkSize = outgoingChunkSize
            self.windowAcknowledgementSize = windowAcknowledgementSize
            self.maxChunkSize = maxChunkSize
            self.maxMessageSize = maxMessageSize
        }
    }

    private enum Phase: Sendable { case awaitingC0C1, awaitingC2, chunks }

    public let options: Options
    private var phase = Phase.awaitingC0C1
    private var pending: [UInt8] = []
    private var parser: RTMPChunkParser
    private var writer = RTMPChunkWriter()
    private var output: [UInt8] = []
    private var peerWindow: UInt32 = 0
    private var lastAcknowledged: UInt64 = 0
    private var publishStreamID: UInt32?
    private var publishTransaction: Double = 0
    private var streamKey: String?
    private var nextStreamID: UInt32 = 1
    private var connected = false
    private let serverEpoch: UInt32
    /// Whether a `publish` was accepted on this connection.
    public private(set) var publishing = false

    /// Creates a session; `epoch` goes into S1's time field (milliseconds, any base).
    public init(options: Options = Options(), epoch: UInt32 = 0) {
        self.options = options
        parser = RTMPChunkParser(maxChunkSize: options.maxChunkSize, maxMessageSize: options.maxMessageSize)
        serverEpoch = epoch
    }

    /// Bytes buffered inside the session (partial handshake, chunks and messages).
    public var bufferedBytes: Int { pending.count + parser.bufferedBytes }

    /// The bytes to send to the peer now; the session forgets them.
    public mutating func takeOutput() -> [UInt8] {
        defer { output = [] }
        return output
    }

    /// Takes in bytes from the peer; returns the events they complete.
    public mutating func receive(_ bytes: some Collection<UInt8>) throws -> [RTMPEvent] {
        var input = Array(bytes)
        if phase != .chunks {
            pending.append(contentsOf: input)
            input = []
            if phase == .awaitingC0C1 {
                guard let version = pending.first else { return [] }
                guard version == 3 else {
                    let hint = version == 0x47 || version == 0x50 ? " (it looks like HTTP)" : version == 0x16 ? " (it looks like TLS: use rtmp://, not rtmps://)" : ""
                    throw VideoStackError(.corrupt, "The connection does not speak RTMP: the first byte is 0x\(String(version, radix: 16)), not version 3\(hint).")
                }
                guard pending.count >= 1537 else { return [] }
                let c1 = pending[1..<1537]
                output.append(3)
                var s1 = RTMPMessage.bigEndian(serverEpoch) + [0, 0, 0, 0]
                var generator = SystemRandomNumberGenerator()
                s1.reserveCapacity(1536)
                while s1.count < 1536 { s1.append(UInt8.random(in: 0...255, using: &generator)) }
                output.append(contentsOf: s1)
                // S2 echoes C1: its time, then our time of reading it, then its random bytes.
                output.append(contentsOf: c1.prefix(4))
                output.append(contentsOf: RTMPMessage.bigEndian(serverEpoch))
                output.append(contentsOf: c1.dropFirst(8))
                pending.removeFirst(1537)
                phase = .awaitingC2
            }
            guard pending.count >= 1536 else { return [] }
            input = Array(pending.dropFirst(1536))
            pending = []
            phase = .chunks
            writer.setChunkSize(128)
        }
        var events: [RTMPEvent] = []
        for message in try parser.feed(input) {
            try handle(message, into: &events)
        }
        let window = UInt64(peerWindow == 0 ? options.windowAcknowledgementSize : peerWindow)
        if parser.bytesReceived - lastAcknowledged >= window {
            lastAcknowledged = parser.bytesReceived
            send(.acknowledgement(UInt32(truncatingIfNeeded: parser.bytesReceived)))
        }
        return events
    }

    private mutating func send(_ message: RTMPMessage) {
        let chunkStream: UInt32
        switch message.typeID {
        case 1...6: chunkStream = 2
        case RTMPMessage.Kind.commandAMF0 where message.streamID == 0: chunkStream = 3
        default: chunkStream = 5
        }
        output.append(contentsOf: writer.chunks(message, chunkStream: chunkStream))
        if message.typeID == RTMPMessage.Kind.setChunkSize, let size = message.leadingUInt32 {
            writer.setChunkSize(Int(size))
        }
    }

    private func status(_ level: String, _ code: String, _ description: String, extra: [(String, AMF0Value)] = []) -> AMF0Value {
        .object([("level", .string(level)), ("code", .string(code)), ("description", .string(description))] + extra)
    }

    private mutating func handle(_ message: RTMPMessage, into events: inout [RTMPEvent]) throws {
        switch message.typeID {
        case RTMPMessage.Kind.setChunkSize, RTMPMessage.Kind.abort, RTMPMessage.Kind.acknowledgement, RTMPMessage.Kind.setPeerBandwidth:
            return  // chunk size and abort were applied by the parser; the others need no answer
        case RTMPMessage.Kind.windowAcknowledgementSize:
            guard let size = message.leadingUInt32 else {
                throw VideoStackError(.corrupt, "A Window Acknowledgement Size message has \(message.payload.count) bytes, not 4.")
            }
            peerWindow = max(size, 4096)
        case RTMPMessage.Kind.userControl:
            guard message.payload.count >= 2 else {
                throw VideoStackError(.corrupt, "A User Control message has \(message.payload.count) bytes; it needs at least 2.")
            }
            let event = UInt16(message.payload[0]) << 8 | UInt16(message.payload[1])
            if event == 6 {  // ping request → ping response with the same timestamp
                send(.userControl(event: 7, data: Array(message.payload.dropFirst(2).prefix(4))))
            }
        case RTMPMessage.Kind.commandAMF0, RTMPMessage.Kind.commandAMF3:
            let body = message.typeID == RTMPMessage.Kind.commandAMF3 ? message.payload.dropFirst(1) : message.payload[...]
            try command(try AMF0Value.decodeAll(body), streamID: message.streamID, into: &events)
        case RTMPMessage.Kind.dataAMF0, RTMPMessage.Kind.dataAMF3:
            let body = message.typeID == RTMPMessage.Kind.dataAMF3 ? message.payload.dropFirst(1) : message.payload[...]
            var values = try AMF0Value.decodeAll(body)
            if values.first?.stringValue == "@setDataFrame" { values.removeFirst() }
            if values.first?.stringValue == "onMetaData", values.count >= 2 {
                events.append(.metadata(values[1]))
            }
        case RTMPMessage.Kind.audio, RTMPMessage.Kind.video:
            guard publishing, message.streamID == publishStreamID else { return }  // media before an accepted publish is dropped
            guard !message.payload.isEmpty else { return }  // encoders send empty tags as keep-alives
            events.append(message.typeID == RTMPMessage.Kind.audio ? .audio(timestamp: message.timestamp, body: message.payload)
                                                                : .video(timestamp: message.timestamp, body: message.payload))
        case RTMPMessage.Kind.aggregate:
            guard publishing, message.streamID == publishStreamID else { return }
            try splitAggregate(message, into: &events)
        default:
            return  // shared objects and the like: not part of publishing
        }
    }

    /// An aggregate message holds FLV tags back to back; their timestamps count from the message's.
    private func splitAggregate(_ message: RTMPMessage, into events: inout [RTMPEvent]) throws {
        let bytes = message.payload
        var offset = 0
        var base: UInt32?
        while offset + 11 <= bytes.count {
            let type = bytes[offset]
            let size = Int(bytes[offset + 1]) << 16 | Int(bytes[offset + 2]) << 8 | Int(bytes[offset + 3])
            let time = UInt32(bytes[offset + 7]) << 24 | UInt32(bytes[offset + 4]) << 16 | UInt32(bytes[offset + 5]) << 8 | UInt32(bytes[offset + 6])
            guard offset + 11 + size + 4 <= bytes.count else {
                throw VideoStackError(.corrupt, "An aggregate message's tag at offset \(offset) claims \(size) bytes, past the message's end.")
            }
            let first = base ?? time
            base = first
            let timestamp = message.timestamp &+ (time &- first)
            let body = Array(bytes[(offset + 11)..<(offset + 11 + size)])
            if !body.isEmpty {
                if type == RTMPMessage.Kind.audio { events.append(.audio(timestamp: timestamp, body: body)) }
                if type == RTMPMessage.Kind.video { events.append(.video(timestamp: timestamp, body: body)) }
            }
            offset += 11 + size + 4
        }
    }

    private mutating func command(_ values: [AMF0Value], streamID: UInt32, into events: inout [RTMPEvent]) throws {
        guard let name = values.first?.stringValue else {
            throw VideoStackError(.corrupt, "A command message does not start with a command name string.")
        }
        let transaction = values.count > 1 ? values[1].numberValue ?? 0 : 0
        switch name {
        case "connect":
            guard !connected else { throw VideoStackError(.corrupt, "The peer sent connect twice on one connection.") }
            let object = values.count > 2 ? values[2] : .null
            let app = (object["app"]?.stringValue ?? "").split(separator: "?").first.map(String.init) ?? ""
            let normalized = app.hasSuffix("/") ? String(app.dropLast()) : app
            guard normalized == options.application else {
                send(.command([.string("_error"), .number(transaction), .null,
                               status("error", "NetConnection.Connect.Rejected", "Unknown application '\(app.prefix(64))'; publish to rtmp://HOST:PORT/\(options.application)/STREAM_KEY.")]))
                throw VideoStackError(.forbidden, "The publisher connected to application '\(app.prefix(64))', not '\(options.application)'.")
            }
            connected = true
            send(.windowAcknowledgementSize(options.windowAcknowledgementSize))
            send(.setPeerBandwidth(options.windowAcknowledgementSize, limitType: 2))
            send(.setChunkSize(UInt32(options.outgoingChunkSize)))
            send(.command([.string("_result"), .number(transaction),
                           .object([("fmsVer", .string("FMS/3,0,1,123")), ("capabilities", .number(31))]),
                           status("status", "NetConnection.Connect.Success", "Connection succeeded.", extra: [("objectEncoding", .number(0))])]))
            events.append(.connect(app: normalized, tcURL: object["tcUrl"]?.stringValue))
        case "releaseStream", "FCPublish":
            guard connected else { throw VideoStackError(.corrupt, "The peer sent \(name) before connect.") }
            if name == "FCPublish" {
                let key = values.count > 3 ? values[3].stringValue ?? "" : ""
                send(.command([.string("onFCPublish"), .number(0), .null, status("status", "NetStream.Publish.Start", String(key.prefix(128)))]))
            }
            if transaction > 0 { send(.command([.string("_result"), .number(transaction), .null, .undefined])) }
        case "createStream":
            guard connected else { throw VideoStackError(.corrupt, "The peer sent createStream before connect.") }
            guard nextStreamID <= 16 else { throw VideoStackError(.limitExceeded, "The peer created more than 16 streams on one connection.") }
            send(.command([.string("_result"), .number(transaction), .null, .number(Double(nextStreamID))]))
            nextStreamID += 1
        case "publish":
            guard connected, streamID != 0 else { throw VideoStackError(.corrupt, "The peer sent publish before connect and createStream.") }
            guard streamKey == nil else { throw VideoStackError(.corrupt, "The peer sent publish twice on one connection.") }
            let raw = values.count > 3 ? values[3].stringValue ?? "" : ""
            let key = raw.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? ""
            let type = values.count > 4 ? values[4].stringValue ?? "live" : "live"
            publishStreamID = streamID
            publishTransaction = transaction
            streamKey = key
            events.append(.publish(streamKey: key, type: type))
        case "FCUnpublish", "deleteStream", "closeStream":
            if publishing { events.append(.unpublish) }
            publishing = false
        case "_checkbw", "getStreamLength":
            if transaction > 0 { send(.command([.string("_result"), .number(transaction), .null, .undefined])) }
        default:
            return  // _result/onBWDone and the like from the client need no answer
        }
    }

    /// Answers the pending `publish` with `NetStream.Publish.Start`; media is delivered from now on.
    public mutating func acceptPublish() {
        guard let streamID = publishStreamID, !publishing else { return }
        publishing = true
        send(.userControl(event: 0, data: RTMPMessage.bigEndian(streamID)))
        send(.command([.string("onStatus"), .number(0), .null,
                       status("status", "NetStream.Publish.Start", "\(streamKey.map { String($0.prefix(8)) } ?? "")… is now published.",
                              extra: [("details", .string(streamKey ?? ""))])], streamID: streamID))
    }

    /// Answers the pending `publish` with an error status (`NetStream.Publish.BadName` for a
    /// wrong key); the caller closes the connection after sending it.
    public mutating func refusePublish(code: String = "NetStream.Publish.BadName", description: String) {
        let streamID = publishStreamID ?? 1
        send(.command([.string("onStatus"), .number(0), .null, status("error", code, description)], streamID: streamID))
    }
}
