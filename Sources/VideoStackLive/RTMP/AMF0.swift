internal import VideoCore

/// One value of Action Message Format 0, the encoding of RTMP commands and metadata.
///
/// Covers the types encoders send: numbers, booleans, strings (short and long), objects, ECMA
/// and strict arrays, null, undefined and dates. References, XML documents, typed objects and
/// AMF3 switches are refused as ``VideoStackError/Code/unsupported``.
public enum AMF0Value: Hashable, Sendable {
    case number(Double)
    case boolean(Bool)
    case string(String)
    /// An anonymous object: ordered key/value pairs.
    case object([(String, AMF0Value)])
    /// An associative array (`onMetaData` uses it): ordered key/value pairs.
    case ecmaArray([(String, AMF0Value)])
    case strictArray([AMF0Value])
    /// Milliseconds since 1970 and a time-zone offset in minutes (ignored by everyone).
    case date(Double, Int16)
    case null
    case undefined

    public static func == (lhs: AMF0Value, rhs: AMF0Value) -> Bool {
        switch (lhs, rhs) {
        case (.number(let a), .number(let b)): return a == b || (a.isNaN && b.isNaN)
        case (.boolean(let a), .boolean(let b)): return a == b
        case (.string(let a), .string(let b)): return a == b
        case (.object(let a), .object(let b)), (.ecmaArray(let a), .ecmaArray(let b)):
            return a.count == b.count && zip(a, b).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        case (.strictArray(let a), .strictArray(let b)): return a == b
        case (.date(let a, let x), .date(let b, let y)): return a == b && x == y
        case (.null, .null), (.undefined, .undefined): return true
        default: return false
        }
    }

    public func hash(into hasher: inout Hasher) {
        switch self {
        case .number(let value): hasher.combine(0); hasher.combine(value)
        case .boolean(let value): hasher.combine(1); hasher.combine(value)
        case .string(let value): hasher.combine(2); hasher.combine(value)
        case .object(let pairs), .ecmaArray(let pairs):
            hasher.combine(3)
            for (key, value) in pairs { hasher.combine(key); hasher.combine(value) }
        case .strictArray(let values): hasher.combine(4); hasher.combine(values)
        case .date(let ms, let zone): hasher.combine(5); hasher.combine(ms); hasher.combine(zone)
        case .null: hasher.combine(6)
        case .undefined: hasher.combine(7)
        }
    }

    /// The value under `key` of an object or ECMA array, or nil.
    public subscript(key: String) -> AMF0Value? {
        switch self {
        case .object(let pairs), .ecmaArray(let pairs): return pairs.first { $0.0 == key }?.1
        default: return nil
        }
    }

    /// The string, if this is one.
    public var stringValue: String? { if case .string(let value) = self { value } else { nil } }
    /// The number, if this is one.
    public var numberValue: Double? { if case .number(let value) = self { value } else { nil } }

    // MARK: Encoding

    /// Appends the AMF0 encoding of this value to `out`.
    public func encode(into out: inout [UInt8]) {
        switch self {
        case .number(let value):
            out.append(0x00)
            AMF0Value.appendBigEndian(value.bitPattern, into: &out)
        case .boolean(let value):
            out.append(0x01)
            out.append(value ? 1 : 0)
        case .string(let value):
            let bytes = Array(value.utf8)
            if bytes.count > 0xFFFF {
                out.append(0x0C)
                AMF0Value.appendBigEndian(UInt32(truncatingIfNeeded: bytes.count), into: &out)
            } else {
                out.append(0x02)
                AMF0Value.appendBigEndian(UInt16(bytes.count), into: &out)
            }
            out.append(contentsOf: bytes)
        case .object(let pairs):
            out.append(0x03)
            AMF0Value.appendPairs(pairs, into: &out)
        case .ecmaArray(let pairs):
            out.append(0x08)
            AMF0Value.appendBigEndian(UInt32(truncatingIfNeeded: pairs.count), into: &out)
            AMF0Value.appendPairs(pairs, into: &out)
        case .strictArray(let values):
            out.append(0x0A)
            AMF0Value.appendBigEndian(UInt32(truncatingIfNeeded: values.count), into: &out)
            for value in values { value.encode(into: &out) }
        case .date(let ms, let zone):
            out.append(0x0B)
            AMF0Value.appendBigEndian(ms.bitPattern, into: &out)
            AMF0Value.appendBigEndian(UInt16(bitPattern: zone), into: &out)
        case .null:
            out.append(0x05)
        case .undefined:
            out.append(0x06)
        }
    }

    /// The AMF0 encoding of `values`, one after another (a command message's body).
    public static func encode(_ values: [AMF0Value]) -> [UInt8] {
        var out: [UInt8] = []
        for value in values { value.encode(into: &out) }
        return out
    }

