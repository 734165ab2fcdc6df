import Foundation
import Synchronization
import SingleTableStore
import Testing
import VideoCore

/// The decoder's typed reads (the containers' `decode(String.self)`-style requirements) decode
/// what the generic path did and report the same errors, with the attribute's path.
@Suite struct ItemDecoderTests {
    struct Sample: Codable, Equatable {
        struct Inner: Codable, Equatable {
            var label: String
            var count: Int
        }

        var text: String
        var flag: Bool
        var ratio: Double
        var small: Int8
        var large: Int64
        var maybeText: String?
        var maybeNumber: Int?
        var maybeRatio: Double?
        var maybeFlag: Bool?
        var maybeLarge: Int64?
        var words: [String]
        var inner: [Inner]
    }

    private func message(_ body: () throws -> Void) -> String? {
        do {
            try body()
            return nil
        } catch let error as VideoStackError {
            #expect(error.code == .corrupt)
            return error.message
        } catch {
            Issue.record("unexpected \(error)")
            return nil
        }
    }

    @Test func typedFieldsDecodeAndNullIsAbsent() throws {
        let sample = Sample(text: "é 🎬", flag: true, ratio: 0.25, small: -8, large: .max, maybeText: nil, maybeNumber: 7,
                            maybeRatio: nil, maybeFlag: false, maybeLarge: nil, words: ["a", ""], inner: [.init(label: "x", count: 3)])
        var item = try ItemEncoder().encode(sample)
        #expect(try ItemDecoder().decode(Sample.self, from: item) == sample)
        item["maybeText"] = .null
        item["maybeRatio"] = .null
        #expect(try ItemDecoder().decode(Sample.self, from: item) == sample, "NULL decodes as nil, as an absent attribute does")
    }

    @Test func mismatchesNameTheAttributeAndTheTypes() throws {
        let sample = Sample(text: "t", flag: false, ratio: 1, small: 1, large: 1, maybeText: "m", maybeNumber: nil, maybeRatio: 2,
                            maybeFlag: nil, maybeLarge: 5, words: ["w"], inner: [.init(label: "x", count: 3)])
        let item = try ItemEncoder().encode(sample)
        func broken(_ name: String, _ value: AttributeValue) -> String? {
            var copy = item
            copy[name] = value
            return message { _ = try ItemDecoder().decode(Sample.self, from: copy) }
        }
        #expect(broken("text", 5)?.contains("at 'text': expected S, found N") == true)
        #expect(broken("flag", "yes")?.contains("at 'flag': expected BOOL, found S") == true)
        #expect(broken("ratio", true)?.contains("at 'ratio': expected N, found BOOL") == true)
        #expect(broken("large", .n(try Number(parsing: "1e30")))?.contains("at 'large'") == true)
        #expect(broken("small", 300)?.contains("does not fit in Int8") == true)
        #expect(broken("maybeText", 1)?.contains("at 'maybeText': expected S") == true)
        #expect(broken("maybeLarge", 1.5)?.contains("at 'maybeLarge'") == true)
        #expect(broken("words", ["w", 3])?.contains("at 'words': expected S, found N") == true)
        #expect(broken("inner", [["label": 1, "count": 3]])?.contains("at 'inner.label': expected S, found N") == true)
        var missing = item
        missing["text"] = nil
        #expect(message { _ = try ItemDecoder().decode(Sample.self, from: missing) }?.contains("missing attribute 'text'") == true)
    }
}

/// Remembered decodes are never stale and are reused only for equal items.
@Suite(.serialized) struct DecodedValueCacheTests {
    /// Counts its own decodes (only this suite decodes it).
    struct Counted: Decodable, Sendable, Equatable {
        static let decodes = Atomic<Int>(0)
        var name: String
        var number: Int

        init(from decoder: any Decoder) throws {
            Self.decodes.add(1, ordering: .relaxed)
            let container = try decoder.container(keyedBy: CodingKeys.self)
            name = try container.decode(String.self, forKey: .name)
            number = try container.decode(Int.self, forKey: .number)
        }

        init(name: String, number: Int) {
            self.name = name
            self.number = number
        }

        private enum CodingKeys: String, CodingKey { case name, number }
    }

    private func decodes(_ body: () throws -> Void) rethrows -> Int {
        let before = Counted.decodes.load(ordering: .relaxed)
        try body()
        return Counted.decodes.load(ordering: .relaxed) - before
    }

    @Test func equalItemsReuseTheValueAndChangedOnesDecodeAgain() throws {
        let cache = DecodedValueCache<Counted>(capacity: 8)
        let item: Item = ["name": "a", "number": 1]
        var value: Counted?
        #expect(try decodes { value = try cache.decode(item, key: "k") } == 1)
        #expect(value == Counted(name: "a", number: 1))
        #expect(try decodes { value = try cache.decode(item, key: "k") } == 0)
        #expect(value == Counted(name: "a", number: 1))
        // Equal contents in storage of its own: reused too.
        let rebuilt: Item = Dictionary(uniqueKeysWithValues: item.map { ($0.key, $0.value) })
        #expect(try decodes { _ = try cache.decode(rebuilt, key: "k") } == 0)
        // A changed item is never answered from the cache.
        var changed = item
        changed["number"] = 2
        #expect(try decodes { value = try cache.decode(changed, key: "k") } == 1)
        #expect(value == Counted(name: "a", number: 2))
        #expect(try cache.decode(item, key: "k") == Counted(name: "a", number: 1))
        // A failed decode throws and leaves nothing behind.
        let broken: Item = ["name": 5, "number": 1]
        #expect(throws: VideoStackError.self) { try cache.decode(broken, key: "k") }
        #expect(throws: VideoStackError.self) { try cache.decode(broken, key: "k") }
    }

    @Test func keysSharingASlotAndAnEmptyCacheStayCorrect() throws {
        let single = DecodedValueCache<Counted>(capacity: 1)
        for round in 0..<3 {
            for number in 0..<4 {
                #expect(try single.decode(["name": "n", "number": .int(Int64(number))], key: number) == Counted(name: "n", number: number), "round \(round)")
            }
        }
        let none = DecodedValueCache<Counted>(capacity: 0)
        let item: Item = ["name": "x", "number": 3]
        #expect(try decodes { for _ in 0..<3 { _ = try none.decode(item, key: 1) } } == 3)
    }

    @Test func itemsTheStoreServesFromItsCacheAreReused() async throws {
        try await Backend.sqlite.withStore(schema: .singleTable) { store in
            let cache = DecodedValueCache<Counted>()
            let key: Item = ["PK": "P", "SK": "S"]
            try await store.putItem(["PK": "P", "SK": "S", "name": "first", "number": 1])
            let before = Counted.decodes.load(ordering: .relaxed)
            for _ in 0..<5 {
                let item = try #require(try await store.getItem(key: key))
                #expect(try cache.decode(item, key: "P/S") == Counted(name: "first", number: 1))
            }
            #expect(Counted.decodes.load(ordering: .relaxed) - before == 1)
            try await store.updateItem(key: key, actions: [.set("name", .value("second"))])
            let item = try #require(try await store.getItem(key: key))
            #expect(try cache.decode(item, key: "P/S") == Counted(name: "second", number: 1), "a change is seen at once")
        }
    }
}
