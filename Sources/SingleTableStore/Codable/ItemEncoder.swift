internal import Foundation
internal import VideoCore

/// Turns an `Encodable` value into an ``Item`` (or any ``AttributeValue``).
///
/// Strings become `S`, numbers `N` (exactly), `Bool` `BOOL`, `Data` `B`, `Date` an `N` of seconds
/// since 1970, arrays `L`, structs and dictionaries with string keys `M`, nil `NULL` (or the
/// attribute is left out, with ``omitNils``, so that sparse indexes work).
public struct ItemEncoder: Sendable {
    /// Leave out attributes whose value is nil instead of storing `NULL` (default true).
    public var omitNils: Bool = true

    public init() {}

    /// Encodes a value that encodes as a keyed container (a struct or a dictionary).
    public func encode<T: Encodable>(_ value: T) throws -> Item {
        guard case .m(let map) = try encodeValue(value) else {
            throw VideoStackError(.invalidInput, "\(T.self) does not encode as a map of attributes, so it cannot be an item.")
        }
        return map
    }

    /// Encodes any value as one attribute value.
    public func encodeValue<T: Encodable>(_ value: T) throws -> AttributeValue {
        let node = Node()
        try _Encoder(node: node, omitNils: omitNils, codingPath: []).encodeAny(value)
        guard let result = node.materialize() else {
            throw VideoStackError(.invalidInput, "\(T.self) encoded no value.")
        }
        return result
    }
}

/// A value under construction. Containers add children to nodes; the tree becomes an
/// ``AttributeValue`` once encoding is done, so nested containers need no write-back.
private final class Node {
    var scalar: AttributeValue?
    var map: [String: Node]?
    var list: [Node]?

    func materialize() -> AttributeValue? {
        if let map { return .m(map.compactMapValues { $0.materialize() }) }
        if let list { return .l(list.map { $0.materialize() ?? .null }) }
        return scalar
    }
}

private struct _Encoder: Encoder {
    let node: Node
    let omitNils: Bool
    let codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func encodeAny<T: Encodable>(_ value: T) throws {
        if let special = try _Encoder.special(value) {
            node.scalar = special
        } else {
            try value.encode(to: self)
        }
    }

    /// Types with a fixed attribute form, whatever their own `encode(to:)` does.
    static func special<T: Encodable>(_ value: T) throws -> AttributeValue? {
        switch value {
        case let v as Data: return .b([UInt8](v))
        // Compare types, not values: an empty [String] would cast to [UInt8].
        case let v as [UInt8] where T.self == [UInt8].self: return .b(v)
        case let v as Date: return .n(try Number(v.timeIntervalSince1970))
        case let v as Decimal: return .n(try Number(checked: v))
        case let v as Number: return .n(v)
        case let v as AttributeValue: return v
        case let v as URL: return .s(v.absoluteString)
        default: return nil
        }
    }

    func child(_ node: Node, _ key: (any CodingKey)?) -> _Encoder {
        _Encoder(node: node, omitNils: omitNils, codingPath: key.map { codingPath + [$0] } ?? codingPath)
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        if node.map == nil { node.map = [:] }
        return KeyedEncodingContainer(KeyedContainer<Key>(encoder: self))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        if node.list == nil { node.list = [] }
        return UnkeyedContainer(encoder: self)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer { SingleContainer(encoder: self) }

    static func number<I: BinaryInteger>(_ v: I) throws -> AttributeValue {
        if let small = Int64(exactly: v) { return .n(Number(small)) }
        return .n(try Number(parsing: String(v)))
    }

    static func scalar<T: Encodable>(_ value: T) throws -> AttributeValue? {
        switch value {
        case let v as Bool: return .bool(v)
        case let v as String: return .s(v)
        case let v as Double: return .n(try Number(v))
        case let v as Float: return .n(try Number(Double(v)))
        case let v as Int: return try number(v)
        case let v as Int64: return try number(v)
        case let v as Int32: return try number(v)
        case let v as Int16: return try number(v)
        case let v as Int8: return try number(v)
        case let v as UInt: return try number(v)
        case let v as UInt64: return try number(v)
        case let v as UInt32: return try number(v)
        case let v as UInt16: return try number(v)
        case let v as UInt8: return try number(v)
        default: return nil
        }
    }

    struct KeyedContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
        let encoder: _Encoder
        var codingPath: [any CodingKey] { encoder.codingPath }

        mutating func encodeNil(forKey key: Key) throws {
            if !encoder.omitNils { encoder.node.map![key.stringValue] = Node(scalar: .null) }
        }
        mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
            let child = Node()
            if let scalar = try _Encoder.scalar(value) { child.scalar = scalar } else { try encoder.child(child, key).encodeAny(value) }
            encoder.node.map![key.stringValue] = child
        }
        mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key) -> KeyedEncodingContainer<NestedKey> {
            let child = Node()
            encoder.node.map![key.stringValue] = child
            return encoder.child(child, key).container(keyedBy: keyType)
        }
        mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
            let child = Node()
            encoder.node.map![key.stringValue] = child
            return encoder.child(child, key).unkeyedContainer()
        }
        mutating func superEncoder() -> any Encoder { encoder }
        mutating func superEncoder(forKey key: Key) -> any Encoder { encoder }
    }

    struct UnkeyedContainer: UnkeyedEncodingContainer {
        let encoder: _Encoder
        var codingPath: [any CodingKey] { encoder.codingPath }
        var count: Int { encoder.node.list!.count }

        mutating func encodeNil() throws { encoder.node.list!.append(Node(scalar: .null)) }
        mutating func encode<T: Encodable>(_ value: T) throws {
            let child = Node()
            if let scalar = try _Encoder.scalar(value) { child.scalar = scalar } else { try encoder.child(child, nil).encodeAny(value) }
            encoder.node.list!.append(child)
        }
        mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
            let child = Node()
            encoder.node.list!.append(child)
            return encoder.child(child, nil).container(keyedBy: keyType)
        }
        mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
            let child = Node()
            encoder.node.list!.append(child)
            return encoder.child(child, nil).unkeyedContainer()
        }
        mutating func superEncoder() -> any Encoder { encoder }
    }

    struct SingleContainer: SingleValueEncodingContainer {
        let encoder: _Encoder
        var codingPath: [any CodingKey] { encoder.codingPath }

        mutating func encodeNil() throws { encoder.node.scalar = .null }
        mutating func encode<T: Encodable>(_ value: T) throws {
            if let scalar = try _Encoder.scalar(value) { encoder.node.scalar = scalar } else { try encoder.encodeAny(value) }
        }
    }
}

extension Node {
    convenience init(scalar: AttributeValue) {
        self.init()
        self.scalar = scalar
    }
}
