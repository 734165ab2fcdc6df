/// Appends big-endian integers and ISO BMFF boxes to a byte buffer.
struct ByteWriter {
    var bytes: [UInt8] = []

    init(capacity: Int = 0) { bytes.reserveCapacity(capacity) }

    var count: Int { bytes.count }

    mutating func u8(_ value: UInt8) { bytes.append(value) }
    mutating func u16(_ value: UInt16) {
        bytes.append(UInt8(value >> 8)); bytes.append(UInt8(truncatingIfNeeded: value))
    }
    mutating func u24(_ value: UInt32) {
        bytes.append(UInt8(truncatingIfNeeded: value >> 16)); bytes.append(UInt8(truncatingIfNeeded: value >> 8))
        bytes.append(UInt8(truncatingIfNeeded: value))
    }
    mutating func u32(_ value: UInt32) {
        bytes.append(UInt8(value >> 24)); bytes.append(UInt8(truncatingIfNeeded: value >> 16))
        bytes.append(UInt8(truncatingIfNeeded: value >> 8)); bytes.append(UInt8(truncatingIfNeeded: value))
    }
    mutating func i32(_ value: Int32) { u32(UInt32(bitPattern: value)) }
    mutating func u64(_ value: UInt64) {
        u32(UInt32(value >> 32)); u32(UInt32(truncatingIfNeeded: value))
    }
    mutating func fourCC(_ code: StaticString) {
        code.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }
    mutating func zeros(_ count: Int) { bytes.append(contentsOf: repeatElement(0, count: count)) }
    mutating func append(_ data: [UInt8]) { bytes.append(contentsOf: data) }
    mutating func append(_ data: ArraySlice<UInt8>) { bytes.append(contentsOf: data) }

    mutating func patchU32(at offset: Int, _ value: UInt32) {
        bytes[offset] = UInt8(value >> 24); bytes[offset + 1] = UInt8(truncatingIfNeeded: value >> 16)
        bytes[offset + 2] = UInt8(truncatingIfNeeded: value >> 8); bytes[offset + 3] = UInt8(truncatingIfNeeded: value)
    }

    /// Writes a box of `type` whose body `body` writes; the size is patched in afterwards.
    mutating func box(_ type: StaticString, _ body: (inout ByteWriter) -> Void) {
        let start = bytes.count
        u32(0)
        fourCC(type)
        body(&self)
        patchU32(at: start, UInt32(bytes.count - start))
    }

    /// Writes a full box (version and 24-bit flags after the header).
    mutating func fullBox(_ type: StaticString, version: UInt8, flags: UInt32, _ body: (inout ByteWriter) -> Void) {
        box(type) { writer in
            writer.u8(version)
            writer.u24(flags)
            body(&writer)
        }
    }
}
