import Foundation
import Testing
import TestSupport
import VideoCore
@testable import VideoStackLive

@Suite struct AMF0Tests {
    @Test func roundTripsEveryTypeEncodersSend() throws {
        let values: [AMF0Value] = [
            .string("connect"), .number(1), .boolean(true), .null, .undefined,
            .object([("app", .string("live")), ("tcUrl", .string("rtmp://127.0.0.1:1935/live")), ("fpad", .boolean(false)),
                     ("nested", .object([("x", .number(-2.5))]))]),
            .ecmaArray([("duration", .number(0)), ("width", .number(1280))]),
            .strictArray([.number(1), .string("two")]),
            .date(1_700_000_000_000, 0),
            .string(String(repeating: "L", count: 70_000)),  // long string
        ]
        let bytes = AMF0Value.encode(values)
        #expect(try AMF0Value.decodeAll(bytes) == values)
    }

    @Test func refusesTruncatedDeepAndUnknownInput() throws {
        let bytes = AMF0Value.encode([.object([("a", .string("hello"))])])
        for cut in 1..<bytes.count - 3 {
            #expect(throws: VideoStackError.self) { try AMF0Value.decodeAll(bytes.prefix(cut)) }
        }
        let deep = [UInt8](repeating: 0x0A, count: 1).flatMap { _ in [UInt8]() } + Array((0..<40).flatMap { _ in [0x0A, 0, 0, 0, 1] as [UInt8] })
        #expect { try AMF0Value.decodeAll(deep) } throws: { ($0 as? VideoStackError)?.code == .limitExceeded }
        #expect { try AMF0Value.decodeAll([0x07, 0, 1]) } throws: { ($0 as? VideoStackError)?.code == .unsupported }
        // A strict array claiming four billion elements is refused before anything is allocated.
        #expect { try AMF0Value.decodeAll([0x0A, 0xFF, 0xFF, 0xFF, 0xFF]) } throws: { ($0 as? VideoStackError)?.code == .corrupt }
    }
}

@Suite struct ChunkStreamTests {
    /// Messages chosen to exercise every header type: a first message (type 0), a new length
    /// (type 1), a new delta (type 2), the same delta (type 3), another message stream (type 0),
    /// messages longer than the chunk size (type-3 continuations) and extended timestamps.
    static func messages() -> [(RTMPMessage, UInt32)] {
        var list: [(RTMPMessage, UInt32)] = []
        var generator = SeededGenerator(seed: 7)
        var time: UInt32 = 0
        for index in 0..<60 {
            let length = index % 7 == 0 ? 5000 : (index % 3 == 0 ? 40 : 40 + index)
            time += index % 4 == 0 ? 33 : 34
            let payload = (0..<length).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
            list.append((RTMPMessage(typeID: index % 2 == 0 ? 9 : 8, streamID: 1, timestamp: time, payload: payload), index % 2 == 0 ? 6 : 4))
        }
        list.append((RTMPMessage(typeID: 20, streamID: 0, timestamp: 0, payload: AMF0Value.encode([.string("ping")])), 3))
        // Extended timestamps, on the first chunk and on the continuation chunks of a long message.
        list.append((RTMPMessage(typeID: 9, streamID: 1, timestamp: 0x0100_0000, payload: [UInt8](repeating: 7, count: 3000)), 6))
        list.append((RTMPMessage(typeID: 9, streamID: 1, timestamp: 0x0100_0021, payload: [UInt8](repeating: 8, count: 3000)), 6))
        list.append((RTMPMessage(typeID: 9, streamID: 1, timestamp: 0x0100_0042, payload: [UInt8](repeating: 9, count: 3000)), 6))
        // A chunk stream id that needs the two- and three-byte basic headers.
        list.append((RTMPMessage(typeID: 8, streamID: 1, timestamp: 5, payload: [1, 2, 3]), 100))
        list.append((RTMPMessage(typeID: 8, streamID: 1, timestamp: 5, payload: [1, 2, 3]), 4000))
        return list
    }

