internal import Foundation
internal import VideoCore

/// The compact binary form in which items are stored and page tokens are built.
///
/// A version byte, then the item as a map: a varint count and, for each attribute in name
/// order, the name and a tagged value. Decoding checks every length against the buffer and
/// limits nesting, so a damaged row or a forged token is an error, never a crash.
enum ItemCodec {
    /// A bare item: the format byte, then the map.
    static let version: UInt8 = 1
    /// A stored item: the format byte, a 64-bit write id (little-endian), then the map. The id
    /// is unique to one write of one item in one database, so it names the bytes that follow:
    /// two rows with the same id hold the same item.
    static let versionWithWriteID: UInt8 = 2
    static let maximumDepth = 40

    private enum Tag: UInt8 {
        case s = 0, n, b, boolFalse, boolTrue, null, l, m, ss, ns, bs
    }

    static func encode(_ item: Item) -> [UInt8] {
        var out: [UInt8] = [version]
        out.reserveCapacity(256)
        encodeMap(item, into: &out)
        return out
    }

    /// The stored form of `item`, written by the write with id `writeID`.
    static func encode(_ item: Item, writeID: UInt64) -> [UInt8] {
        var out: [UInt8] = [versionWithWriteID]
        out.reserveCapacity(256)
        withUnsafeBytes(of: writeID.littleEndian) { out.append(contentsOf: $0) }
        encodeMap(item, into: &out)
        return out
    }

    /// Sets the write id of a stored item encoded by ``encode(_:writeID:)``.
    static func setWriteID(_ id: UInt64, in bytes: inout [UInt8]) {
        precondition(bytes.count >= 9 && bytes[0] == versionWithWriteID, "not a stored item")
        withUnsafeBytes(of: id.littleEndian) { bytes.replaceSubrange(1..<9, with: $0) }
    }

    /// The write id of a stored item, or nil for the bare format.
    static func writeID(of bytes: UnsafeRawBufferPointer) -> UInt64? {
        guard bytes.count >= 9, bytes[0] == versionWithWriteID else { return nil }
        return UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: 1, as: UInt64.self))
    }

    /// The encoded map of an item in either format (what two writes of the same item share).
    static func body(of bytes: [UInt8]) -> ArraySlice<UInt8> {
        bytes.first == versionWithWriteID ? bytes.dropFirst(9) : bytes.dropFirst(1)
    }

    static func decode(_ bytes: UnsafeRawBufferPointer) throws -> Item {
        var reader = Reader(bytes: bytes)
        switch try reader.byte() {
        case version: break
        case versionWithWriteID:
            guard bytes.count >= 9 else { throw Reader.truncated }
            reader.offset = 9
        default:
            throw VideoStackError(.corrupt, "A stored item has an unknown format version; it was written by a newer VideoStack or is damaged.")
        }
        let item = try reader.map(depth: 0)
        guard reader.offset == bytes.count else {
            throw VideoStackError(.corrupt, "A stored item has \(bytes.count - reader.offset) bytes of trailing garbage.")
        }
        return item
    }

    static func decode(_ bytes: [UInt8]) throws -> Item {
        try bytes.withUnsafeBytes { try decode($0) }
    }

    // MARK: Encoding

    private static func encodeMap(_ map: [String: AttributeValue], into out: inout [UInt8]) {
        writeVarint(UInt64(map.count), into: &out)
        for key in map.keys.sorted() {
            writeBytes(key.utf8, into: &out)
            encodeValue(map[key]!, into: &out)
        }
    }

    private static func encodeValue(_ value: AttributeValue, into out: inout [UInt8]) {
        switch value {
        case .s(let s):
            out.append(Tag.s.rawValue)
            writeBytes(s.utf8, into: &out)
        case .n(let n):
            out.append(Tag.n.rawValue)
            writeBytes(n.description.utf8, into: &out)
        case .b(let b):
            out.append(Tag.b.rawValue)
            writeBytes(b, into: &out)
        case .bool(let v):
            out.append(v ? Tag.boolTrue.rawValue : Tag.boolFalse.rawValue)
        case .null:
            out.append(Tag.null.rawValue)
        case .l(let list):
            out.append(Tag.l.rawValue)
            writeVarint(UInt64(list.count), into: &out)
            for element in list { encodeValue(element, into: &out) }
        case .m(let map):
            out.append(Tag.m.rawValue)
            encodeMap(map, into: &out)
        case .ss(let set):
            out.append(Tag.ss.rawValue)
            writeVarint(UInt64(set.count), into: &out)
            for element in set.sorted(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) }) { writeBytes(element.utf8, into: &out) }
        case .ns(let set):
            out.append(Tag.ns.rawValue)
            writeVarint(UInt64(set.count), into: &out)
            for element in set.sorted() { writeBytes(element.description.utf8, into: &out) }
        case .bs(let set):
            out.append(Tag.bs.rawValue)
            writeVarint(UInt64(set.count), into: &out)
            for element in set.sorted(by: { $0.lexicographicallyPrecedes($1) }) { writeBytes(element, into: &out) }
        }
    }

    private static func writeBytes<C: Collection>(_ bytes: C, into out: inout [UInt8]) where C.Element == UInt8 {
        writeVarint(UInt64(bytes.count), into: &out)
        out.append(contentsOf: bytes)
    }

    static func writeVarint(_ value: UInt64, into out: inout [UInt8]) {
        var v = value
        while v >= 0x80 {
            out.append(UInt8(v & 0x7F) | 0x80)
            v >>= 7
        }
        out.append(UInt8(v))
    }

    // MARK: Decoding

    struct Reader {
        let bytes: UnsafeRawBufferPointer
        var offset = 0

        mutating func byte() throws -> UInt8 {
            guard offset < bytes.count else { throw Reader.truncated }
            defer { offset += 1 }
            return bytes[offset]
        }

        mutating func varint() throws -> Int {
            var result: UInt64 = 0
            var shift: UInt64 = 0
            while true {
                let b = try byte()
                result |= UInt64(b & 0x7F) << shift
                if b < 0x80 { break }
                shift += 7
                guard shift < 63 else { throw VideoStackError(.corrupt, "A stored item has a malformed length.") }
            }
            guard result <= UInt64(bytes.count) else { throw Reader.truncated }
            return Int(result)
        }

        mutating func slice() throws -> UnsafeRawBufferPointer {
            let count = try varint()
            guard count <= bytes.count - offset else { throw Reader.truncated }
            defer { offset += count }
            return UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + count])
        }

        mutating func string() throws -> String {
            String(decoding: try slice(), as: UTF8.self)
        }

        mutating func number() throws -> Number {
            let bytes = try slice()
            // Stored numbers are canonical text written by this module: check the alphabet only.
            guard !bytes.isEmpty, bytes.count <= 200,
                  bytes.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2D || $0 == 0x2E }) else {
                throw VideoStackError(.corrupt, "A stored item has a malformed number.")
            }
            return Number(canonical: String(decoding: bytes, as: UTF8.self))
        }

        mutating func map(depth: Int) throws -> [String: AttributeValue] {
            let count = try varint()
            var map = [String: AttributeValue](minimumCapacity: count)
            for _ in 0..<count {
                let key = try string()
                map[key] = try value(depth: depth)
            }
            return map
        }

        mutating func value(depth: Int) throws -> AttributeValue {
            guard depth < ItemCodec.maximumDepth else {
                throw VideoStackError(.corrupt, "A stored item nests deeper than \(ItemCodec.maximumDepth) levels.")
            }
            guard let tag = Tag(rawValue: try byte()) else {
                throw VideoStackError(.corrupt, "A stored item has an unknown value type.")
            }
            switch tag {
            case .s: return .s(try string())
            case .n: return .n(try number())
            case .b: return .b(Array(try slice()))
            case .boolFalse: return .bool(false)
            case .boolTrue: return .bool(true)
            case .null: return .null
            case .l:
                let count = try varint()
                var list: [AttributeValue] = []
                list.reserveCapacity(count)
                for _ in 0..<count { list.append(try value(depth: depth + 1)) }
                return .l(list)
            case .m: return .m(try map(depth: depth + 1))
            case .ss:
                let count = try varint()
                var set = Set<String>(minimumCapacity: count)
                for _ in 0..<count { set.insert(try string()) }
                return .ss(set)
            case .ns:
                let count = try varint()
                var set = Set<Number>(minimumCapacity: count)
                for _ in 0..<count { set.insert(try number()) }
                return .ns(set)
            case .bs:
                let count = try varint()
                var set = Set<[UInt8]>(minimumCapacity: count)
                for _ in 0..<count { set.insert(Array(try slice())) }
                return .bs(set)
            }
        }

        static let truncated = VideoStackError(.corrupt, "A stored item is truncated.")
    }
}

