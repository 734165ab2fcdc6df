import Foundation
internal import SingleTableStore
internal import VideoCore

/// Items in DynamoDB's JSON wire form (`{"S": "…"}`, `{"N": "12"}`, `{"B": base64}`, …).
enum DynamoDBJSON {
    static func encode(_ value: AttributeValue) -> JSON {
        switch value {
        case .s(let s): return .object(["S": .string(s)])
        case .n(let n): return .object(["N": .string(n.text)])
        case .b(let b): return .object(["B": .string(Data(b).base64EncodedString())])
        case .bool(let b): return .object(["BOOL": .bool(b)])
        case .null: return .object(["NULL": .bool(true)])
        case .l(let list): return .object(["L": .array(list.map(encode))])
        case .m(let map): return .object(["M": .object(map.mapValues(encode))])
        case .ss(let set): return .object(["SS": .array(set.sorted().map { .string($0) })])
        case .ns(let set): return .object(["NS": .array(set.map { .string($0.text) }.sorted { $0.string! < $1.string! })])
        case .bs(let set): return .object(["BS": .array(set.map { .string(Data($0).base64EncodedString()) }.sorted { $0.string! < $1.string! })])
        }
    }

    static func encode(_ item: Item) -> JSON { .object(item.mapValues(encode)) }

    static func decode(_ json: JSON) throws -> AttributeValue {
        guard let object = json.object, object.count == 1, let (type, body) = object.first else {
            throw VideoStackError(.corrupt, "DynamoDB sent an attribute value that is not a one-member object: \(json.text.prefix(120))")
        }
        func fail() -> VideoStackError {
            VideoStackError(.corrupt, "DynamoDB sent a malformed \(type) attribute value: \(json.text.prefix(120))")
        }
        switch type {
        case "S": guard let s = body.string else { throw fail() }; return .s(s)
        case "N": guard let s = body.string else { throw fail() }; return .n(try number(s))
        case "B": guard let s = body.string, let data = Data(base64Encoded: s) else { throw fail() }; return .b(Array(data))
        case "BOOL": guard let b = body.bool else { throw fail() }; return .bool(b)
        case "NULL": return .null
        case "L": guard let list = body.array else { throw fail() }; return .l(try list.map(decode))
        case "M": guard let map = body.object else { throw fail() }; return .m(try map.mapValues(decode))
        case "SS": guard let list = body.array else { throw fail() }; return .ss(Set(try list.map { guard let s = $0.string else { throw fail() }; return s }))
        case "NS": guard let list = body.array else { throw fail() }; return .ns(Set(try list.map { guard let s = $0.string else { throw fail() }; return try number(s) }))
        case "BS":
            guard let list = body.array else { throw fail() }
            return .bs(Set(try list.map { guard let s = $0.string, let d = Data(base64Encoded: s) else { throw fail() }; return Array(d) }))
        default: throw fail()
        }
    }

    static func decodeItem(_ json: JSON?) throws -> Item? {
        guard let json, json != .null else { return nil }
        guard let object = json.object else {
            throw VideoStackError(.corrupt, "DynamoDB sent an item that is not an object: \(json.text.prefix(120))")
        }
        return try object.mapValues(decode)
    }

    private static func number(_ text: String) throws -> Number {
        do { return try Number(parsing: text) } catch {
            throw VideoStackError(.corrupt, "DynamoDB sent the number '\(text.prefix(60))', which is not a decimal number.", cause: error as? VideoStackError)
        }
    }
}