    @Test(arguments: [false, true])
    func writerAndParserAgreeOnEveryHeaderType(fullHeaders: Bool) throws {
        var writer = RTMPChunkWriter()
        writer.alwaysFullHeaders = fullHeaders
        var bytes: [UInt8] = []
        bytes += writer.chunks(.setChunkSize(1000), chunkStream: 2)
        writer.setChunkSize(1000)
        let messages = Self.messages()
        for (message, chunkStream) in messages { bytes += writer.chunks(message, chunkStream: chunkStream) }
        // Fed whole and fed one byte at a time, the parser gives back the same messages.
        var whole = RTMPChunkParser()
        let parsed = try whole.feed(bytes)
        #expect(parsed.count == messages.count + 1)
        #expect(Array(parsed.dropFirst()) == messages.map(\.0))
        #expect(whole.chunkSize == 1000)
        if fullHeaders {
            #expect(whole.chunksByHeaderType[1] == 0 && whole.chunksByHeaderType[2] == 0)
        } else {
            #expect(whole.chunksByHeaderType.allSatisfy { $0 > 0 }, "every header type: \(whole.chunksByHeaderType)")
        }
        var trickle = RTMPChunkParser()
        var trickled: [RTMPMessage] = []
        for byte in bytes { trickled += try trickle.feed([byte]) }
        #expect(trickled == parsed)
        #expect(trickle.bufferedBytes == 0)
    }

    @Test func abortDropsAPartialMessage() throws {
        var writer = RTMPChunkWriter()
        let long = RTMPMessage(typeID: 9, streamID: 1, timestamp: 10, payload: [UInt8](repeating: 1, count: 300))
        let chunks = writer.chunks(long, chunkStream: 6)
        var parser = RTMPChunkParser()
        #expect(try parser.feed(chunks.prefix(12 + 128)).isEmpty)
        #expect(parser.bufferedBytes == 128)
        var abortWriter = RTMPChunkWriter()
        _ = try parser.feed(abortWriter.chunks(RTMPMessage(typeID: 2, streamID: 0, timestamp: 0, payload: [0, 0, 0, 6]), chunkStream: 2))
        #expect(parser.bufferedBytes == 0)
    }

    @Test func limitsAreEnforced() throws {
        var writer = RTMPChunkWriter()
        var parser = RTMPChunkParser(maxChunkSize: 65536, maxMessageSize: 1 << 20)
        #expect { try parser.feed(writer.chunks(.setChunkSize(1 << 24), chunkStream: 2)) } throws: {
            ($0 as? VideoStackError)?.code == .limitExceeded
        }
        var big = RTMPChunkParser(maxMessageSize: 1 << 20)
        var bigWriter = RTMPChunkWriter()
        let header = bigWriter.chunks(RTMPMessage(typeID: 9, streamID: 1, timestamp: 0, payload: [UInt8](repeating: 0, count: 2 << 20)), chunkStream: 6)
        #expect { try big.feed(header.prefix(20)) } throws: { ($0 as? VideoStackError)?.code == .limitExceeded }
        var orphan = RTMPChunkParser()
        #expect { try orphan.feed([0xC6, 1, 2, 3]) } throws: { ($0 as? VideoStackError)?.code == .corrupt }
    }
}

@Suite struct ServerSessionTests {
    /// A publisher's side of the conversation, as FFmpeg sends it.
    static func publishBytes(app: String = "live", key: String = "abc") -> [UInt8] {
        var bytes: [UInt8] = [3] + [UInt8](repeating: 0, count: 8) + (0..<1528).map { UInt8($0 % 251) }
        bytes += [UInt8](repeating: 0, count: 1536)  // C2
        var writer = RTMPChunkWriter()
        bytes += writer.chunks(.setChunkSize(4096), chunkStream: 2)
        writer.setChunkSize(4096)
        bytes += writer.chunks(.command([.string("connect"), .number(1), .object([("app", .string(app)), ("tcUrl", .string("rtmp://127.0.0.1/\(app)"))])]), chunkStream: 3)
        bytes += writer.chunks(.command([.string("releaseStream"), .number(2), .null, .string(key)]), chunkStream: 3)
        bytes += writer.chunks(.command([.string("FCPublish"), .number(3), .null, .string(key)]), chunkStream: 3)
        bytes += writer.chunks(.command([.string("createStream"), .number(4), .null]), chunkStream: 3)
        bytes += writer.chunks(.command([.string("publish"), .number(5), .null, .string(key + "?token=x"), .string("live")], streamID: 1), chunkStream: 4)
        return bytes
    }

