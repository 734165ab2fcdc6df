internal import VideoCore
internal import Foundation

/// One attribute of an item: the value types of DynamoDB.
public enum AttributeValue: Hashable, Sendable {
    /// A UTF-8 string.
    case s(String)
    /// An exact decimal number.
    case n(Number)
    /// Binary data.
    case b([UInt8])
    case bool(Bool)
    case null
    /// An ordered list of values of any types.
    case l([AttributeValue])
    /// A map of names to values.
    case m([String: AttributeValue])
    /// A set of strings (never empty).
    case ss(Set<String>)
    /// A set of numbers (never empty).
    case ns(Set<Number>)
    /// A set of binary values (never empty).
    case bs(Set<[UInt8]>)

    /// DynamoDB's one-or-two-letter type name: `S`, `N`, `B`, `BOOL`, `NULL`, `L`, `M`, `SS`, `NS`, `BS`.
    public var typeName: String {
        switch self {
        case .s: "S"
        case .n: "N"
        case .b: "B"
        case .bool: "BOOL"
        case .null: "NULL"
        case .l: "L"
        case .m: "M"
        case .ss: "SS"
        case .ns: "NS"
        case .bs: "BS"
        }
    }

    /// The string, if this is `.s`.
    public var string: String? { if case .s(let v) = self { v } else { nil } }
    /// The number, if this is `.n`.
    public var number: Number? { if case .n(let v) = self { v } else { nil } }
    /// The number as an `Int64`, if this is an integral `.n`.
    public var int64: Int64? { number?.int64Value }
    /// The bytes, if this is `.b`.
    public var bytes: [UInt8]? { if case .b(let v) = self { v } else { nil } }
    /// The Boolean, if this is `.bool`.
    public var bool: Bool? { if case .bool(let v) = self { v } else { nil } }
    /// The list, if this is `.l`.
    public var list: [AttributeValue]? { if case .l(let v) = self { v } else { nil } }
    /// The map, if this is `.m`.
    public var map: [String: AttributeValue]? { if case .m(let v) = self { v } else { nil } }

    /// A number attribute from an integer.
    public static func int(_ value: Int64) -> AttributeValue { .n(Number(value)) }
}

extension AttributeValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral,
    ExpressibleByBooleanLiteral, ExpressibleByNilLiteral, ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral
{
    public init(stringLiteral value: String) { self = .s(value) }
    public init(integerLiteral value: Int64) { self = .n(Number(value)) }
    public init(floatLiteral value: Double) { self = .n(Number(floatLiteral: value)) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(nilLiteral: ()) { self = .null }
    public init(arrayLiteral elements: AttributeValue...) { self = .l(elements) }
    public init(dictionaryLiteral elements: (String, AttributeValue)...) {
        self = .m(Dictionary(elements, uniquingKeysWith: { _, last in last }))
    }
}

extension AttributeValue: CustomStringConvertible {
    public var description: String {
        switch self {
        case .s(let v): return v.debugDescription
        case .n(let v): return v.description
        case .b(let v): return "<\(v.count) bytes>"
        case .bool(let v): return v.description
        case .null: return "null"
        case .l(let v): return "[" + v.map(\.description).joined(separator: ", ") + "]"
        case .m(let v): return "{" + v.sorted { $0.key < $1.key }.map { "\($0.key.debugDescription): \($0.value)" }.joined(separator: ", ") + "}"
        case .ss(let v): return "SS" + v.sorted().description
        case .ns(let v): return "NS" + v.sorted().map(\.description).description
        case .bs(let v): return "BS<\(v.count) values>"
        }
    }
}

/// An item: a map of attribute names to values, including its key attributes.
public typealias Item = [String: AttributeValue]
