internal import Foundation
internal import VideoCore

/// Turns an ``Item`` (or any ``AttributeValue``) back into a `Decodable` value, the inverse of
/// ``ItemEncoder``. A type mismatch throws `corrupt` naming the attribute path.
public struct ItemDecoder: Sendable {
    public init() {}

    public func decode<T: Decodable>(_ type: T.Type, from item: Item) throws -> T {
        try decode(type, fromValue: .m(item))
    }

    public func decode<T: Decodable>(_ type: T.Type, fromValue value: AttributeValue) throws -> T {
        do {
            return try _Decoder(value: value, codingPath: []).decodeAny(type)
        } catch let error as DecodingError {
            throw VideoStackError(.corrupt, "The item does not decode as \(T.self): \(ItemDecoder.describe(error))", cause: ErrorDescription(error))
        }
    }

    static func describe(_ error: DecodingError) -> String {
        func path(_ context: DecodingError.Context) -> String {
            context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
        }
        switch error {
        case .keyNotFound(let key, let context): return "missing attribute '\((path(context).isEmpty ? "" : path(context) + ".") + key.stringValue)'."
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context):
            return "at '\(path(context))': \(context.debugDescription)"
        @unknown default: return "\(error)"
        }
    }
}

private struct _Decoder: Decoder {
    let value: AttributeValue
    /// The path to the container holding this value, and its key there: the full path is only
    /// built when asked for (errors, nested containers), not for every field.
    private let parentPath: [any CodingKey]
    private let key: (any CodingKey)?
    var codingPath: [any CodingKey] { key.map { parentPath + [$0] } ?? parentPath }
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    init(value: AttributeValue, codingPath: [any CodingKey], key: (any CodingKey)? = nil) {
        self.value = value
        self.parentPath = codingPath
        self.key = key
    }

    func decodeAny<T: Decodable>(_ type: T.Type) throws -> T {
        if let special = try special(type) { return special }
        return try T(from: self)
    }

    private func mismatch(_ expected: String) -> DecodingError {
        Self.mismatch(value, expected: expected, codingPath: codingPath)
    }

    private func special<T: Decodable>(_ type: T.Type) throws -> T? {
        if type == Data.self {
            guard case .b(let b) = value else { throw mismatch("B") }
            return Data(b) as? T
        }
        if type == [UInt8].self, case .b(let b) = value { return b as? T }
        if type == Date.self {
            guard case .n(let n) = value else { throw mismatch("N (seconds since 1970)") }
            return Date(timeIntervalSince1970: n.doubleValue) as? T
        }
        if type == Decimal.self {
            guard case .n(let n) = value else { throw mismatch("N") }
            return n.decimal as? T
        }
        if type == Number.self {
            guard case .n(let n) = value else { throw mismatch("N") }
            return n as? T
        }
        if type == AttributeValue.self { return value as? T }
        if type == URL.self {
            guard case .s(let s) = value, let url = URL(string: s) else { throw mismatch("S holding a URL") }
            return url as? T
        }
        return try scalar(type)
    }

    func scalar<T>(_ type: T.Type) throws -> T? {
        switch type {
        case is Bool.Type: return try Self.bool(value, codingPath: codingPath) as? T
        case is String.Type: return try Self.string(value, codingPath: codingPath) as? T
        case is Double.Type: return try Self.double(value, codingPath: codingPath) as? T
        case is Float.Type:
            guard case .n(let n) = value else { throw mismatch("N") }
            return Float(n.doubleValue) as? T
        case is Int.Type: return try integer(Int.self) as? T
        case is Int64.Type: return try integer(Int64.self) as? T
        case is Int32.Type: return try integer(Int32.self) as? T
        case is Int16.Type: return try integer(Int16.self) as? T
        case is Int8.Type: return try integer(Int8.self) as? T
        case is UInt.Type: return try integer(UInt.self) as? T
        case is UInt64.Type: return try integer(UInt64.self) as? T
        case is UInt32.Type: return try integer(UInt32.self) as? T
        case is UInt16.Type: return try integer(UInt16.self) as? T
        case is UInt8.Type: return try integer(UInt8.self) as? T
        default: return nil
        }
    }

