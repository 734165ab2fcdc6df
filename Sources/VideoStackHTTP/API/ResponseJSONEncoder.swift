internal import Foundation

/// Encodes the API's responses to JSON as it goes, straight into bytes: what Foundation's
/// `JSONEncoder` (with `.iso8601` dates and unescaped slashes) writes for the same values, at a
/// fraction of its cost, which was a large share of a `GET /videos/{id}`.
///
/// It writes each value when the `Encodable` conformance hands it over, so containers must be
/// filled in order (a nested container is closed once its parent writes again). Anything it does
/// not cover — a container written to after it was closed, a second container from one encoder,
/// `superEncoder`, non-finite numbers, nothing encoded at all — makes ``encode(_:)`` return nil,
/// and the caller falls back to `JSONEncoder`, which answers or throws as it always did.
enum ResponseJSONEncoder {
    /// The JSON of `value`, or nil when the value needs `JSONEncoder` (see the type's note).
    static func encode<T: Encodable>(_ value: T) -> [UInt8]? {
        let output = JSONOutput()
        let encoder = StreamingEncoder(output: output, depth: 0)
        do {
            try encoder.encodeValue(value)
        } catch {
            return nil
        }
        output.close(above: 0)
        guard !output.unsupported, output.byteCount > 0 else { return nil }
        return output.json.bytes
    }
}

/// A response body that lists its fields once, for two writers: ``JSONObjectWriter``, which
/// writes the JSON straight into bytes (the `Encoder` machinery cost more than the rest of a
/// `GET /videos/{id}` together), and an `Encoder`'s keyed container, which is its `Encodable`
/// conformance (for `JSONEncoder` and anything else that encodes it). For the hottest bodies only.
protocol DirectJSONEncodable: Encodable {
    /// Writes the fields in order; the names are static ASCII that needs no escaping.
    func writeFields<Fields: JSONFields>(to fields: inout Fields)
}

/// What a ``DirectJSONEncodable`` writes its fields to.
protocol JSONFields {
    mutating func field(_ key: StaticString, _ value: String)
    mutating func field(_ key: StaticString, _ value: String?)
    mutating func field(_ key: StaticString, _ value: [String])
    mutating func field(_ key: StaticString, _ value: Double?)
    mutating func field(_ key: StaticString, _ value: Int64)
    mutating func field(_ key: StaticString, _ value: Int)
    /// A time as `JSONEncoder`'s `.iso8601` writes it (whole seconds, UTC).
    mutating func field(_ key: StaticString, _ value: Date)
    /// A nested object.
    mutating func field(_ key: StaticString, _ value: some DirectJSONEncodable)
}

extension DirectJSONEncodable {
    /// The fields into the encoder's keyed container (optionals as `null`, as `encode` writes them).
    func encode(to encoder: any Encoder) throws {
        var fields = EncoderFields(container: encoder.container(keyedBy: EncoderFields.Key.self))
        writeFields(to: &fields)
        if let failure = fields.failure { throw failure }
    }
}

/// ``JSONFields`` over an `Encoder`'s keyed container; the first error is kept for `encode` to throw.
private struct EncoderFields: JSONFields {
    struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
        init(_ name: StaticString) { stringValue = name.description }
    }

    var container: KeyedEncodingContainer<Key>
    var failure: (any Error)?

    private mutating func put(_ body: (inout KeyedEncodingContainer<Key>) throws -> Void) {
        guard failure == nil else { return }
        do { try body(&container) } catch { failure = error }
    }

    mutating func field(_ key: StaticString, _ value: String) { put { try $0.encode(value, forKey: Key(key)) } }
    mutating func field(_ key: StaticString, _ value: String?) { put { try $0.encode(value, forKey: Key(key)) } }
    mutating func field(_ key: StaticString, _ value: [String]) { put { try $0.encode(value, forKey: Key(key)) } }
    mutating func field(_ key: StaticString, _ value: Double?) { put { try $0.encode(value, forKey: Key(key)) } }
    mutating func field(_ key: StaticString, _ value: Int64) { put { try $0.encode(value, forKey: Key(key)) } }
    mutating func field(_ key: StaticString, _ value: Int) { put { try $0.encode(value, forKey: Key(key)) } }
    mutating func field(_ key: StaticString, _ value: Date) { put { try $0.encode(value, forKey: Key(key)) } }
    mutating func field(_ key: StaticString, _ value: some DirectJSONEncodable) { put { try $0.encode(value, forKey: Key(key)) } }
}