    private static func appendPairs(_ pairs: [(String, AMF0Value)], into out: inout [UInt8]) {
        for (key, value) in pairs {
            let bytes = Array(key.utf8.prefix(0xFFFF))
            appendBigEndian(UInt16(bytes.count), into: &out)
            out.append(contentsOf: bytes)
            value.encode(into: &out)
        }
        out.append(contentsOf: [0x00, 0x00, 0x09])
    }

    static func appendBigEndian<T: FixedWidthInteger>(_ value: T, into out: inout [UInt8]) {
        var big = value.bigEndian
        withUnsafeBytes(of: &big) { out.append(contentsOf: $0) }
    }

    // MARK: Decoding

    /// Decodes every value in `bytes` (a command or data message's body).
    ///
    /// Throws ``VideoStackError/Code/corrupt`` for truncated or malformed input and
    /// ``VideoStackError/Code/unsupported`` for AMF0 types encoders do not send; nesting deeper
    /// than 16 levels is refused, so hostile input cannot exhaust the stack.
    public static func decodeAll(_ bytes: some Collection<UInt8>) throws -> [AMF0Value] {
        var reader = AMF0Reader(Array(bytes))
        var values: [AMF0Value] = []
        while !reader.atEnd {
            values.append(try reader.value(depth: 0))
        }
        return values
    }
}

/// A cursor over AMF0 bytes.
struct AMF0Reader {
    let bytes: [UInt8]
    var position = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    var atEnd: Bool { position >= bytes.count }

    mutating func take(_ count: Int) throws -> ArraySlice<UInt8> {
        guard count >= 0, bytes.count - position >= count else {
            throw VideoStackError(.corrupt, "AMF0 data ends early: \(count) bytes needed at offset \(position) of \(bytes.count).")
        }
        defer { position += count }
        return bytes[position..<position + count]
    }

    mutating func integer<T: FixedWidthInteger>(_: T.Type) throws -> T {
        var value: T = 0
        for byte in try take(MemoryLayout<T>.size) { value = value << 8 | T(byte) }
        return value
    }

    mutating func utf8(count: Int) throws -> String {
        let slice = try take(count)
        return String(decoding: slice, as: UTF8.self)
    }

    mutating func pairs(depth: Int) throws -> [(String, AMF0Value)] {
        var pairs: [(String, AMF0Value)] = []
        while true {
            let length = Int(try integer(UInt16.self))
            if length == 0 {
                // An empty key followed by the object-end marker closes the object.
                if !atEnd, bytes[position] == 0x09 { position += 1; return pairs }
                if atEnd { return pairs }  // some encoders end an ECMA array without the marker
            }
            let key = try utf8(count: length)
            pairs.append((key, try value(depth: depth + 1)))
            guard pairs.count <= 65_536 else {
                throw VideoStackError(.limitExceeded, "An AMF0 object has more than 65,536 properties.")
            }
        }
    }

    mutating func value(depth: Int) throws -> AMF0Value {
        guard depth < 16 else {
            throw VideoStackError(.limitExceeded, "AMF0 values nest deeper than 16 levels.")
        }
        let marker = try integer(UInt8.self)
        switch marker {
        case 0x00: return .number(Double(bitPattern: try integer(UInt64.self)))
        case 0x01: return .boolean(try integer(UInt8.self) != 0)
        case 0x02: return .string(try utf8(count: Int(try integer(UInt16.self))))
        case 0x03: return .object(try pairs(depth: depth))
        case 0x05: return .null
        case 0x06: return .undefined
        case 0x08:
            _ = try integer(UInt32.self)  // a hint only; the end marker decides
            return .ecmaArray(try pairs(depth: depth))
        case 0x0A:
            let count = Int(try integer(UInt32.self))
            guard count <= bytes.count - position else {
                throw VideoStackError(.corrupt, "An AMF0 strict array claims \(count) elements but only \(bytes.count - position) bytes follow.")
            }
            var values: [AMF0Value] = []
            for _ in 0..<count { values.append(try value(depth: depth + 1)) }
            return .strictArray(values)
        case 0x0B:
            let ms = Double(bitPattern: try integer(UInt64.self))
            return .date(ms, Int16(bitPattern: try integer(UInt16.self)))
        case 0x0C: return .string(try utf8(count: Int(try integer(UInt32.self))))
        default:
            throw VideoStackError(.unsupported, "AMF0 type marker 0x\(String(marker, radix: 16)) at offset \(position - 1) is not one RTMP encoders send (references, XML, typed objects and AMF3 are not supported).")
        }
    }
}
