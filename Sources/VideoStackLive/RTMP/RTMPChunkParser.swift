internal import VideoCore

/// Reassembles RTMP messages from the chunk stream (RTMP specification section 5.3).
///
/// Handles all four chunk header types, one-, two- and three-byte basic headers, extended
/// timestamps (also on type-3 chunks that follow a header that had one), interleaved chunk
/// streams, Set Chunk Size (applied to the very next chunk) and Abort. Memory is bounded: a
/// chunk size above ``maxChunkSize``, a message above ``maxMessageSize``, more than
/// ``maxChunkStreams`` chunk streams or more than `maxMessageSize` bytes buffered in
/// unfinished messages throw ``VideoStackError/Code/limitExceeded``; a header that cannot be
/// (a type-1/2/3 chunk on a chunk stream never opened) throws ``VideoStackError/Code/corrupt``.
///
/// Not thread-safe: one connection feeds it from one place.
public struct RTMPChunkParser: Sendable {
    /// The largest chunk size a peer may set; RTMP allows up to 2^31 - 1, servers cap it.
    public let maxChunkSize: Int
    /// The largest message accepted (a keyframe of a high-bit-rate stream fits easily in 16 MiB).
    public let maxMessageSize: Int
    /// How many chunk streams a peer may use at once.
    public let maxChunkStreams: Int
    /// The peer's current chunk size (128 until it sends Set Chunk Size).
    public private(set) var chunkSize = 128
    /// Bytes taken in so far (for acknowledgements), modulo 2^32 as RTMP counts them.
    public private(set) var bytesReceived: UInt64 = 0

    private var buffer: [UInt8] = []
    private var position = 0
    private var streams: [UInt32: ChunkStream] = [:]
    private var unfinishedBytes = 0
    /// Chunks read so far with header type 0, 1, 2 and 3 (for tests and statistics).
    var chunksByHeaderType = [0, 0, 0, 0]

    private struct ChunkStream: Sendable {
        var timestamp: UInt32 = 0
        var delta: UInt32 = 0
        var length = 0
        var typeID: UInt8 = 0
        var streamID: UInt32 = 0
        var extended = false
        var payload: [UInt8] = []
        var opened = false
    }

    /// Creates a parser with the given limits.
    public init(maxChunkSize: Int = 1 << 20, maxMessageSize: Int = 16 << 20, maxChunkStreams: Int = 64) {
        self.maxChunkSize = maxChunkSize
        self.maxMessageSize = maxMessageSize
        self.maxChunkStreams = maxChunkStreams
    }

    /// Bytes held that do not yet make a whole chunk, plus unfinished messages.
    public var bufferedBytes: Int { buffer.count - position + unfinishedBytes }

    /// Takes in `bytes` and returns every message they complete, in order.
    public mutating func feed(_ bytes: some Collection<UInt8>) throws -> [RTMPMessage] {
        bytesReceived &+= UInt64(bytes.count)
        if position > 0 && position >= buffer.count / 2 {
            buffer.removeFirst(position)
            position = 0
        }
        buffer.append(contentsOf: bytes)
        var messages: [RTMPMessage] = []
        while let message = try nextChunk() {
            if let message { messages.append(message) }
        }
        return messages
    }

    private func byte(_ offset: Int) -> UInt8 { buffer[position + offset] }

    private func uint24(_ offset: Int) -> UInt32 {
        UInt32(byte(offset)) << 16 | UInt32(byte(offset + 1)) << 8 | UInt32(byte(offset + 2))
    }

    private func uint32(_ offset: Int) -> UInt32 {
        UInt32(byte(offset)) << 24 | UInt32(byte(offset + 1)) << 16 | UInt32(byte(offset + 2)) << 8 | UInt32(byte(offset + 3))
    }