/// Writes one JSON object's fields in order, for ``DirectJSONEncodable`` types; values are escaped
/// and formatted as `JSONEncoder` does.
struct JSONObjectWriter: JSONFields {
    fileprivate var json: JSONBytes
    private var empty = true

    /// Starts an object at the end of `source`, which it takes over (`finish` hands it back), so
    /// the bytes are never copied.
    fileprivate init(taking source: inout JSONBytes) {
        json = source
        source = JSONBytes()
        json.bytes.append(UInt8(ascii: "{"))
    }

    /// Closes the object and hands back the bytes.
    fileprivate consuming func finish() -> JSONBytes {
        json.bytes.append(UInt8(ascii: "}"))
        return json
    }

    private mutating func name(_ name: StaticString) {
        if !empty { json.bytes.append(UInt8(ascii: ",")) }
        empty = false
        json.bytes.append(UInt8(ascii: "\""))
        json.literal(name)
        json.bytes.append(UInt8(ascii: "\""))
        json.bytes.append(UInt8(ascii: ":"))
    }

    mutating func field(_ key: StaticString, _ value: String) {
        name(key)
        json.string(value)
    }

    mutating func field(_ key: StaticString, _ value: String?) {
        name(key)
        if let value { json.string(value) } else { json.literal("null") }
    }

    mutating func field(_ key: StaticString, _ value: [String]) {
        name(key)
        json.bytes.append(UInt8(ascii: "["))
        for (index, element) in value.enumerated() {
            if index > 0 { json.bytes.append(UInt8(ascii: ",")) }
            json.string(element)
        }
        json.bytes.append(UInt8(ascii: "]"))
    }

    mutating func field(_ key: StaticString, _ value: Double?) {
        name(key)
        if let value { json.double(value) } else { json.literal("null") }
    }

    mutating func field(_ key: StaticString, _ value: Int64) {
        name(key)
        json.integer(value)
    }

    mutating func field(_ key: StaticString, _ value: Int) {
        name(key)
        json.integer(value)
    }

    mutating func field(_ key: StaticString, _ value: Date) {
        name(key)
        json.date(value)
    }

    mutating func field(_ key: StaticString, _ value: some DirectJSONEncodable) {
        name(key)
        var nested = JSONObjectWriter(taking: &json)
        value.writeFields(to: &nested)
        json = nested.finish()
    }
}

/// JSON text being written, a value so that appending to it costs no exclusivity check (as a
/// class's stored array does on every access).
private struct JSONBytes {
    var bytes: [UInt8] = []
    /// Set by a value JSON cannot carry (a non-finite number).
    var unsupported = false

    mutating func string(_ text: String) {
        bytes.append(UInt8(ascii: "\""))
        var text = text
        text.withUTF8 { escape($0) }
        bytes.append(UInt8(ascii: "\""))
    }

