import Foundation
import SingleTableStore
import Testing
import VideoCore

/// The conformance suite: written against ``ItemStore`` only, run for every backend.
@Suite("ItemStore conformance")
struct ConformanceTests {
    // MARK: Items and values

    @Test(arguments: Backend.allCases)
    func putAndGetEveryAttributeType(_ backend: Backend) async throws {
        try await backend.withStore { store in
            let item: Item = [
                "PK": "p", "SK": "s",
                "string": "héllo 世界", "int": .int(Int64.max), "negative": .int(Int64.min),
                "decimal": .n(try Number(parsing: "12345678901234567890.123456789012345678")),
                "double": .n(try Number(0.1 as Double)), "binary": .b([0, 1, 2, 255]), "yes": true, "nothing": .null,
                "list": ["a", 1, [true]], "map": ["nested": ["deeper": "x"]],
                "strings": .ss(["b", "a"]), "numbers": .ns([Number(1), Number(2)]), "blobs": .bs([[1], [2, 3]]),
            ]
            try await store.putItem(item)
            let read = try #require(try await store.getItem(key: key("p", "s")))
            #expect(read == item)
            #expect(read["decimal"]?.number?.description == "12345678901234567890.123456789012345678")
            #expect(read["double"]?.number?.doubleValue == 0.1)
            #expect(try await store.getItem(key: key("p", "missing")) == nil)
        }
    }

    @Test(arguments: Backend.allCases)
    func putReplacesAndReturnsOld(_ backend: Backend) async throws {
        try await backend.withStore { store in
            try await store.putItem(["PK": "p", "SK": "s", "v": 1, "gone": "x"])
            let old = try await store.putItem(["PK": "p", "SK": "s", "v": 2], condition: nil, returnOld: true)
            #expect(old?["v"] == 1)
            #expect(try await store.getItem(key: key("p", "s")) == ["PK": "p", "SK": "s", "v": 2])
        }
    }

    @Test(arguments: Backend.allCases)
    func conditionalPutAndDelete(_ backend: Backend) async throws {
        try await backend.withStore { store in
            try await store.putItem(["PK": "p", "SK": "s", "v": 1], condition: .notExists("PK"))
            await expectError(.conditionFailed) { try await store.putItem(["PK": "p", "SK": "s", "v": 2], condition: .notExists("PK")) }
            #expect(try await store.getItem(key: key("p", "s"))?["v"] == 1)
            await expectError(.conditionFailed) { try await store.deleteItem(key: key("p", "s"), condition: .equal("v", 5)) }
            #expect(try await store.getItem(key: key("p", "s")) != nil)
            let old = try await store.deleteItem(key: key("p", "s"), condition: .equal("v", 1), returnOld: true)
            #expect(old?["v"] == 1)
            #expect(try await store.getItem(key: key("p", "s")) == nil)
            // Deleting what is not there succeeds, as in DynamoDB.
            try await store.deleteItem(key: key("p", "s"))
        }
    }