    private func integer<I: FixedWidthInteger>(_ type: I.Type) throws -> I {
        try Self.integer(value, codingPath: codingPath)
    }

    // The typed reads below serve the containers' concrete `decode(String.self)`-style
    // requirements directly, so a field of a plain type costs a lookup and a pattern match, not
    // a child decoder, a coding path and the generic checks of `decodeAny`. The coding path is
    // only built for an error.

    static func mismatch(_ value: AttributeValue, expected: String, codingPath: @autoclosure () -> [any CodingKey]) -> DecodingError {
        .typeMismatch(Any.self, .init(codingPath: codingPath(), debugDescription: "expected \(expected), found \(value.typeName)"))
    }

    static func string(_ value: AttributeValue, codingPath: @autoclosure () -> [any CodingKey]) throws -> String {
        guard case .s(let s) = value else { throw mismatch(value, expected: "S", codingPath: codingPath()) }
        return s
    }

    static func bool(_ value: AttributeValue, codingPath: @autoclosure () -> [any CodingKey]) throws -> Bool {
        guard case .bool(let b) = value else { throw mismatch(value, expected: "BOOL", codingPath: codingPath()) }
        return b
    }

    static func double(_ value: AttributeValue, codingPath: @autoclosure () -> [any CodingKey]) throws -> Double {
        guard case .n(let n) = value else { throw mismatch(value, expected: "N", codingPath: codingPath()) }
        return n.doubleValue
    }