    private mutating func escape(_ source: UnsafeBufferPointer<UInt8>) {
        var start = 0
        for index in 0..<source.count {
            let byte = source[index]
            guard byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") else { continue }
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: source[start..<index]))
            start = index + 1
            switch byte {
            case UInt8(ascii: "\""): bytes += [UInt8(ascii: "\\"), UInt8(ascii: "\"")]
            case UInt8(ascii: "\\"): bytes += [UInt8(ascii: "\\"), UInt8(ascii: "\\")]
            case 0x0A: bytes += [UInt8(ascii: "\\"), UInt8(ascii: "n")]
            case 0x0D: bytes += [UInt8(ascii: "\\"), UInt8(ascii: "r")]
            case 0x09: bytes += [UInt8(ascii: "\\"), UInt8(ascii: "t")]
            case 0x08: bytes += [UInt8(ascii: "\\"), UInt8(ascii: "b")]
            case 0x0C: bytes += [UInt8(ascii: "\\"), UInt8(ascii: "f")]
            default:
                let digits = Array("0123456789abcdef".utf8)
                bytes += [UInt8(ascii: "\\"), UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"), digits[Int(byte >> 4)], digits[Int(byte & 0xF)]]
            }
        }
        bytes.append(contentsOf: UnsafeBufferPointer(rebasing: source[start..<source.count]))
    }

    /// A time as `JSONEncoder`'s `.iso8601` writes it (whole seconds, UTC).
    mutating func date(_ date: Date) {
        bytes.append(UInt8(ascii: "\""))
        HTTPDate(secondsSince1970: Int64(date.timeIntervalSince1970.rounded(.down))).appendISO8601(to: &bytes)
        bytes.append(UInt8(ascii: "\""))
    }

    mutating func literal(_ text: StaticString) {
        text.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }

    mutating func integer<T: BinaryInteger>(_ value: T) {
        guard let value = Int64(exactly: value) else {
            bytes.append(contentsOf: String(value).utf8)
            return
        }
        // Digit by digit, without a string.
        if value < 0 { bytes.append(UInt8(ascii: "-")) }
        var magnitude = value.magnitude
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { digits in
            var start = 20
            repeat {
                start -= 1
                digits[start] = 0x30 + UInt8(magnitude % 10)
                magnitude /= 10
            } while magnitude > 0
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: digits[start..<20]))
        }
    }

    /// Doubles as `JSONEncoder` writes them: Swift's shortest round-tripping form, without a
    /// trailing `.0` (`1`, `-0`, `0.1`, `1e+20`).
    mutating func double(_ value: Double) {
        guard value.isFinite else { unsupported = true; return }
        number(value.description)
    }

    mutating func float(_ value: Float) {
        guard value.isFinite else { unsupported = true; return }
        number(value.description)
    }

    private mutating func number(_ text: String) {
        let utf8 = text.utf8
        if utf8.count > 2, text.hasSuffix(".0") {
            bytes.append(contentsOf: utf8.dropLast(2))
        } else {
            bytes.append(contentsOf: utf8)
        }
    }
}

/// The JSON written so far and the containers still open, outermost first.
private final class JSONOutput {
    struct Frame {
        var id: Int
        var isObject: Bool
        var count: Int
    }

    var json = JSONBytes()
    var frames: [Frame] = []
    var lastID = 0

    init() { json.bytes.reserveCapacity(1024) }

    var byteCount: Int { json.bytes.count }

    var unsupported: Bool {
        get { json.unsupported }
        set { json.unsupported = newValue }
    }

    /// Opens a container as frame `depth` and returns its id.
    func open(object: Bool, depth: Int) -> Int {
        close(above: depth)
        guard frames.count == depth else { unsupported = true; return -1 }
        json.bytes.append(object ? UInt8(ascii: "{") : UInt8(ascii: "["))
        lastID += 1
        frames.append(Frame(id: lastID, isObject: object, count: 0))
        return lastID
    }

    /// Closes every container deeper than `depth` frames.
    func close(above depth: Int) {
        while frames.count > depth {
            let frame = frames.removeLast()
            json.bytes.append(frame.isObject ? UInt8(ascii: "}") : UInt8(ascii: "]"))
        }
    }

    func isOpen(_ id: Int, depth: Int) -> Bool { frames.count > depth && frames[depth].id == id }

    /// Starts the next element of container `id` (frame `depth`): closes what was nested in the
    /// previous element, writes the comma and the key. False when the container is closed.
    func element(of id: Int, depth: Int, key: String?) -> Bool {
        guard isOpen(id, depth: depth) else { unsupported = true; return false }
        close(above: depth + 1)
        if frames[depth].count > 0 { json.bytes.append(UInt8(ascii: ",")) }
        frames[depth].count += 1
        if let key {
            json.string(key)
            json.bytes.append(UInt8(ascii: ":"))
        }
        return true
    }

    /// An object a ``DirectJSONEncodable`` value writes itself.
    func direct(_ value: any DirectJSONEncodable) {
        var object = JSONObjectWriter(taking: &json)
        value.writeFields(to: &object)
        json = object.finish()
    }

    func string(_ text: String) { json.string(text) }
    func date(_ date: Date) { json.date(date) }
    func literal(_ text: StaticString) { json.literal(text) }
    func integer<T: BinaryInteger>(_ value: T) { json.integer(value) }
    func double(_ value: Double) { json.double(value) }
    func float(_ value: Float) { json.float(value) }
}