    /// Every condition function and operator, each checked both ways through a conditional update.
    @Test(arguments: Backend.allCases)
    func everyCondition(_ backend: Backend) async throws {
        try await backend.withStore { store in
            let item: Item = ["PK": "p", "SK": "s", "name": "videostack", "n": 10, "bin": .b([1, 2, 3]),
                              "tags": .ss(["a", "b"]), "list": ["x", "y"], "map": ["k": "v"], "flag": false, "accent": "caf\u{E9}"]
            try await store.putItem(item)
            let cases: [(Condition, Bool)] = [
                (.exists("name"), true), (.exists("absent"), false),
                (.notExists("absent"), true), (.notExists("name"), false),
                (.exists("map.k"), true), (.exists("list[1]"), true), (.exists("list[2]"), false),
                (.equal("n", 10), true), (.equal("n", 11), false), (.equal("n", "10"), false),
                (.notEqual("n", 11), true), (.notEqual("n", 10), false), (.notEqual("absent", 1), true),
                (.less("n", 11), true), (.less("n", 10), false),
                (.lessOrEqual("n", 10), true), (.lessOrEqual("n", 9), false),
                (.greater("n", 9), true), (.greater("n", 10), false), (.greater("name", 1), false),
                (.greaterOrEqual("n", 10), true), (.greaterOrEqual("n", 10.5), false),
                (.less("name", "w"), true), (.greater("bin", .b([1, 2])), true),
                (.between("n", 5, 10), true), (.between("n", 11, 20), false),
                (.beginsWith("name", "video"), true), (.beginsWith("name", "stack"), false), (.beginsWith("bin", .b([1])), true),
                (.contains("name", "ost"), true), (.contains("name", "xyz"), false),
                (.contains("tags", "a"), true), (.contains("tags", "z"), false), (.contains("list", "y"), true),
                (.size("name", .equal, 10), true), (.size("tags", .equal, 2), true), (.size("list", .greater, 5), false),
                (.size("bin", .equal, 3), true),
                (.attributeType("n", "N"), true), (.attributeType("n", "S"), false),
                (.isIn(.path("n"), [1, 10]), true), (.isIn(.path("n"), [1, 2]), false),
                (.equal("n", 10) && .equal("flag", false), true), (.equal("n", 10) && .equal("flag", true), false),
                (.equal("n", 1) || .equal("flag", false), true), (.equal("n", 1) || .equal("flag", true), false),
                (!.equal("n", 1), true), (!.equal("n", 10), false),
                (.compare(.path("n"), .greater, .size("list")), true),
                // Strings compare by UTF-8 bytes: a decomposed "é" is not the precomposed one.
                (.equal("accent", "caf\u{E9}"), true), (.equal("accent", "cafe\u{301}"), false),
                (.isIn(.path("accent"), ["cafe\u{301}"]), false),
            ]
            for (condition, expected) in cases {
                do {
                    try await store.updateItem(key: key("p", "s"), actions: [.add("checks", 1)], condition: condition)
                    #expect(expected, "\(condition) held but should not have")
                } catch let error as VideoStackError where error.code == .conditionFailed {
                    #expect(!expected, "\(condition) failed but should have held")
                }
            }
            let passed = cases.filter(\.1).count
            #expect(try await store.getItem(key: key("p", "s"))?["checks"] == .int(Int64(passed)))
        }
    }

    // MARK: Updates

    @Test(arguments: Backend.allCases)
    func updateActions(_ backend: Backend) async throws {
        try await backend.withStore { store in
            // Update creates a missing item, as DynamoDB's UpdateItem does.
            let created = try await store.updateItem(key: key("p", "s"), actions: [.set("title", .value("first")), .add("views", 5)])
            #expect(created == ["PK": "p", "SK": "s", "title": "first", "views": 5])

            try await store.updateItem(key: key("p", "s"), actions: [
                .set("meta", .value(["inner": ["deep": 1]])),
                .set("history", .listAppend(.ifNotExists("history", []), .value(["created"]))),
                .add("tags", .ss(["a", "b"])),
                .set("copy", .path("title")),
                .set("double", .plus(.path("views"), .path("views"))),
                .set("less", .minus(.path("views"), .value(2))),
            ])
            try await store.updateItem(key: key("p", "s"), actions: [
                .set("meta.inner.deep", .value(2)),
                .set("history", .listAppend(.path("history"), .value(["edited"]))),
                .delete("tags", .ss(["a"])),
                .remove("copy"),
                .add("views", -1),
            ])
            let item = try #require(try await store.getItem(key: key("p", "s")))
            #expect(item["meta"] == ["inner": ["deep": 2]])
            #expect(item["history"] == ["created", "edited"])
            #expect(item["tags"] == .ss(["b"]))
            #expect(item["copy"] == nil)
            #expect(item["views"] == 4)
            #expect(item["double"] == 10)
            #expect(item["less"] == 3)

            // Deleting the last element of a set removes the attribute.
            try await store.updateItem(key: key("p", "s"), actions: [.delete("tags", .ss(["b"])), .remove("history[0]")])
            let after = try #require(try await store.getItem(key: key("p", "s")))
            #expect(after["tags"] == nil)
            #expect(after["history"] == ["edited"])

            let updatedOld = try await store.updateItem(key: key("p", "s"), actions: [.set("title", .value("second"))], condition: nil, returnValues: .updatedOld)
            #expect(updatedOld == ["title": "first"])
            let updatedNew = try await store.updateItem(key: key("p", "s"), actions: [.set("title", .value("third"))], condition: nil, returnValues: .updatedNew)
            #expect(updatedNew == ["title": "third"])
            let allOld = try await store.updateItem(key: key("p", "s"), actions: [.set("title", .value("fourth"))], condition: nil, returnValues: .allOld)
            #expect(allOld?["title"] == "third")
        }
    }

