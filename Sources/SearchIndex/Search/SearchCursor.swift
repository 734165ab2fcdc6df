internal import Foundation
internal import VideoCore

/// The opaque pagination cursor: the query's fingerprint, the last position returned and the
/// plan (term expansions, IDFs, average lengths) so later pages rank exactly like the first.
struct SearchCursor {
    var fingerprint: UInt64
    var position: CursorPosition
    var plan: QueryPlan

    static let version: UInt8 = 1

    /// Identifies the query a cursor belongs to: text, sort and filter, canonically ordered.
    static func fingerprint(of query: SearchQuery) -> UInt64 {
        var text = query.text + "\u{0}" + query.sort.rawValue + "\u{0}"
        let filter = query.filter
        text += (filter.uploader ?? "\u{1}") + "\u{0}"
        text += filter.duration.map { "\($0.lowerBound.components)-\($0.upperBound.components)" } ?? "-"
        text += filter.uploadedAt.map {
            "\($0.lowerBound.timeIntervalSince1970.bitPattern)-\($0.upperBound.timeIntervalSince1970.bitPattern)"
        } ?? "-"
        text += filter.visibilities.map(\.rawValue).sorted().joined(separator: ",")
        text += filter.statuses.map(\.rawValue).sorted().joined(separator: ",")
        text += "\u{0}" + (filter.ownedBy ?? "\u{1}")
        return Array(text.utf8).withUnsafeBufferPointer(hashBytes)
    }

    func encoded() -> String {
        var out: [UInt8] = [SearchCursor.version]
        func u64(_ value: UInt64) { for shift in stride(from: 0, to: 64, by: 8) { out.append(UInt8(truncatingIfNeeded: value >> UInt64(shift))) } }
        func bytes(_ value: [UInt8]) { u64(UInt64(value.count)); out.append(contentsOf: value) }
        u64(fingerprint)
        u64(UInt64(bitPattern: Int64(position.tier)))
        u64(position.key.bitPattern)
        bytes(position.id)
        for average in plan.averageLengths { u64(average.bitPattern) }
        bytes(plan.prefix ?? [])
        u64(plan.prefix == nil ? 0 : 1)
        u64(UInt64(plan.groups.count))
        for group in plan.groups {
            u64(UInt64(group.count))
            for expansion in group {
                bytes(expansion.term)
                u64(expansion.multiplier.bitPattern)
                u64(expansion.idf.bitPattern)
                out.append(expansion.kind)
            }
        }
        return SearchCursor.base64url(out)
    }

    init(fingerprint: UInt64, position: CursorPosition, plan: QueryPlan) {
        self.fingerprint = fingerprint
        self.position = position
        self.plan = plan
    }

    init(decoding text: String) throws {
        func bad(_ why: String) -> VideoStackError {
            VideoStackError(.invalidCursor, "The search cursor is not valid (\(why)); pass the nextCursor of the previous page of the same query unchanged, or start again without a cursor.")
        }
        guard text.utf8.count < 1 << 16 else { throw bad("too long") }
        guard let raw = SearchCursor.decodeBase64url(text) else { throw bad("not base64url") }
        var offset = 0
        func u8() throws -> UInt8 {
            guard offset < raw.count else { throw bad("truncated") }
            offset += 1
            return raw[offset - 1]
        }
        func u64() throws -> UInt64 {
            guard offset + 8 <= raw.count else { throw bad("truncated") }
            var value: UInt64 = 0
            for index in 0..<8 { value |= UInt64(raw[offset + index]) << UInt64(8 * index) }
            offset += 8
            return value
        }
        func count(_ limit: Int) throws -> Int {
            let value = try u64()
            guard value <= UInt64(limit) else { throw bad("count out of range") }
            return Int(value)
        }
        func bytes() throws -> [UInt8] {
            let length = try count(4096)
            guard offset + length <= raw.count else { throw bad("truncated") }
            defer { offset += length }
            return Array(raw[offset..<(offset + length)])
        }
        guard try u8() == SearchCursor.version else { throw bad("unknown version") }
        fingerprint = try u64()
        let tier = Int64(bitPattern: try u64())
        guard tier >= 0 && tier < 64 else { throw bad("tier out of range") }
        let key = Double(bitPattern: try u64())
        guard !key.isNaN else { throw bad("key is NaN") }
        position = CursorPosition(tier: Int32(tier), key: key, id: try bytes())
        var averages: [Double] = []
        for _ in 0..<3 {
            let average = Double(bitPattern: try u64())
            guard average.isFinite && average > 0 else { throw bad("bad statistics") }
            averages.append(average)
        }
        let prefix = try bytes()
        let hasPrefix = try u64() == 1
        var groups: [[Expansion]] = []
        for _ in 0..<(try count(QueryPlan.maxGroups)) {
            var group: [Expansion] = []
            for _ in 0..<(try count(256)) {
                let term = try bytes()
                let multiplier = Double(bitPattern: try u64())
                let idf = Double(bitPattern: try u64())
                guard multiplier.isFinite && idf.isFinite else { throw bad("bad statistics") }
                group.append(Expansion(term: term, multiplier: multiplier, idf: idf, kind: try u8()))
            }
            groups.append(group)
        }
        guard offset == raw.count else { throw bad("trailing bytes") }
        plan = QueryPlan(groups: groups, averageLengths: averages, prefix: hasPrefix ? prefix : nil, noSearchableTerms: false)
    }

    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    /// URL-safe base64 without padding, so a cursor can go in a query string as is.
    static func base64url(_ bytes: [UInt8]) -> String {
        var out: [UInt8] = []
        out.reserveCapacity((bytes.count + 2) / 3 * 4)
        var index = 0
        while index < bytes.count {
            let b0 = UInt32(bytes[index])
            let b1 = index + 1 < bytes.count ? UInt32(bytes[index + 1]) : 0
            let b2 = index + 2 < bytes.count ? UInt32(bytes[index + 2]) : 0
            let triple = b0 << 16 | b1 << 8 | b2
            out.append(alphabet[Int(triple >> 18 & 63)])
            out.append(alphabet[Int(triple >> 12 & 63)])
            if index + 1 < bytes.count { out.append(alphabet[Int(triple >> 6 & 63)]) }
            if index + 2 < bytes.count { out.append(alphabet[Int(triple & 63)]) }
            index += 3
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func decodeBase64url(_ text: String) -> [UInt8]? {
        var values: [UInt32] = []
        values.reserveCapacity(text.utf8.count)
        for byte in text.utf8 {
            switch byte {
            case 0x41...0x5A: values.append(UInt32(byte - 0x41))
            case 0x61...0x7A: values.append(UInt32(byte - 0x61 + 26))
            case 0x30...0x39: values.append(UInt32(byte - 0x30 + 52))
            case 0x2D: values.append(62)
            case 0x5F: values.append(63)
            default: return nil
            }
        }
        guard values.count % 4 != 1 else { return nil }
        var out: [UInt8] = []
        var index = 0
        while index < values.count {
            let chunk = values[index..<min(index + 4, values.count)]
            var triple: UInt32 = 0
            for (position, value) in chunk.enumerated() { triple |= value << UInt32(18 - 6 * position) }
            out.append(UInt8(triple >> 16 & 0xFF))
            if chunk.count > 2 { out.append(UInt8(triple >> 8 & 0xFF)) }
            if chunk.count > 3 { out.append(UInt8(triple & 0xFF)) }
            index += 4
        }
        return out
    }
}