    /// Parses one chunk if the buffer holds it whole: nil when it does not (wait for more);
    /// `.some(nil)` for a chunk that did not finish a message.
    private mutating func nextChunk() throws -> RTMPMessage?? {
        let available = buffer.count - position
        guard available >= 1 else { return nil }
        let format = byte(0) >> 6
        var csid = UInt32(byte(0) & 0x3F)
        var offset = 1
        switch csid {
        case 0:
            guard available >= 2 else { return nil }
            csid = 64 + UInt32(byte(1))
            offset = 2
        case 1:
            guard available >= 3 else { return nil }
            csid = 64 + UInt32(byte(1)) + UInt32(byte(2)) * 256
            offset = 3
        default: break
        }
        let headerLength = [11, 7, 3, 0][Int(format)]
        guard available >= offset + headerLength else { return nil }

        var state = streams[csid] ?? ChunkStream()
        if streams[csid] == nil {
            guard format == 0 else {
                throw VideoStackError(.corrupt, "A type-\(format) chunk arrived on chunk stream \(csid), which no type-0 chunk opened; the stream is not RTMP or is damaged.")
            }
            guard streams.count < maxChunkStreams else {
                throw VideoStackError(.limitExceeded, "The peer opened more than \(maxChunkStreams) chunk streams.")
            }
        }
        let startsMessage = state.payload.isEmpty
        var timestampField: UInt32 = 0
        if format <= 2 { timestampField = uint24(offset) }
        if format <= 1 {
            state.length = Int(uint24(offset + 3))
            state.typeID = byte(offset + 6)
        }
        if format == 0 {
            state.streamID = UInt32(byte(offset + 7)) | UInt32(byte(offset + 8)) << 8 | UInt32(byte(offset + 9)) << 16 | UInt32(byte(offset + 10)) << 24
        }
        offset += headerLength
        // Type 3 repeats the extended timestamp when the header it continues had one.
        let extended = format <= 2 ? timestampField == 0xFF_FFFF : state.extended
        if extended {
            guard available >= offset + 4 else { return nil }
            timestampField = uint32(offset)
            offset += 4
        }
        if format <= 1, !startsMessage {
            throw VideoStackError(.corrupt, "A new message header arrived on chunk stream \(csid) before its previous message (\(state.payload.count) of \(state.length) bytes) was complete.")
        }
        guard state.length <= maxMessageSize else {
            throw VideoStackError(.limitExceeded, "A message of \(state.length) bytes (type \(state.typeID)) is larger than the limit of \(maxMessageSize) bytes.")
        }
        let take = min(chunkSize, state.length - state.payload.count)
        guard available >= offset + take else { return nil }

        // The whole chunk is here: commit the header.
        chunksByHeaderType[Int(format)] += 1
        if format <= 2 { state.extended = extended }
        switch format {
        case 0:
            // As FFmpeg and librtmp do: a type-3 message after a type-0 one adds the type-0
            // header's timestamp field again.
            state.timestamp = timestampField
            state.delta = timestampField
        case 1, 2:
            state.delta = timestampField
            if startsMessage { state.timestamp &+= timestampField }
        default:
            // Type 3 at a message start repeats the previous header's timestamp field as a delta.
            if startsMessage, state.opened { state.timestamp &+= state.delta }
        }
        state.opened = true
        if take > 0 {
            state.payload.append(contentsOf: buffer[(position + offset)..<(position + offset + take)])
            unfinishedBytes += take
            guard unfinishedBytes <= maxMessageSize else {
                throw VideoStackError(.limitExceeded, "More than \(maxMessageSize) bytes are held in unfinished messages across chunk streams.")
            }
        }
        position += offset + take

        var completed: RTMPMessage?
        if state.payload.count >= state.length {
            completed = RTMPMessage(typeID: state.typeID, streamID: state.streamID, timestamp: state.timestamp, payload: state.payload)
            unfinishedBytes -= state.payload.count
            state.payload = []
        }
        streams[csid] = state
        if let message = completed {
            try apply(message)
        }
        return .some(completed)
    }

    /// Protocol control that changes how the following chunks are read.
    private mutating func apply(_ message: RTMPMessage) throws {
        guard message.streamID == 0 || message.typeID > 6 else { return }
        switch message.typeID {
        case RTMPMessage.Kind.setChunkSize:
            guard let size = message.leadingUInt32 else {
                throw VideoStackError(.corrupt, "A Set Chunk Size message has \(message.payload.count) bytes, not 4.")
            }
            let value = Int(size & 0x7FFF_FFFF)
            guard value >= 1 else { throw VideoStackError(.corrupt, "A Set Chunk Size of 0 is not allowed.") }
            guard value <= maxChunkSize else {
                throw VideoStackError(.limitExceeded, "The peer set a chunk size of \(value) bytes, above the limit of \(maxChunkSize).")
            }
            chunkSize = value
        case RTMPMessage.Kind.abort:
            guard let csid = message.leadingUInt32 else { return }
            if var state = streams[csid] {
                unfinishedBytes -= state.payload.count
                state.payload = []
                streams[csid] = state
            }
        default:
            break
        }
    }
}

