import Foundation
import Testing
import TestSupport
import VideoCore
@testable import VideoStackLive

/// Seeded random mutations of a real session: what FFmpeg 5.1 sent while publishing 3 seconds
/// of 320x180 H.264 and AAC (`Captures/README.md` says how it was recorded). Every mutation must end in events or a
/// `VideoStackError`, with the buffered bytes bounded, never a crash or a hang.
@Suite struct RTMPFuzzTests {
    static func capture() throws -> [UInt8] {
        let url = try #require(Bundle.module.url(forResource: "ffmpeg-publish", withExtension: "bin", subdirectory: "Captures"))
        return try [UInt8](Data(contentsOf: url))
    }

    /// Runs bytes through a session as the server does (accepting the publish, parsing the media
    /// tags) in pieces of random sizes. Returns the events, or the error that ended it.
    static func replay(_ bytes: [UInt8], generator: inout SeededGenerator, options: RTMPServerSession.Options = .init()) -> (events: [RTMPEvent], error: (any Error)?) {
        var session = RTMPServerSession(options: options)
        var events: [RTMPEvent] = []
        var offset = 0
        while offset < bytes.count {
            let size = 1 + generator.below(9000)
            let end = min(bytes.count, offset + size)
            do {
                let new = try session.receive(bytes[offset..<end])
                for event in new {
                    switch event {
                    case .publish: session.acceptPublish()
                    case .video(_, let body): _ = try FLVTag.video(body)
                    case .audio(_, let body):
                        if case .aacSequenceHeader(let config) = try FLVTag.audio(body) { _ = try AudioSpecificConfig(config) }
                    default: break
                    }
                }
                events += new
            } catch {
                return (events, error)
            }
            // Bounded: never more than one maximal message plus one read in flight.
            #expect(session.bufferedBytes <= options.maxMessageSize + 9000 + 3073)
            _ = session.takeOutput()
            offset = end
        }
        return (events, nil)
    }

    @Test func theCapturedSessionReplaysWhole() throws {
        let bytes = try Self.capture()
        var generator = SeededGenerator(seed: 1)
        let (events, error) = Self.replay(bytes, generator: &generator)
        #expect(error == nil, "\(String(describing: error))")
        #expect(events.first == .connect(app: "live", tcURL: events.first.flatMap { if case .connect(_, let url) = $0 { url } else { nil } }))
        #expect(events.contains { if case .publish = $0 { true } else { false } })
        #expect(events.contains { if case .metadata = $0 { true } else { false } })
        let video = events.filter { if case .video = $0 { true } else { false } }.count
        let audio = events.filter { if case .audio = $0 { true } else { false } }.count
        #expect(video >= 80)  // 3 s at 30 fps, plus the sequence header
        #expect(audio >= 120)
        #expect(events.last == .unpublish)
    }

    @Test(arguments: [11, 22, 33, 44])
    func mutationsEndInEventsOrTypedErrors(seed: UInt64) throws {
        let original = try Self.capture()
        var generator = SeededGenerator(seed: seed)
        var outcomes: [String: Int] = [:]
        for _ in 0..<150 {
            var bytes = original
            for _ in 0..<(1 + generator.below(4)) {
                switch generator.below(6) {
                case 0:  // flip bytes
                    for _ in 0..<(1 + generator.below(16)) {
                        bytes[generator.below(bytes.count)] ^= UInt8(1 + generator.below(255))
                    }
                case 1:  // cut short
                    bytes = Array(bytes.prefix(generator.below(bytes.count)))
                case 2:  // insert random bytes
                    let at = generator.below(bytes.count + 1)
                    bytes.insert(contentsOf: (0..<(1 + generator.below(64))).map { _ in UInt8(truncatingIfNeeded: generator.next()) }, at: at)
                case 3:  // delete a range
                    guard bytes.count > 2 else { break }
                    let at = generator.below(bytes.count - 1)
                    bytes.removeSubrange(at..<min(bytes.count, at + 1 + generator.below(200)))
                case 4:  // duplicate a range
                    guard bytes.count > 2 else { break }
                    let at = generator.below(bytes.count - 1)
                    let range = at..<min(bytes.count, at + 1 + generator.below(500))
                    bytes.insert(contentsOf: bytes[range], at: range.upperBound)
                default:  // write a huge length or timestamp field somewhere after the handshake
                    guard bytes.count > 3100 else { break }
                    let at = 3073 + generator.below(bytes.count - 3076)
                    bytes[at] = 0xFF; bytes[at + 1] = 0xFF; bytes[at + 2] = 0xFF
                }
                guard !bytes.isEmpty else { break }
            }
            let (_, error) = Self.replay(bytes, generator: &generator, options: .init(maxChunkSize: 1 << 16, maxMessageSize: 1 << 20))
            if let error {
                let typed = try #require(error as? VideoStackError, "untyped error \(error)")
                #expect(!typed.message.isEmpty)
                outcomes[typed.code.name, default: 0] += 1
            } else {
                outcomes["ok", default: 0] += 1
            }
        }
        // Both ends are reached: mutations the protocol absorbs and ones it refuses.
        #expect(outcomes["ok", default: 0] > 0, "\(outcomes)")
        #expect(outcomes.keys.contains { $0 != "ok" }, "\(outcomes)")
    }
}
