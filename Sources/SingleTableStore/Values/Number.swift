internal import VideoCore
public import Foundation

/// A DynamoDB number: an exact decimal with up to 38 significant digits.
///
/// Arithmetic and comparison are exact (no binary floating point), so counters and prices keep
/// every digit. Values convert losslessly from `Int64` and from a `Double`'s shortest decimal
/// form.
public struct Number: Hashable, Comparable, Sendable, CustomStringConvertible, ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral {
    /// The value. Always normalized, so equal numbers have equal text.
    public let decimal: Decimal

    /// The most significant digits a number may carry, as in DynamoDB.
    public static let maximumDigits = 38

    public init(_ value: Int64) { decimal = Decimal(value) }
    public init(_ value: Int) { decimal = Decimal(value) }

    /// Converts through the double's shortest round-tripping decimal text (`0.1` stays `0.1`).
    /// Throws for NaN and infinities, which DynamoDB cannot store.
    public init(_ value: Double) throws {
        guard value.isFinite else {
            throw VideoStackError(.invalidInput, "\(value) cannot be stored as a number: only finite values can.")
        }
        try self.init(parsing: "\(value)")
    }

    /// Parses decimal text such as `"42"`, `"-0.5"` or `"1.5E+3"`.
    public init(parsing text: String) throws {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard !trimmed.isEmpty, trimmed.count <= 200,
              trimmed.allSatisfy({ $0.isASCII && ($0.isNumber || "+-.eE".contains($0)) }),
              let value = Decimal(string: trimmed, locale: Locale(identifier: "en_US_POSIX")), !value.isNaN
        else {
            throw VideoStackError(.invalidInput, "'\(text.prefix(60))' is not a decimal number.")
        }
        try self.init(checked: value)
    }

    /// Wraps a `Decimal`, refusing values with more than 38 significant digits.
    public init(checked value: Decimal) throws {
        let parts = Number.digits(of: value)
        guard parts.digits.count <= Number.maximumDigits else {
            throw VideoStackError(.limitExceeded, "\(value) has \(parts.digits.count) significant digits; numbers may have at most \(Number.maximumDigits).")
        }
        guard parts.digits.isEmpty || (-130...126).contains(parts.exponent + parts.digits.count) else {
            throw VideoStackError(.limitExceeded, "\(value) is out of range: numbers must lie between 1E-130 and 9.9E+125 in magnitude.")
        }
        decimal = value
    }

    public init(integerLiteral value: Int64) { self.init(value) }
    public init(floatLiteral value: Double) {
        // Literals are finite by construction.
        self = (try? Number(value)) ?? Number(0)
    }

    public var description: String { decimal.description }

    /// The value as an `Int64`, if it is an integer in range.
    public var int64Value: Int64? {
        Int64(decimal.description)
    }

    /// The nearest `Double`.
    public var doubleValue: Double { Double(decimal.description) ?? .nan }

    public static func < (lhs: Number, rhs: Number) -> Bool { lhs.decimal < rhs.decimal }
    public static func == (lhs: Number, rhs: Number) -> Bool { lhs.decimal == rhs.decimal }
    public func hash(into hasher: inout Hasher) { hasher.combine(Number.digits(of: decimal).digits); hasher.combine(Number.digits(of: decimal).exponent) }

    /// Exact sum; throws when the result needs more than 38 digits.
    public static func adding(_ a: Number, _ b: Number) throws -> Number {
        try Number(checked: a.decimal + b.decimal)
    }

    /// Exact difference; throws when the result needs more than 38 digits.
    public static func subtracting(_ a: Number, _ b: Number) throws -> Number {
        try Number(checked: a.decimal - b.decimal)
    }

    /// Sign, significant digits (no leading or trailing zeros, as ASCII) and exponent such that
    /// value = sign × 0.d1d2d3… × 10^(exponent + digits.count) … precisely: digits × 10^exponent.
    static func digits(of value: Decimal) -> (negative: Bool, digits: [UInt8], exponent: Int) {
        var text = Array(value.description.utf8)
        var negative = false
        if text.first == UInt8(ascii: "-") {
            negative = true
            text.removeFirst()
        }
        var digits: [UInt8] = []
        var exponent = 0
        var seenPoint = false
        for byte in text {
            if byte == UInt8(ascii: ".") {
                seenPoint = true
            } else {
                digits.append(byte)
                if seenPoint { exponent -= 1 }
            }
        }
        while digits.first == UInt8(ascii: "0") { digits.removeFirst() }
        while digits.last == UInt8(ascii: "0") {
            digits.removeLast()
            exponent += 1
        }
        if digits.isEmpty { return (false, [], 0) }
        return (negative, digits, exponent)
    }
}