/// Splits RTMP messages into chunks, choosing the most compact header type per chunk stream.
///
/// The first message on a chunk stream, or one on another message stream or with a timestamp
/// going back, gets a type-0 header; the same stream with another length or type a type-1; the
/// same length and type with another delta a type-2; the same delta a type-3. Continuation
/// chunks are type 3. Timestamps from 0xFFFFFF up travel as extended timestamps, repeated on
/// type-3 chunks.
public struct RTMPChunkWriter: Sendable {
    /// The chunk size this side announced (call ``setChunkSize(_:)`` after sending Set Chunk Size).
    public private(set) var chunkSize = 128
    private var previous: [UInt32: (timestamp: UInt32, delta: UInt32, length: Int, typeID: UInt8, streamID: UInt32, extended: Bool)] = [:]
    /// Force type-0 headers on every message (what some encoders do).
    public var alwaysFullHeaders = false

    /// Creates a writer with the default chunk size of 128.
    public init() {}

    /// Changes the chunk size for the messages written after this call.
    public mutating func setChunkSize(_ size: Int) { chunkSize = max(1, size) }

    /// The chunks of `message` on chunk stream `chunkStream` (2 for protocol control; 3-65599 otherwise).
    public mutating func chunks(_ message: RTMPMessage, chunkStream: UInt32) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(message.payload.count + 16 + message.payload.count / chunkSize * 5)
        let last = alwaysFullHeaders ? nil : previous[chunkStream]
        var format: UInt8 = 0
        var field = message.timestamp
        var delta: UInt32 = 0
        if let last, last.streamID == message.streamID, message.timestamp >= last.timestamp {
            delta = message.timestamp &- last.timestamp
            if last.length != message.payload.count || last.typeID != message.typeID {
                format = 1
            } else if delta != last.delta {
                format = 2
            } else {
                format = 3
            }
            field = delta
        }
        let extended: Bool
        if format == 3 {
            extended = last!.extended
            field = last!.extended ? delta : field
        } else {
            extended = field >= 0xFF_FFFF
        }
        func basicHeader(_ format: UInt8) {
            if chunkStream < 64 {
                out.append(format << 6 | UInt8(chunkStream))
            } else if chunkStream < 320 {
                out.append(format << 6)
                out.append(UInt8(chunkStream - 64))
            } else {
                out.append(format << 6 | 1)
                out.append(UInt8((chunkStream - 64) & 0xFF))
                out.append(UInt8((chunkStream - 64) >> 8))
            }
        }
        func extendedField() {
            if extended { out.append(contentsOf: RTMPMessage.bigEndian(field)) }
        }
        basicHeader(format)
        let stored = extended ? UInt32(0xFF_FFFF) : field
        if format <= 2 {
            out.append(UInt8(stored >> 16 & 0xFF)); out.append(UInt8(stored >> 8 & 0xFF)); out.append(UInt8(stored & 0xFF))
        }
        if format <= 1 {
            let length = UInt32(message.payload.count)
            out.append(UInt8(length >> 16 & 0xFF)); out.append(UInt8(length >> 8 & 0xFF)); out.append(UInt8(length & 0xFF))
            out.append(message.typeID)
        }
        if format == 0 {
            let id = message.streamID
            out.append(UInt8(id & 0xFF)); out.append(UInt8(id >> 8 & 0xFF)); out.append(UInt8(id >> 16 & 0xFF)); out.append(UInt8(id >> 24))
        }
        extendedField()
        var offset = 0
        repeat {
            let end = min(offset + chunkSize, message.payload.count)
            out.append(contentsOf: message.payload[offset..<end])
            offset = end
            if offset < message.payload.count {
                basicHeader(3)
                extendedField()
            }
        } while offset < message.payload.count
        previous[chunkStream] = (message.timestamp, format == 0 ? message.timestamp : delta, message.payload.count, message.typeID, message.streamID,
                                 format == 3 ? last!.extended : extended)
        return out
    }
}
