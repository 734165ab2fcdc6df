/// One RTMP message, reassembled from its chunks.
public struct RTMPMessage: Sendable, Hashable {
    /// The message type: 1-6 protocol control, 8 audio, 9 video, 18 AMF0 data, 20 AMF0 command, ….
    public var typeID: UInt8
    /// The message stream (0 for the connection, the id `createStream` answered for a stream).
    public var streamID: UInt32
    /// Milliseconds, as the sender's clock counts them (32 bits, wrapping).
    public var timestamp: UInt32
    public var payload: [UInt8]

    /// Creates a message.
    public init(typeID: UInt8, streamID: UInt32, timestamp: UInt32, payload: [UInt8]) {
        self.typeID = typeID
        self.streamID = streamID
        self.timestamp = timestamp
        self.payload = payload
    }

    /// Message type ids from the RTMP specification (section 5.4 and 7.1).
    public enum Kind {
        public static let setChunkSize: UInt8 = 1
        public static let abort: UInt8 = 2
        public static let acknowledgement: UInt8 = 3
        public static let userControl: UInt8 = 4
        public static let windowAcknowledgementSize: UInt8 = 5
        public static let setPeerBandwidth: UInt8 = 6
        public static let audio: UInt8 = 8
        public static let video: UInt8 = 9
        public static let dataAMF3: UInt8 = 15
        public static let commandAMF3: UInt8 = 17
        public static let dataAMF0: UInt8 = 18
        public static let commandAMF0: UInt8 = 20
        public static let aggregate: UInt8 = 22
    }

    /// A Set Chunk Size message.
    public static func setChunkSize(_ size: UInt32) -> RTMPMessage {
        RTMPMessage(typeID: Kind.setChunkSize, streamID: 0, timestamp: 0, payload: bigEndian(size & 0x7FFF_FFFF))
    }

    /// An Acknowledgement of `sequenceNumber` bytes received so far.
    public static func acknowledgement(_ sequenceNumber: UInt32) -> RTMPMessage {
        RTMPMessage(typeID: Kind.acknowledgement, streamID: 0, timestamp: 0, payload: bigEndian(sequenceNumber))
    }

    /// A Window Acknowledgement Size message.
    public static func windowAcknowledgementSize(_ size: UInt32) -> RTMPMessage {
        RTMPMessage(typeID: Kind.windowAcknowledgementSize, streamID: 0, timestamp: 0, payload: bigEndian(size))
    }

    /// A Set Peer Bandwidth message (`limitType` 0 hard, 1 soft, 2 dynamic).
    public static func setPeerBandwidth(_ size: UInt32, limitType: UInt8) -> RTMPMessage {
        RTMPMessage(typeID: Kind.setPeerBandwidth, streamID: 0, timestamp: 0, payload: bigEndian(size) + [limitType])
    }

    /// A User Control message: `event` (0 Stream Begin, 1 Stream EOF, 6 Ping Request, 7 Ping Response, …) and its data.
    public static func userControl(event: UInt16, data: [UInt8]) -> RTMPMessage {
        RTMPMessage(typeID: Kind.userControl, streamID: 0, timestamp: 0, payload: [UInt8(event >> 8), UInt8(event & 0xFF)] + data)
    }

    /// An AMF0 command message.
    public static func command(_ values: [AMF0Value], streamID: UInt32 = 0, timestamp: UInt32 = 0) -> RTMPMessage {
        RTMPMessage(typeID: Kind.commandAMF0, streamID: streamID, timestamp: timestamp, payload: AMF0Value.encode(values))
    }

    static func bigEndian(_ value: UInt32) -> [UInt8] {
        [UInt8(value >> 24), UInt8(value >> 16 & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)]
    }

    /// The first four payload bytes as a big-endian integer, or nil when shorter.
    var leadingUInt32: UInt32? {
        guard payload.count >= 4 else { return nil }
        return UInt32(payload[0]) << 24 | UInt32(payload[1]) << 16 | UInt32(payload[2]) << 8 | UInt32(payload[3])
    }
}