/// Order-preserving byte encodings of key values, so SQLite's memcmp order of BLOB columns is
/// DynamoDB's order: strings by UTF-8 bytes, binary by bytes, numbers numerically.
enum KeyEncoding {
    static func encode(_ value: AttributeValue) -> [UInt8] {
        switch value {
        case .s(let s): return Array(s.utf8)
        case .b(let b): return b
        case .n(let n): return encode(n)
        default: return []
        }
    }

    /// Numbers: a class byte (negative 0x01, zero 0x02, positive 0x03), then the decimal exponent
    /// of the leading digit biased to two bytes, then the significant digits. Negative numbers have
    /// exponent and digits inverted and a 0xFF terminator, so that a longer magnitude sorts first.
    static func encode(_ number: Number) -> [UInt8] {
        let parts = Number.digits(of: number)
        if parts.digits.isEmpty { return [0x02] }
        let leading = parts.exponent + parts.digits.count + 0x4000
        var out: [UInt8] = [parts.negative ? 0x01 : 0x03]
        if parts.negative {
            out.append(~UInt8(truncatingIfNeeded: leading >> 8))
            out.append(~UInt8(truncatingIfNeeded: leading))
            out.append(contentsOf: parts.digits.map { ~$0 })
            out.append(0xFF)
        } else {
            out.append(UInt8(truncatingIfNeeded: leading >> 8))
            out.append(UInt8(truncatingIfNeeded: leading))
            out.append(contentsOf: parts.digits)
        }
        return out
    }

    /// The smallest byte string greater than every string starting with `prefix`, or nil when
    /// there is none (the prefix is all 0xFF).
    static func prefixSuccessor(_ prefix: [UInt8]) -> [UInt8]? {
        var bytes = prefix
        while let last = bytes.last {
            if last < 0xFF {
                bytes[bytes.count - 1] = last + 1
                return bytes
            }
            bytes.removeLast()
        }
        return nil
    }
}
