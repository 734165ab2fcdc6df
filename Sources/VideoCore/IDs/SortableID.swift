public import Foundation
internal import Synchronization

/// A 128-bit identifier whose text form sorts by creation time.
///
/// The layout is ULID's: 48 bits of milliseconds since the Unix epoch, then 80 bits that are
/// random for the first id of a millisecond and incremented for the following ones, so ids made by
/// one process are strictly increasing. The text form is 26 characters of Crockford base32, which
/// sorts (byte-wise, as DynamoDB and SQLite sort strings) in the same order as the ids.
///
/// Newest-first listings fall out of the sort key: a query over `#VIDEO#<id>` sort keys in
/// descending order returns the newest video first, with no timestamp attribute to maintain.
public struct SortableID: Hashable, Comparable, Sendable, CustomStringConvertible, LosslessStringConvertible, Codable {
    /// High 64 bits: the 48-bit timestamp and the top 16 random bits.
    public let high: UInt64
    /// Low 64 bits of the random part.
    public let low: UInt64

    public init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    /// Makes a new id for the current time, greater than every id this process made before.
    public init() {
        self = SortableID.generator.next()
    }

    /// Makes an id for a given time with the given random bits (for tests and imports).
    public init(milliseconds: UInt64, random: (UInt16, UInt64)) {
        self.high = (milliseconds & 0xFFFF_FFFF_FFFF) << 16 | UInt64(random.0)
        self.low = random.1
    }

    /// Parses the 26-character text form; returns nil for anything else.
    public init?(_ text: String) {
        guard text.utf8.count == 26 else { return nil }
        let table = SortableID.decodeTable
        var value: (UInt64, UInt64) = (0, 0)
        var first = true
        for byte in text.utf8 {
            guard let digit = table[Int(byte)] else { return nil }
            // The first character carries only 3 bits (26 * 5 = 130 > 128).
            if first && digit > 7 { return nil }
            first = false
            value = (value.0 << 5 | value.1 >> 59, value.1 << 5 | UInt64(digit))
        }
        self.high = value.0
        self.low = value.1
    }

    /// Milliseconds since the Unix epoch at which the id was made.
    public var milliseconds: UInt64 { high >> 16 }

    /// The moment the id was made.
    public var date: Date { Date(timeIntervalSince1970: Double(milliseconds) / 1000) }

    public var description: String {
        let alphabet = SortableID.alphabet
        return String(unsafeUninitializedCapacity: 26) { out in
            var hi = high
            var lo = low
            for index in stride(from: 25, through: 0, by: -1) {
                out[index] = alphabet[Int(lo & 31)]
                lo = lo >> 5 | (hi & 31) << 59
                hi >>= 5
            }
            return 26
        }
    }

    public static func < (lhs: SortableID, rhs: SortableID) -> Bool {
        (lhs.high, lhs.low) < (rhs.high, rhs.low)
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let id = SortableID(text) else {
            throw DecodingError.dataCorruptedError(
                in: container, debugDescription: "'\(text.prefix(40))' is not a 26-character sortable id")
        }
        self = id
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }

    // MARK: Encoding tables

    private static let alphabet: [UInt8] = Array("0123456789ABCDEFGHJKMNPQRSTVWXYZ".utf8)
    private static let decodeTable: [UInt8?] = {
        var table = [UInt8?](repeating: nil, count: 256)
        for (value, byte) in alphabet.enumerated() {
            table[Int(byte)] = UInt8(value)
            table[Int(Character(Unicode.Scalar(byte)).lowercased().utf8.first!)] = UInt8(value)
        }
        // Crockford's aliases for easily confused letters.
        for (alias, value) in [("O", 0), ("o", 0), ("I", 1), ("i", 1), ("L", 1), ("l", 1)] {
            table[Int(alias.utf8.first!)] = UInt8(value)
        }
        return table
    }()

    private static let generator = Generator()

    private final class Generator: Sendable {
        private let last = Mutex<SortableID>(SortableID(high: 0, low: 0))

        func next() -> SortableID {
            let now = UInt64(Date().timeIntervalSince1970 * 1000)
            return last.withLock { last in
                var id: SortableID
                if now > last.milliseconds {
                    var rng = SystemRandomNumberGenerator()
                    id = SortableID(milliseconds: now, random: (UInt16.random(in: 0...UInt16.max, using: &rng), rng.next()))
                } else {
                    // Same millisecond (or the clock went back): keep order by incrementing.
                    let (low, carry) = last.low.addingReportingOverflow(1)
                    id = SortableID(high: carry ? last.high &+ 1 : last.high, low: low)
                }
                last = id
                return id
            }
        }
    }
}

/// A ``SortableID`` that names one kind of entity, so a `VideoID` cannot be passed where a
/// `ReviewID` is expected.
public struct TypedID<Entity>: Hashable, Comparable, Sendable, CustomStringConvertible, LosslessStringConvertible, Codable {
    public let raw: SortableID

    public init(_ raw: SortableID) { self.raw = raw }
    /// A new id for now, greater than every id this process made before.
    public init() { self.raw = SortableID() }
    public init?(_ text: String) {
        guard let raw = SortableID(text) else { return nil }
        self.raw = raw
    }

    public var description: String { raw.description }
    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.raw < rhs.raw }

    public init(from decoder: any Decoder) throws { raw = try SortableID(from: decoder) }
    public func encode(to encoder: any Encoder) throws { try raw.encode(to: encoder) }
}

public typealias VideoID = TypedID<Video>
public typealias ReviewID = TypedID<Review>