    @Test(arguments: Backend.allCases)
    func removingSeveralListElementsUsesTheOriginalIndexes(_ backend: Backend) async throws {
        try await backend.withStore { store in
            try await store.putItem(["PK": "p", "SK": "s", "tags": ["a", "b", "c", "d"], "m": ["x": 1, "y": 2]])
            try await store.updateItem(key: key("p", "s"), actions: [.remove("tags[0]"), .remove("tags[2]"), .remove("m.x")])
            let item = try #require(try await store.getItem(key: key("p", "s")))
            #expect(item["tags"] == ["b", "d"])
            #expect(item["m"] == ["y": 2])
        }
    }

    @Test(arguments: Backend.allCases)
    func invalidUpdatesAreRejectedAndChangeNothing(_ backend: Backend) async throws {
        try await backend.withStore { store in
            try await store.putItem(["PK": "p", "SK": "s", "name": "x", "n": 1])
            await expectError(.invalidInput) { try await store.updateItem(key: key("p", "s"), actions: [.set("SK", .value("other"))]) }
            await expectError(.invalidInput) { try await store.updateItem(key: key("p", "s"), actions: [.add("name", 1)]) }
            await expectError(.invalidInput) { try await store.updateItem(key: key("p", "s"), actions: [.set("a", .value(1)), .remove("a")]) }
            await expectError(.invalidInput) { try await store.updateItem(key: key("p", "s"), actions: [.set("missing.child", .value(1))]) }
            await expectError(.invalidInput) { try await store.updateItem(key: key("p", "s"), actions: [.set("x", .plus(.path("name"), .value(1)))]) }
            await expectError(.invalidInput) { try await store.updateItem(key: key("p", "s"), actions: []) }
            await expectError(.invalidInput) { try await store.updateItem(key: key("p", "s"), actions: [.set("bad..path", .value(1))]) }
            #expect(try await store.getItem(key: key("p", "s")) == ["PK": "p", "SK": "s", "name": "x", "n": 1])
        }
    }

