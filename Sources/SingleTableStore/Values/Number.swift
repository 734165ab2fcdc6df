internal import VideoCore
public import Foundation

/// A DynamoDB number: an exact decimal with up to 38 significant digits.
///
/// Arithmetic and comparison are exact (no binary floating point), so counters and prices keep
/// every digit. Values convert losslessly from `Int64` and from a `Double`'s shortest decimal
/// form.
public struct Number: Hashable, Comparable, Sendable, CustomStringConvertible, ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral {
    /// The canonical decimal text: no exponent, no leading or trailing zeros, `-` only when
    /// negative. Equal numbers have equal text, so equality and hashing need no arithmetic,
    /// and reading a stored number needs no parsing.
    public let text: String

    /// The most significant digits a number may carry, as in DynamoDB.
    public static let maximumDigits = 38

    public init(_ value: Int64) { text = String(value) }
    public init(_ value: Int) { text = String(value) }

    /// Converts through the double's shortest round-tripping decimal text (`0.1` stays `0.1`).
    /// Throws for NaN and infinities, which DynamoDB cannot store.
    public init(_ value: Double) throws {
        guard value.isFinite else {
            throw VideoStackError(.invalidInput, "\(value) cannot be stored as a number: only finite values can.")
        }
        if let exact = Int64(exactly: value) {
            self.init(exact)
        } else {
            try self.init(parsing: "\(value)")
        }
    }

    /// Parses decimal text such as `"42"`, `"-0.5"` or `"1.5E+3"`.
    public init(parsing text: String) throws {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard !trimmed.isEmpty, trimmed.count <= 200,
              trimmed.allSatisfy({ $0.isASCII && ($0.isNumber || "+-.eE".contains($0)) }),
              let value = Decimal(string: trimmed, locale: Number.posix), !value.isNaN
        else {
            throw VideoStackError(.invalidInput, "'\(text.prefix(60))' is not a decimal number.")
        }
        try self.init(checked: value)
    }

    /// Wraps a `Decimal`, refusing values with more than 38 significant digits or out of range.
    public init(checked value: Decimal) throws {
        let parts = Number.digits(ofText: value.description)
        guard parts.digits.count <= Number.maximumDigits else {
            throw VideoStackError(.limitExceeded, "\(value) has \(parts.digits.count) significant digits; numbers may have at most \(Number.maximumDigits).")
        }
        guard parts.digits.isEmpty || (-130...126).contains(parts.exponent + parts.digits.count) else {
            throw VideoStackError(.limitExceeded, "\(value) is out of range: numbers must lie between 1E-130 and 9.9E+125 in magnitude.")
        }
        text = Number.canonicalText(parts)
    }

    /// Wraps text this module wrote itself (already canonical and checked).
    init(canonical text: String) {
        self.text = text
    }

    public init(integerLiteral value: Int64) { self.init(value) }
    public init(floatLiteral value: Double) {
        // Literals are finite by construction.
        self = (try? Number(value)) ?? Number(0)
    }

    public var description: String { text }

    /// The value as an exact `Decimal`.
    public var decimal: Decimal { Decimal(string: text, locale: Number.posix) ?? 0 }

    /// The value as an `Int64`, if it is an integer in range.
    public var int64Value: Int64? { Int64(text) }

    /// The nearest `Double`.
    public var doubleValue: Double { Double(text) ?? .nan }

    public static func < (lhs: Number, rhs: Number) -> Bool {
        if let a = Int64(lhs.text), let b = Int64(rhs.text) { return a < b }
        return lhs.decimal < rhs.decimal
    }

    /// Exact sum; throws when the result needs more than 38 digits.
    public static func adding(_ a: Number, _ b: Number) throws -> Number {
        if let x = Int64(a.text), let y = Int64(b.text) {
            let (sum, overflow) = x.addingReportingOverflow(y)
            if !overflow { return Number(sum) }
        }
        return try Number(checked: a.decimal + b.decimal)
    }

    /// Exact difference; throws when the result needs more than 38 digits.
    public static func subtracting(_ a: Number, _ b: Number) throws -> Number {
        if let x = Int64(a.text), let y = Int64(b.text) {
            let (difference, overflow) = x.subtractingReportingOverflow(y)
            if !overflow { return Number(difference) }
        }
        return try Number(checked: a.decimal - b.decimal)
    }

    private static let posix = Locale(identifier: "en_US_POSIX")

    /// Sign, significant digits (ASCII, no leading or trailing zeros) and exponent, such that
    /// the value is ±digits × 10^exponent.
    static func digits(of number: Number) -> (negative: Bool, digits: [UInt8], exponent: Int) {
        digits(ofText: number.text)
    }

    static func canonicalText(_ parts: (negative: Bool, digits: [UInt8], exponent: Int)) -> String {
        guard !parts.digits.isEmpty else { return "0" }
        var out: [UInt8] = parts.negative ? [UInt8(ascii: "-")] : []
        let point = parts.digits.count + parts.exponent
        if parts.exponent >= 0 {
            out += parts.digits
            out += [UInt8](repeating: UInt8(ascii: "0"), count: parts.exponent)
        } else if point > 0 {
            out += parts.digits[..<point]
            out.append(UInt8(ascii: "."))
            out += parts.digits[point...]
        } else {
            out += [UInt8(ascii: "0"), UInt8(ascii: ".")]
            out += [UInt8](repeating: UInt8(ascii: "0"), count: -point)
            out += parts.digits
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func digits(ofText description: String) -> (negative: Bool, digits: [UInt8], exponent: Int) {
        var text = Array(description.utf8)[...]
        var negative = false
        if text.first == UInt8(ascii: "-") {
            negative = true
            text = text.dropFirst()
        }
        var exponent = 0
        if let e = text.firstIndex(where: { $0 == UInt8(ascii: "e") || $0 == UInt8(ascii: "E") }) {
            exponent = Int(String(decoding: text[(e + 1)...].filter { $0 != UInt8(ascii: "+") }, as: UTF8.self)) ?? 0
            text = text[..<e]
        }
        var digits: [UInt8] = []
        var seenPoint = false
        for byte in text {
            if byte == UInt8(ascii: ".") {
                seenPoint = true
            } else {
                digits.append(byte)
                if seenPoint { exponent -= 1 }
            }
        }
        let leadingZeros = digits.prefix { $0 == UInt8(ascii: "0") }.count
        digits.removeFirst(leadingZeros)
        while digits.last == UInt8(ascii: "0") {
            digits.removeLast()
            exponent += 1
        }
        if digits.isEmpty { return (false, [], 0) }
        return (negative, digits, exponent)
    }
}