/// An encoder for one value at one depth (the number of containers around it).
private struct StreamingEncoder: Encoder {
    let output: JSONOutput
    let depth: Int
    var codingPath: [any CodingKey] { [] }
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    /// Encodes `value` as this encoder's one value, writing `{}` when it encodes nothing (as
    /// `JSONEncoder` does for a nested value).
    func encodeValue<T: Encodable>(_ value: T) throws {
        let before = output.byteCount
        if !encodeSpecial(value) {
            try value.encode(to: self)
        }
        if output.byteCount == before {
            if depth == 0 { output.unsupported = true } else { output.literal("{}") }
        }
        output.close(above: depth)
    }

    /// Dates, URLs and data as `JSONEncoder` writes them with the API's settings.
    private func encodeSpecial<T: Encodable>(_ value: T) -> Bool {
        if T.self == Date.self, let date = value as? Date {
            output.date(date)
        } else if T.self == URL.self, let url = value as? URL {
            output.string(url.absoluteString)
        } else if T.self == Data.self, let data = value as? Data {
            output.string(data.base64EncodedString())
        } else if T.self == Decimal.self {
            output.unsupported = true
        } else if let direct = value as? any DirectJSONEncodable {
            output.direct(direct)
        } else {
            return false
        }
        return true
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        KeyedEncodingContainer(KeyedContainer<Key>(output: output, depth: depth, id: openOnce(object: true)))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        UnkeyedContainer(output: output, depth: depth, id: openOnce(object: false))
    }

    func singleValueContainer() -> any SingleValueEncodingContainer {
        SingleContainer(encoder: self)
    }

    /// The container this encoder opens; asking twice (allowed by `Encoder`) is not covered.
    private func openOnce(object: Bool) -> Int {
        if output.frames.count > depth { output.unsupported = true }
        return output.open(object: object, depth: depth)
    }
}

private struct KeyedContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let output: JSONOutput
    let depth: Int
    let id: Int
    var codingPath: [any CodingKey] { [] }

    private func start(_ key: Key) -> Bool { output.element(of: id, depth: depth, key: key.stringValue) }

    mutating func encodeNil(forKey key: Key) throws { if start(key) { output.literal("null") } }
    mutating func encode(_ value: Bool, forKey key: Key) throws { if start(key) { output.literal(value ? "true" : "false") } }
    mutating func encode(_ value: String, forKey key: Key) throws { if start(key) { output.string(value) } }
    mutating func encode(_ value: Double, forKey key: Key) throws { if start(key) { output.double(value) } }
    mutating func encode(_ value: Float, forKey key: Key) throws { if start(key) { output.float(value) } }
    mutating func encode(_ value: Int, forKey key: Key) throws { if start(key) { output.integer(value) } }
    mutating func encode(_ value: Int8, forKey key: Key) throws { if start(key) { output.integer(value) } }
    mutating func encode(_ value: Int16, forKey key: Key) throws { if start(key) { output.integer(value) } }
    mutating func encode(_ value: Int32, forKey key: Key) throws { if start(key) { output.integer(value) } }
    mutating func encode(_ value: Int64, forKey key: Key) throws { if start(key) { output.integer(value) } }
    mutating func encode(_ value: UInt, forKey key: Key) throws { if start(key) { output.integer(value) } }
    mutating func encode(_ value: UInt8, forKey key: Key) throws { if start(key) { output.integer(value) } }
    mutating func encode(_ value: UInt16, forKey key: Key) throws { if start(key) { output.integer(value) } }
    mutating func encode(_ value: UInt32, forKey key: Key) throws { if start(key) { output.integer(value) } }
    mutating func encode(_ value: UInt64, forKey key: Key) throws { if start(key) { output.integer(value) } }
    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        if start(key) { try StreamingEncoder(output: output, depth: depth + 1).encodeValue(value) }
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key) -> KeyedEncodingContainer<NestedKey> {
        _ = start(key)
        return KeyedEncodingContainer(KeyedContainer<NestedKey>(output: output, depth: depth + 1, id: output.open(object: true, depth: depth + 1)))
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        _ = start(key)
        return UnkeyedContainer(output: output, depth: depth + 1, id: output.open(object: false, depth: depth + 1))
    }

    mutating func superEncoder() -> any Encoder { unsupportedEncoder() }
    mutating func superEncoder(forKey key: Key) -> any Encoder { unsupportedEncoder() }

    private func unsupportedEncoder() -> any Encoder {
        output.unsupported = true
        return StreamingEncoder(output: output, depth: depth + 1)
    }
}