    static func commands(in output: [UInt8], skippingHandshake: Bool) throws -> [[AMF0Value]] {
        var parser = RTMPChunkParser()
        let messages = try parser.feed(skippingHandshake ? Array(output.dropFirst(3073)) : output)
        return try messages.filter { $0.typeID == 20 }.map { try AMF0Value.decodeAll($0.payload) }
    }

    @Test func answersThePublishFlowAndDeliversMedia() throws {
        var session = RTMPServerSession()
        let events = try session.receive(Self.publishBytes())
        #expect(events == [.connect(app: "live", tcURL: "rtmp://127.0.0.1/live"), .publish(streamKey: "abc", type: "live")])
        let output = session.takeOutput()
        #expect(output.first == 3)
        #expect(output.count > 3073)
        // S2 echoes C1's random part.
        #expect(Array(output[(1 + 1536 + 8)..<(1 + 1536 + 16)]) == (0..<8).map { UInt8($0 % 251) })
        let answers = try Self.commands(in: output, skippingHandshake: true)
        #expect(answers.map { $0[0] } == [.string("_result"), .string("_result"), .string("onFCPublish"), .string("_result"), .string("_result")])
        #expect(answers[0][3]["code"] == .string("NetConnection.Connect.Success"))
        #expect(answers[4][3] == .number(1))  // createStream's stream id

        session.acceptPublish()
        var status = RTMPChunkParser()
        _ = try status.feed(Array(output.dropFirst(3073)))
        let accepted = try status.feed(session.takeOutput()).filter { $0.typeID == 20 }.map { try AMF0Value.decodeAll($0.payload) }
        #expect(accepted.first?[3]["code"] == .string("NetStream.Publish.Start"))

        var writer = RTMPChunkWriter()
        writer.setChunkSize(4096)
        var media: [UInt8] = []
        _ = writer.chunks(.setChunkSize(4096), chunkStream: 2)  // same state as the publisher
        media += writer.chunks(RTMPMessage(typeID: 18, streamID: 1, timestamp: 0,
                                           payload: AMF0Value.encode([.string("@setDataFrame"), .string("onMetaData"), .ecmaArray([("width", .number(640))])])), chunkStream: 4)
        media += writer.chunks(RTMPMessage(typeID: 9, streamID: 1, timestamp: 0, payload: [0x17, 1, 0, 0, 0, 0, 0, 0, 1, 0x65]), chunkStream: 6)
        media += writer.chunks(.command([.string("FCUnpublish"), .number(6), .null, .string("abc")]), chunkStream: 3)
        var continued = session
        // The writer's state above started fresh, so feed with a parser that agrees: new chunk streams only.
        let later = try continued.receive(media)
        #expect(later == [.metadata(.ecmaArray([("width", .number(640))])), .video(timestamp: 0, body: [0x17, 1, 0, 0, 0, 0, 0, 0, 1, 0x65]), .unpublish])
    }

    @Test func refusesAWrongApplicationAndNonRTMPBytes() throws {
        var session = RTMPServerSession()
        #expect { try session.receive(Self.publishBytes(app: "other")) } throws: { ($0 as? VideoStackError)?.code == .forbidden }
        let answers = try Self.commands(in: session.takeOutput(), skippingHandshake: true)
        #expect(answers.last?[0] == .string("_error"))
        #expect(answers.last?[3]["code"] == .string("NetConnection.Connect.Rejected"))

        var http = RTMPServerSession()
        #expect { try http.receive(Array("GET / HTTP/1.1\r\n\r\n".utf8)) } throws: { ($0 as? VideoStackError)?.code == .corrupt }
    }

    @Test func refusedPublishGetsAnErrorStatus() throws {
        var session = RTMPServerSession()
        _ = try session.receive(Self.publishBytes())
        let first = session.takeOutput()
        session.refusePublish(description: "Unknown or revoked stream key.")
        var parser = RTMPChunkParser()
        _ = try parser.feed(Array(first.dropFirst(3073)))
        let status = try parser.feed(session.takeOutput()).map { try AMF0Value.decodeAll($0.payload) }
        #expect(status.first?[3]["level"] == .string("error"))
        #expect(status.first?[3]["code"] == .string("NetStream.Publish.BadName"))
        #expect(!session.publishing)
    }
}