    static func integer<I: FixedWidthInteger>(_ value: AttributeValue, codingPath: @autoclosure () -> [any CodingKey]) throws -> I {
        guard case .n(let n) = value else { throw mismatch(value, expected: "N", codingPath: codingPath()) }
        guard let result = I(n.text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: codingPath(), debugDescription: "\(n) does not fit in \(I.self)"))
        }
        return result
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard case .m(let map) = value else { throw mismatch("M") }
        return KeyedDecodingContainer(Keyed<Key>(map: map, codingPath: codingPath))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        switch value {
        case .l(let list): return Unkeyed(values: list, codingPath: codingPath)
        case .ss(let set): return Unkeyed(values: set.sorted().map(AttributeValue.s), codingPath: codingPath)
        case .ns(let set): return Unkeyed(values: set.sorted().map(AttributeValue.n), codingPath: codingPath)
        case .bs(let set): return Unkeyed(values: set.sorted { $0.lexicographicallyPrecedes($1) }.map(AttributeValue.b), codingPath: codingPath)
        default: throw mismatch("L")
        }
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer { Single(decoder: self) }

    struct Keyed<Key: CodingKey>: KeyedDecodingContainerProtocol {
        let map: [String: AttributeValue]
        let codingPath: [any CodingKey]
        var allKeys: [Key] { map.keys.compactMap { Key(stringValue: $0) } }

        func contains(_ key: Key) -> Bool { map[key.stringValue] != nil }

        private func child(_ key: Key) throws -> _Decoder {
            guard let value = map[key.stringValue] else {
                throw DecodingError.keyNotFound(key, .init(codingPath: codingPath, debugDescription: "missing"))
            }
            return _Decoder(value: value, codingPath: codingPath, key: key)
        }

        func decodeNil(forKey key: Key) throws -> Bool {
            guard let value = map[key.stringValue] else { return true }
            return value == .null
        }
        func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T { try child(key).decodeAny(type) }

        private func value(_ key: Key) throws -> AttributeValue {
            guard let value = map[key.stringValue] else {
                throw DecodingError.keyNotFound(key, .init(codingPath: codingPath, debugDescription: "missing"))
            }
            return value
        }
        /// The value unless it is absent or `NULL` (what `decodeIfPresent` treats as nil).
        private func present(_ key: Key) -> AttributeValue? {
            guard let value = map[key.stringValue], value != .null else { return nil }
            return value
        }

        func decode(_ type: String.Type, forKey key: Key) throws -> String { try _Decoder.string(value(key), codingPath: codingPath + [key]) }
        func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool { try _Decoder.bool(value(key), codingPath: codingPath + [key]) }
        func decode(_ type: Double.Type, forKey key: Key) throws -> Double { try _Decoder.double(value(key), codingPath: codingPath + [key]) }
        func decode(_ type: Int.Type, forKey key: Key) throws -> Int { try _Decoder.integer(value(key), codingPath: codingPath + [key]) }
        func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 { try _Decoder.integer(value(key), codingPath: codingPath + [key]) }
        func decodeIfPresent(_ type: String.Type, forKey key: Key) throws -> String? {
            try present(key).map { try _Decoder.string($0, codingPath: codingPath + [key]) }
        }
        func decodeIfPresent(_ type: Bool.Type, forKey key: Key) throws -> Bool? {
            try present(key).map { try _Decoder.bool($0, codingPath: codingPath + [key]) }
        }
        func decodeIfPresent(_ type: Double.Type, forKey key: Key) throws -> Double? {
            try present(key).map { try _Decoder.double($0, codingPath: codingPath + [key]) }
        }
        func decodeIfPresent(_ type: Int.Type, forKey key: Key) throws -> Int? {
            try present(key).map { try _Decoder.integer($0, codingPath: codingPath + [key]) }
        }
        func decodeIfPresent(_ type: Int64.Type, forKey key: Key) throws -> Int64? {
            try present(key).map { try _Decoder.integer($0, codingPath: codingPath + [key]) }
        }
        func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws -> KeyedDecodingContainer<NestedKey> {
            try child(key).container(keyedBy: type)
        }
        func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer { try child(key).unkeyedContainer() }
        func superDecoder() throws -> any Decoder { _Decoder(value: .m(map), codingPath: codingPath) }
        func superDecoder(forKey key: Key) throws -> any Decoder { try child(key) }
    }

    struct Unkeyed: UnkeyedDecodingContainer {
        let values: [AttributeValue]
        let codingPath: [any CodingKey]
        var currentIndex = 0
        var count: Int? { values.count }
        var isAtEnd: Bool { currentIndex >= values.count }

        init(values: [AttributeValue], codingPath: [any CodingKey]) {
            self.values = values
            self.codingPath = codingPath
        }

        private mutating func next() throws -> _Decoder {
            guard !isAtEnd else {
                throw DecodingError.valueNotFound(Any.self, .init(codingPath: codingPath, debugDescription: "the list has only \(values.count) elements"))
            }
            defer { currentIndex += 1 }
            return _Decoder(value: values[currentIndex], codingPath: codingPath)
        }

        mutating func decodeNil() throws -> Bool {
            guard !isAtEnd, values[currentIndex] == .null else { return false }
            currentIndex += 1
            return true
        }
        mutating func decode<T: Decodable>(_ type: T.Type) throws -> T { try next().decodeAny(type) }
        mutating func decode(_ type: String.Type) throws -> String {
            let decoder = try next()
            return try _Decoder.string(decoder.value, codingPath: decoder.codingPath)
        }
        mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> {
            try next().container(keyedBy: type)
        }
        mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer { try next().unkeyedContainer() }
        mutating func superDecoder() throws -> any Decoder { try next() }
    }

    struct Single: SingleValueDecodingContainer {
        let decoder: _Decoder
        var codingPath: [any CodingKey] { decoder.codingPath }
        func decodeNil() -> Bool { decoder.value == .null }
        func decode<T: Decodable>(_ type: T.Type) throws -> T { try decoder.decodeAny(type) }
        func decode(_ type: String.Type) throws -> String { try _Decoder.string(decoder.value, codingPath: decoder.codingPath) }
        func decode(_ type: Bool.Type) throws -> Bool { try _Decoder.bool(decoder.value, codingPath: decoder.codingPath) }
        func decode(_ type: Double.Type) throws -> Double { try _Decoder.double(decoder.value, codingPath: decoder.codingPath) }
        func decode(_ type: Int.Type) throws -> Int { try _Decoder.integer(decoder.value, codingPath: decoder.codingPath) }
        func decode(_ type: Int64.Type) throws -> Int64 { try _Decoder.integer(decoder.value, codingPath: decoder.codingPath) }
    }
}