private struct UnkeyedContainer: UnkeyedEncodingContainer {
    let output: JSONOutput
    let depth: Int
    let id: Int
    var codingPath: [any CodingKey] { [] }
    var count: Int { output.isOpen(id, depth: depth) ? output.frames[depth].count : 0 }

    private func start() -> Bool { output.element(of: id, depth: depth, key: nil) }

    mutating func encodeNil() throws { if start() { output.literal("null") } }
    mutating func encode(_ value: Bool) throws { if start() { output.literal(value ? "true" : "false") } }
    mutating func encode(_ value: String) throws { if start() { output.string(value) } }
    mutating func encode(_ value: Double) throws { if start() { output.double(value) } }
    mutating func encode(_ value: Float) throws { if start() { output.float(value) } }
    mutating func encode(_ value: Int) throws { if start() { output.integer(value) } }
    mutating func encode(_ value: Int8) throws { if start() { output.integer(value) } }
    mutating func encode(_ value: Int16) throws { if start() { output.integer(value) } }
    mutating func encode(_ value: Int32) throws { if start() { output.integer(value) } }
    mutating func encode(_ value: Int64) throws { if start() { output.integer(value) } }
    mutating func encode(_ value: UInt) throws { if start() { output.integer(value) } }
    mutating func encode(_ value: UInt8) throws { if start() { output.integer(value) } }
    mutating func encode(_ value: UInt16) throws { if start() { output.integer(value) } }
    mutating func encode(_ value: UInt32) throws { if start() { output.integer(value) } }
    mutating func encode(_ value: UInt64) throws { if start() { output.integer(value) } }
    mutating func encode<T: Encodable>(_ value: T) throws {
        if start() { try StreamingEncoder(output: output, depth: depth + 1).encodeValue(value) }
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
        _ = start()
        return KeyedEncodingContainer(KeyedContainer<NestedKey>(output: output, depth: depth + 1, id: output.open(object: true, depth: depth + 1)))
    }

    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        _ = start()
        return UnkeyedContainer(output: output, depth: depth + 1, id: output.open(object: false, depth: depth + 1))
    }

    mutating func superEncoder() -> any Encoder {
        output.unsupported = true
        return StreamingEncoder(output: output, depth: depth + 1)
    }
}

/// One value written in place of a container; a second value is not covered.
private struct SingleContainer: SingleValueEncodingContainer {
    let encoder: StreamingEncoder
    let start: Int
    var codingPath: [any CodingKey] { [] }

    init(encoder: StreamingEncoder) {
        self.encoder = encoder
        start = encoder.output.byteCount
    }

    private var output: JSONOutput { encoder.output }

    private func begin() -> Bool {
        if output.byteCount != start || output.frames.count > encoder.depth { output.unsupported = true; return false }
        return true
    }

    mutating func encodeNil() throws { if begin() { output.literal("null") } }
    mutating func encode(_ value: Bool) throws { if begin() { output.literal(value ? "true" : "false") } }
    mutating func encode(_ value: String) throws { if begin() { output.string(value) } }
    mutating func encode(_ value: Double) throws { if begin() { output.double(value) } }
    mutating func encode(_ value: Float) throws { if begin() { output.float(value) } }
    mutating func encode(_ value: Int) throws { if begin() { output.integer(value) } }
    mutating func encode(_ value: Int8) throws { if begin() { output.integer(value) } }
    mutating func encode(_ value: Int16) throws { if begin() { output.integer(value) } }
    mutating func encode(_ value: Int32) throws { if begin() { output.integer(value) } }
    mutating func encode(_ value: Int64) throws { if begin() { output.integer(value) } }
    mutating func encode(_ value: UInt) throws { if begin() { output.integer(value) } }
    mutating func encode(_ value: UInt8) throws { if begin() { output.integer(value) } }
    mutating func encode(_ value: UInt16) throws { if begin() { output.integer(value) } }
    mutating func encode(_ value: UInt32) throws { if begin() { output.integer(value) } }
    mutating func encode(_ value: UInt64) throws { if begin() { output.integer(value) } }
    mutating func encode<T: Encodable>(_ value: T) throws {
        if begin() { try encoder.encodeValue(value) }
    }
}