    @Test(arguments: Backend.allCases)
    func concurrentCounterIncrementsAreExact(_ backend: Backend) async throws {
        try await backend.withStore { store in
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<50 {
                    group.addTask {
                        for _ in 0..<4 {
                            try await store.updateItem(key: key("counter", "c"), actions: [.add("value", 1)], condition: nil, returnValues: .none)
                        }
                    }
                }
                try await group.waitForAll()
            }
            #expect(try await store.getItem(key: key("counter", "c"))?["value"] == 200)
        }
    }

    // MARK: Queries

    @Test(arguments: Backend.allCases)
    func querySortKeyConditionsAndOrder(_ backend: Backend) async throws {
        try await backend.withStore { store in
            for i in 0..<10 { try await store.putItem(["PK": "p", "SK": .s("item#\(i)"), "i": .int(Int64(i))]) }
            try await store.putItem(["PK": "p", "SK": "other"])
            try await store.putItem(["PK": "q", "SK": "item#5"])
            func sks(_ condition: SortKeyCondition?, ascending: Bool = true) async throws -> [String] {
                try await store.query(Query(partitionKey: "p", sortKey: condition, ascending: ascending)).items.compactMap { $0["SK"]?.string }
            }
            #expect(try await sks(nil).count == 11)
            #expect(try await sks(.equal("item#3")) == ["item#3"])
            #expect(try await sks(.less("item#2")) == ["item#0", "item#1"])
            #expect(try await sks(.lessOrEqual("item#1")) == ["item#0", "item#1"])
            #expect(try await sks(.greater("item#8")) == ["item#9", "other"])
            #expect(try await sks(.greaterOrEqual("item#9")) == ["item#9", "other"])
            #expect(try await sks(.between("item#2", "item#4")) == ["item#2", "item#3", "item#4"])
            #expect(try await sks(.beginsWith("item#"), ascending: false) == (0..<10).reversed().map { "item#\($0)" })
            await expectError(.invalidInput) { try await sks(.between("item#4", "item#2")) }
        }
    }

    @Test(arguments: Backend.allCases)
    func paginationAcrossPageBoundaries(_ backend: Backend) async throws {
        try await backend.withStore { store in
            for i in 0..<23 { try await store.putItem(["PK": "p", "SK": .s(String(format: "%03d", i)), "even": .bool(i % 2 == 0)]) }
            for ascending in [true, false] {
                var seen: [String] = []
                var token: PageToken?
                var pages = 0
                repeat {
                    let page = try await store.query(Query(partitionKey: "p", ascending: ascending, limit: 5, startToken: token))
                    #expect(page.items.count <= 5)
                    seen += page.items.compactMap { $0["SK"]?.string }
                    token = page.nextToken
                    pages += 1
                } while token != nil && pages < 50
                let expected = (0..<23).map { String(format: "%03d", $0) }
                #expect(seen == (ascending ? expected : expected.reversed()))
                #expect(pages >= 5)
            }
            // As DynamoDB: a page that stops at its limit has a token even when nothing follows,
            // and the page after it is empty with none.
            let whole = try await store.query(Query(partitionKey: "p", limit: 23))
            #expect(whole.items.count == 23)
            let token: PageToken = try #require(whole.nextToken)
            let after = try await store.query(Query(partitionKey: "p", limit: 23, startToken: token))
            #expect(after.items.isEmpty && after.scannedCount == 0 && after.nextToken == nil)
            #expect(try await store.query(Query(partitionKey: "p", limit: 24)).nextToken == nil)
            // A filter drops items after the limit is applied (DynamoDB semantics).
            let filtered = try await store.query(Query(partitionKey: "p", limit: 4, filter: .equal("even", true)))
            #expect(filtered.scannedCount == 4)
            #expect(filtered.items.count == 2)
            #expect(filtered.nextToken != nil)
        }
    }

    @Test(arguments: Backend.allCases)
    func numericSortKeysOrderNumerically(_ backend: Backend) async throws {
        try await backend.withStore { store in
            let scores = ["-1000", "-2.5", "-2.25", "-2", "-0.001", "0", "0.001", "1", "1.5", "2", "10", "100", "1E+30"]
            for (i, score) in scores.shuffled().enumerated() {
                try await store.putItem(["PK": .s("p\(i)"), "SK": "s", "group": "g", "score": .n(try Number(parsing: score))])
            }
            let page = try await store.query(Query(index: "byScore", partitionKey: "g"))
            let read = page.items.compactMap { $0["score"]?.number }
            #expect(read == scores.map { try! Number(parsing: $0) })
            let between = try await store.query(Query(index: "byScore", partitionKey: "g", sortKey: .between(.int(-2), .int(1))))
            #expect(between.items.count == 5)
        }
    }

    @Test(arguments: Backend.allCases)
    func secondaryIndexesAreMaintainedAndSparse(_ backend: Backend) async throws {
        try await backend.withStore { store in
            try await store.putItem(["PK": "u1", "SK": "u1", "GSI1PK": "EMAIL#a", "GSI1SK": "x", "kind": "user", "secret": "s"])
            try await store.putItem(["PK": "u2", "SK": "u2", "kind": "user"])  // no GSI1 keys: not in GSI1
            try await store.putItem(["PK": "u3", "SK": "u3", "GSI1PK": "EMAIL#a"])  // no GSI1SK: not in GSI1
            var page = try await store.query(Query(index: "GSI1", partitionKey: "EMAIL#a"))
            #expect(page.items.map { $0["PK"] } == ["u1"])

            // Changing the index key moves the entry.
            try await store.updateItem(key: key("u1", "u1"), actions: [.set("GSI1PK", .value("EMAIL#b"))])
            page = try await store.query(Query(index: "GSI1", partitionKey: "EMAIL#a"))
            #expect(page.items.isEmpty)
            page = try await store.query(Query(index: "GSI1", partitionKey: "EMAIL#b"))
            #expect(page.items.map { $0["PK"] } == ["u1"])
            // Other attribute updates show through the index.
            try await store.updateItem(key: key("u1", "u1"), actions: [.set("name", .value("Ada"))])
            page = try await store.query(Query(index: "GSI1", partitionKey: "EMAIL#b"))
            #expect(page.items.first?["name"] == "Ada")
            // Removing the key attribute takes the item out; deleting the item too.
            try await store.updateItem(key: key("u1", "u1"), actions: [.remove("GSI1SK")])
            #expect(try await store.query(Query(index: "GSI1", partitionKey: "EMAIL#b")).items.isEmpty)

            // A keys-only index returns only key attributes.
            let keysOnly = try await store.query(Query(index: "keysOnly", partitionKey: "user"))
            #expect(keysOnly.items.count == 2)
            #expect(keysOnly.items.allSatisfy { Set($0.keys).isSubset(of: ["PK", "SK", "kind"]) })
            try await store.deleteItem(key: key("u2", "u2"))
            #expect(try await store.query(Query(index: "keysOnly", partitionKey: "user")).items.count == 1)

            // Paging through an index with duplicate index sort keys is stable.
            for i in 0..<12 { try await store.putItem(["PK": .s("d\(i)"), "SK": "x", "GSI1PK": "dup", "GSI1SK": "same"]) }
            var seen: [String] = []
            var token: PageToken?
            repeat {
                let page = try await store.query(Query(index: "GSI1", partitionKey: "dup", limit: 5, startToken: token))
                seen += page.items.compactMap { $0["PK"]?.string }
                token = page.nextToken
            } while token != nil
            #expect(Set(seen).count == 12 && seen.count == 12)
        }
    }

    @Test(arguments: Backend.allCases)
    func scanPaginates(_ backend: Backend) async throws {
        try await backend.withStore { store in
            for i in 0..<17 { try await store.putItem(["PK": .s("p\(i % 5)"), "SK": .s("s\(i)"), "GSI1PK": "all", "GSI1SK": .s("\(i)")]) }
            for index in [nil, "GSI1"] as [String?] {
                var count = 0
                var keys = Set<String>()
                var token: PageToken?
                repeat {
                    let page = try await store.scan(Scan(index: index, limit: 4, startToken: token))
                    count += page.items.count
                    keys.formUnion(page.items.compactMap { $0["SK"]?.string })
                    token = page.nextToken
                } while token != nil
                #expect(count == 17 && keys.count == 17)
            }
            let filtered = try await store.scan(Scan(filter: .beginsWith("PK", "p1")))
            #expect(filtered.items.count == 4)
        }
    }

    // MARK: Batches and transactions

    @Test(arguments: Backend.allCases)
    func batchGetAndWrite(_ backend: Backend) async throws {
        try await backend.withStore { store in
            try await store.batchWrite((0..<25).map { .put(["PK": .s("p\($0)"), "SK": "s"]) })
            let items = try await store.batchGet(keys: (0..<30).map { key("p\($0)", "s") })
            #expect(items.count == 25)
            try await store.batchWrite([.delete(key: key("p0", "s")), .put(["PK": "new", "SK": "s"])])
            #expect(try await store.getItem(key: key("p0", "s")) == nil)
            #expect(try await store.getItem(key: key("new", "s")) != nil)
            await expectError(.limitExceeded) { try await store.batchWrite((0..<26).map { .put(["PK": .s("x\($0)"), "SK": "s"]) }) }
            await expectError(.limitExceeded) { try await store.batchGet(keys: (0..<101).map { key("p\($0)", "s") }) }
            await expectError(.invalidInput) { try await store.batchGet(keys: [key("p1", "s"), key("p1", "s")]) }
        }
    }

    @Test(arguments: Backend.allCases)
    func transactionsAreAllOrNothing(_ backend: Backend) async throws {
        try await backend.withStore { store in
            try await store.putItem(["PK": "account", "SK": "a", "balance": 100])
            try await store.putItem(["PK": "account", "SK": "b", "balance": 0])
            try await store.transactWrite([
                .update(key: key("account", "a"), actions: [.add("balance", -30)], condition: .greaterOrEqual("balance", 30)),
                .update(key: key("account", "b"), actions: [.add("balance", 30)]),
                .put(["PK": "log", "SK": "1", "amount": 30], condition: .notExists("PK")),
            ])
            #expect(try await store.getItem(key: key("account", "a"))?["balance"] == 70)
            #expect(try await store.getItem(key: key("account", "b"))?["balance"] == 30)

            let before = try await store.latestChangeCursor()
            let error = await expectError(.transactionCanceled) {
                try await store.transactWrite([
                    .update(key: key("account", "a"), actions: [.add("balance", -500)], condition: .greaterOrEqual("balance", 500)),
                    .update(key: key("account", "b"), actions: [.add("balance", 500)]),
                    .put(["PK": "log", "SK": "2", "amount": 500]),
                    .conditionCheck(key: key("account", "missing"), condition: .exists("PK")),
                    .update(key: key("account", "x"), actions: [.add("name", 1)], condition: nil),
                ])
            }
            let reasons = try #require(error?.cancellationReasons)
            #expect(reasons.count == 5)
            if case .conditionalCheckFailed(let old) = reasons[0] { #expect(old?["balance"] == 70) } else { Issue.record("reason 0: \(reasons[0])") }
            #expect(reasons[1] == .none && reasons[2] == .none)
            if case .conditionalCheckFailed(nil) = reasons[3] {} else { Issue.record("reason 3: \(reasons[3])") }
            #expect(reasons[4] == .none)
            // No trace: balances, the log item and the change feed are as before.
            #expect(try await store.getItem(key: key("account", "a"))?["balance"] == 70)
            #expect(try await store.getItem(key: key("account", "b"))?["balance"] == 30)
            #expect(try await store.getItem(key: key("log", "2")) == nil)
            #expect(try await store.latestChangeCursor() == before)
            #expect(try await store.changes(after: before, limit: 10).isEmpty)

            // A type error in one action is a validation reason, and cancels the rest.
            let typeError = await expectError(.transactionCanceled) {
                try await store.transactWrite([
                    .put(["PK": "log", "SK": "3"]),
                    .update(key: key("account", "a"), actions: [.add("balance", "text")]),
                ])
            }
            if case .validationError? = typeError?.cancellationReasons?.last {} else { Issue.record("expected a validation reason") }
            #expect(try await store.getItem(key: key("log", "3")) == nil)

            await expectError(.invalidInput) {
                try await store.transactWrite([.put(["PK": "x", "SK": "1"]), .delete(key: key("x", "1"))])
            }
            await expectError(.limitExceeded) {
                try await store.transactWrite((0..<101).map { .put(["PK": .s("t\($0)"), "SK": "s"]) })
            }
            try await store.transactWrite((0..<100).map { .put(["PK": .s("t\($0)"), "SK": "s"]) })
            #expect(try await store.getItem(key: key("t99", "s")) != nil)
        }
    }

    // MARK: Limits and bad input

    @Test(arguments: Backend.allCases)
    func limitsAreEnforced(_ backend: Backend) async throws {
        try await backend.withStore { store in
            let big = String(repeating: "x", count: 400 * 1024)
            await expectError(.limitExceeded) { try await store.putItem(["PK": "p", "SK": "s", "data": .s(big)]) }
            try await store.putItem(["PK": "p", "SK": "s", "data": .s(String(repeating: "x", count: 390 * 1024))])
            await expectError(.limitExceeded) { try await store.putItem(["PK": .s(String(repeating: "k", count: 2049)), "SK": "s"]) }
            await expectError(.limitExceeded) { try await store.putItem(["PK": "p", "SK": .s(String(repeating: "k", count: 1025))]) }
            try await store.putItem(["PK": .s(String(repeating: "k", count: 2048)), "SK": .s(String(repeating: "k", count: 1024))])
            await expectError(.limitExceeded) { try await store.putItem(["PK": "p", "SK": "n", "n": .n(try Number(parsing: "1" + String(repeating: "3", count: 40) + ".5"))]) }
            // Updates that grow an item past the limit are refused too.
            await expectError(.limitExceeded) { try await store.updateItem(key: key("p", "s"), actions: [.set("more", .value(.s(String(repeating: "y", count: 20 * 1024))))]) }
        }
    }

    @Test(arguments: Backend.allCases)
    func badInputGetsClearErrors(_ backend: Backend) async throws {
        try await backend.withStore { store in
            try await store.putItem(["PK": "p", "SK": "s"])
            await expectError(.invalidInput, "empty key") { try await store.putItem(["PK": "", "SK": "s"]) }
            await expectError(.invalidInput, "wrong key type") { try await store.putItem(["PK": 5, "SK": "s"]) }
            await expectError(.invalidInput, "missing sort key") { try await store.putItem(["PK": "p"]) }
            await expectError(.invalidInput, "extra key attribute") { try await store.getItem(key: ["PK": "p", "SK": "s", "x": 1]) }
            await expectError(.invalidInput, "wrong GSI key type") { try await store.putItem(["PK": "p", "SK": "t", "group": "g", "score": "high"]) }
            await expectError(.invalidInput, "empty set") { try await store.putItem(["PK": "p", "SK": "t", "set": .ss([])]) }
            await expectError(.invalidInput, "unknown index") { try await store.query(Query(index: "nope", partitionKey: "p")) }
            await expectError(.invalidInput, "zero limit") { try await store.query(Query(partitionKey: "p", limit: 0)) }
            await expectError(.invalidInput, "begins_with on a number") { try await store.query(Query(index: "byScore", partitionKey: "g", sortKey: .beginsWith("1"))) }
            await expectError(.invalidInput, "sort key type") { try await store.query(Query(partitionKey: "p", sortKey: .equal(1))) }
            await expectError(.invalidInput, "malformed token") { try await store.query(Query(partitionKey: "p", startToken: PageToken("not a token!"))) }
            await expectError(.invalidInput, "garbage token") { try await store.query(Query(partitionKey: "p", startToken: PageToken(String(repeating: "A", count: 40)))) }
            await expectError(.invalidInput, "condition path") { try await store.putItem(["PK": "p", "SK": "s"], condition: .exists("a[")) }
            await expectError(.invalidInput, "bad change cursor") { try await store.changes(after: ChangeCursor("x"), limit: 5) }

            // A real token, tampered with or used for another partition or index, is refused.
            for i in 0..<5 { try await store.putItem(["PK": "q", "SK": .s("\(i)"), "GSI1PK": "g", "GSI1SK": "x"]) }
            let token = try #require(try await store.query(Query(partitionKey: "q", limit: 2)).nextToken)
            var bytes = Array(token.text.utf8)
            bytes[bytes.count / 2] = bytes[bytes.count / 2] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
            await expectError(.invalidInput, "tampered token") { try await store.query(Query(partitionKey: "q", limit: 2, startToken: PageToken(String(decoding: bytes, as: UTF8.self)))) }
            await expectError(.invalidInput, "other partition") { try await store.query(Query(partitionKey: "p", startToken: token)) }
            await expectError(.invalidInput, "other index") { try await store.query(Query(index: "GSI1", partitionKey: "g", startToken: token)) }
            #expect(try await store.query(Query(partitionKey: "q", limit: 2, startToken: token)).items.count == 2)
        }
    }

    // MARK: Change feed

    @Test(arguments: Backend.allCases)
    func changeFeedRecordsEveryChangeInOrder(_ backend: Backend) async throws {
        try await backend.withStore { store in
            let start = try await store.latestChangeCursor()
            try await store.putItem(["PK": "p", "SK": "1", "v": 1])
            try await store.putItem(["PK": "p", "SK": "1", "v": 1])  // changes nothing: no record
            try await store.updateItem(key: key("p", "1"), actions: [.set("v", .value(2))])
            try await store.deleteItem(key: key("p", "1"))
            try await store.deleteItem(key: key("p", "never"))  // no change: nothing was there
            let changes = try await store.changes(after: start, limit: 100)
            #expect(changes.map(\.kind) == [.insert, .modify, .remove])
            #expect(changes[0].oldImage == nil && changes[0].newImage?["v"] == 1)
            #expect(changes[1].oldImage?["v"] == 1 && changes[1].newImage?["v"] == 2)
            #expect(changes[2].oldImage?["v"] == 2 && changes[2].newImage == nil)
            #expect(changes.allSatisfy { $0.key == key("p", "1") })
            #expect(changes[0].cursor < changes[1].cursor && changes[1].cursor < changes[2].cursor)
            // Resuming from a cursor returns exactly what came after it.
            let resumed = try await store.changes(after: changes[0].cursor, limit: 100)
            #expect(resumed.map(\.cursor) == [changes[1].cursor, changes[2].cursor])
            #expect(try await store.changes(after: changes[1].cursor, limit: 1).map(\.cursor) == [changes[2].cursor])

            // A follower sees a change made after it subscribed.
            let feed = store.changeFeed(after: try await store.latestChangeCursor(), pollInterval: .milliseconds(10))
            try await store.putItem(["PK": "later", "SK": "x"])
            var iterator = feed.makeAsyncIterator()
            let next = try await iterator.next()
            #expect(next?.key == key("later", "x"))
        }
    }

    // MARK: Codable

    @Test(arguments: Backend.allCases)
    func codableRoundTrip(_ backend: Backend) async throws {
        try await backend.withStore { store in
            let video = Video(owner: "ada", title: "Café tour", description: "A walk", tags: ["food", "paris"], status: .ready,
                              duration: .milliseconds(93_500), renditions: [Rendition(name: "720p", width: 1280, height: 720, videoBitRate: 2_800_000)],
                              views: 12)
            var item = try ItemEncoder().encode(video)
            #expect(item["failureReason"] == nil, "nil optionals are left out, so sparse indexes work")
            #expect(item["status"] == "ready")
            #expect(item["duration"] == .n(try Number(93.5)), "a duration is stored as a number of seconds")
            item["PK"] = .s("VIDEO#\(video.id)")
            item["SK"] = .s("VIDEO#\(video.id)")
            try await store.putItem(item)
            let read = try #require(try await store.getItem(key: key("VIDEO#\(video.id)", "VIDEO#\(video.id)")))
            let decoded = try ItemDecoder().decode(Video.self, from: read)
            #expect(decoded.id == video.id)
            #expect(decoded.title == video.title && decoded.tags == video.tags && decoded.renditions == video.renditions)
            #expect(decoded.duration == video.duration)
            #expect(abs(decoded.createdAt.timeIntervalSince(video.createdAt)) < 0.001)
            await expectError(.corrupt) { try ItemDecoder().decode(Video.self, from: ["title": 5]) }
        }
    }
}
