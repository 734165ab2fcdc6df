import Foundation
import Testing
import VideoCore

@Suite struct SortableIDTests {
    @Test func textRoundTripsAndSortsLikeTheIDs() throws {
        var ids: [SortableID] = []
        for _ in 0..<2000 { ids.append(SortableID()) }
        // Made in order, so strictly increasing, even within one millisecond.
        #expect(zip(ids, ids.dropFirst()).allSatisfy { $0 < $1 })
        let texts = ids.map(\.description)
        #expect(texts.allSatisfy { $0.utf8.count == 26 })
        #expect(texts == texts.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) })
        #expect(ids.allSatisfy { SortableID($0.description) == $0 })
        #expect(abs(ids[0].date.timeIntervalSinceNow) < 60)
    }

    @Test func newestFirstFallsOutOfTheText() {
        let older = SortableID(milliseconds: 1_000, random: (0xFFFF, .max))
        let newer = SortableID(milliseconds: 1_001, random: (0, 0))
        #expect(older < newer)
        #expect(older.description.utf8.lexicographicallyPrecedes(newer.description.utf8))
        #expect(newer.milliseconds == 1_001)
    }

    @Test func malformedTextIsRejected() throws {
        for bad in ["", "short", String(repeating: "Z", count: 26), String(repeating: "0", count: 25) + "U", "01ARZ3NDEKTSV4RRFFQ69G5FA\u{0}", String(repeating: "0", count: 27)] {
            #expect(SortableID(bad) == nil, "accepted \(bad.debugDescription)")
        }
        // Crockford aliases and lowercase are accepted.
        let id = SortableID()
        #expect(SortableID(id.description.lowercased()) == id)
        let data = Data(#"{"id":"not-an-id"}"#.utf8)
        struct Holder: Decodable { var id: VideoID }
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(Holder.self, from: data) }
    }

    @Test func statusLifecycle() throws {
        #expect(VideoStatus.uploading.canTransition(to: .processing))
        #expect(VideoStatus.processing.canTransition(to: .ready))
        #expect(VideoStatus.processing.canTransition(to: .failed))
        #expect(!VideoStatus.ready.canTransition(to: .uploading))
        #expect(VideoStatus.liveScheduled.canTransition(to: .live))
        #expect(VideoStatus.live.canTransition(to: .liveEnded))
        #expect(throws: VideoStackError.self) { try VideoStatus(parsing: "exploded") }
        #expect(throws: VideoStackError.self) { try Review(videoID: VideoID(), author: "a", rating: 6) }
        #expect(try User.normalizedEmail(" Ada@Example.COM ") == "ada@example.com")
        #expect(throws: VideoStackError.self) { try User.normalizedEmail("no-at-sign") }
        #expect(throws: VideoStackError.self) { try User.normalizedUsername("a") }
        #expect(throws: VideoStackError.self) { try User.normalizedUsername("semi;colon") }
    }
}
