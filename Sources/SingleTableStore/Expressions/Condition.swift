internal import VideoCore
/// A value in a condition: an attribute of the item, a literal, or the size of an attribute.
public enum Operand: Hashable, Sendable {
    /// The attribute at this path (missing when the item lacks it).
    case path(AttributePath)
    /// A literal value.
    case value(AttributeValue)
    /// `size(path)`: string length in bytes, binary length, or element count.
    case size(AttributePath)
}

/// A comparison operator.
public enum Comparison: String, Hashable, Sendable {
    /// `=`
    case equal = "="
    /// `<>`
    case notEqual = "<>"
    /// `<`
    case less = "<"
    /// `<=`
    case lessOrEqual = "<="
    /// `>`
    case greater = ">"
    /// `>=`
    case greaterOrEqual = ">="
}

/// A condition on an item, as in DynamoDB's condition and filter expressions.
///
/// ```swift
/// let condition: Condition = .notExists("PK") || (.equal("status", "draft") && .greater("version", 3))
/// ```
///
/// Semantics follow DynamoDB: comparisons between values of different types are false (and
/// `<>` true); a missing attribute makes comparisons false (and `<>` true); strings compare by
/// their UTF-8 bytes, so "é" (U+00E9) and "e" + U+0301 differ, as they do in DynamoDB.
public indirect enum Condition: Hashable, Sendable {
    /// `attribute_exists(path)`
    case attributeExists(AttributePath)
    /// `attribute_not_exists(path)`
    case attributeNotExists(AttributePath)
    /// The attribute holds a value of the given DynamoDB type name (`"S"`, `"N"`, …).
    case attributeType(AttributePath, String)
    /// `a <op> b`
    case compare(Operand, Comparison, Operand)
    /// `a BETWEEN low AND high`, inclusive.
    case between(Operand, Operand, Operand)
    /// The string or binary attribute starts with the prefix.
    case beginsWith(AttributePath, AttributeValue)
    /// A string contains a substring, or a set or list contains an element.
    case contains(AttributePath, AttributeValue)
    /// The operand equals one of the values (at most 100).
    case isIn(Operand, [AttributeValue])
    /// Both hold.
    case and(Condition, Condition)
    /// Either holds.
    case or(Condition, Condition)
    /// The condition does not hold.
    case not(Condition)

    // MARK: Conveniences

    public static func exists(_ path: AttributePath) -> Condition { .attributeExists(path) }
    public static func notExists(_ path: AttributePath) -> Condition { .attributeNotExists(path) }
    public static func equal(_ path: AttributePath, _ value: AttributeValue) -> Condition { .compare(.path(path), .equal, .value(value)) }
    public static func notEqual(_ path: AttributePath, _ value: AttributeValue) -> Condition { .compare(.path(path), .notEqual, .value(value)) }
    public static func less(_ path: AttributePath, _ value: AttributeValue) -> Condition { .compare(.path(path), .less, .value(value)) }
    public static func lessOrEqual(_ path: AttributePath, _ value: AttributeValue) -> Condition { .compare(.path(path), .lessOrEqual, .value(value)) }
    public static func greater(_ path: AttributePath, _ value: AttributeValue) -> Condition { .compare(.path(path), .greater, .value(value)) }
    public static func greaterOrEqual(_ path: AttributePath, _ value: AttributeValue) -> Condition { .compare(.path(path), .greaterOrEqual, .value(value)) }
    public static func between(_ path: AttributePath, _ low: AttributeValue, _ high: AttributeValue) -> Condition { .between(.path(path), .value(low), .value(high)) }
    /// `size(path) <op> value`.
    public static func size(_ path: AttributePath, _ comparison: Comparison, _ value: Int64) -> Condition { .compare(.size(path), comparison, .value(.int(value))) }

    public static func && (lhs: Condition, rhs: Condition) -> Condition { .and(lhs, rhs) }
    public static func || (lhs: Condition, rhs: Condition) -> Condition { .or(lhs, rhs) }
    public static prefix func ! (condition: Condition) -> Condition { .not(condition) }
}

// MARK: - Evaluation

extension Condition {
    /// Checks the condition's paths and limits before any evaluation.
    func validate(depth: Int = 0) throws {
        guard depth < 64 else {
            throw VideoStackError(.limitExceeded, "The condition nests more than 64 levels deep.")
        }
        switch self {
        case .attributeExists(let p), .attributeNotExists(let p), .attributeType(let p, _):
            try p.validate()
        case .compare(let a, _, let b):
            try a.validate(); try b.validate()
        case .between(let a, let b, let c):
            try a.validate(); try b.validate(); try c.validate()
        case .beginsWith(let p, let v):
            try p.validate()
            guard v.string != nil || v.bytes != nil else {
                throw VideoStackError(.invalidInput, "begins_with needs a string or binary prefix; got a \(v.typeName).")
            }
        case .contains(let p, _):
            try p.validate()
        case .isIn(let a, let values):
            try a.validate()
            guard (1...100).contains(values.count) else {
                throw VideoStackError(.invalidInput, "IN takes 1 to 100 values; got \(values.count).")
            }
        case .and(let a, let b), .or(let a, let b):
            try a.validate(depth: depth + 1); try b.validate(depth: depth + 1)
        case .not(let a):
            try a.validate(depth: depth + 1)
        }
    }

    /// Evaluates the condition against `item` (nil: no item, every attribute missing).
    func evaluate(_ item: Item?) -> Bool {
        switch self {
        case .attributeExists(let p): return item.flatMap { p.resolve(in: $0) } != nil
        case .attributeNotExists(let p): return item.flatMap { p.resolve(in: $0) } == nil
        case .attributeType(let p, let type): return item.flatMap { p.resolve(in: $0) }?.typeName == type
        case .compare(let a, let op, let b):
            guard let x = a.resolve(in: item), let y = b.resolve(in: item) else { return op == .notEqual }
            if op == .equal { return x.isIdentical(to: y) }
            if op == .notEqual { return !x.isIdentical(to: y) }
            guard let order = AttributeValue.order(x, y) else { return false }
            switch op {
            case .less: return order < 0
            case .lessOrEqual: return order <= 0
            case .greater: return order > 0
            case .greaterOrEqual: return order >= 0
            case .equal, .notEqual: return false
            }
        case .between(let a, let lo, let hi):
            guard let x = a.resolve(in: item), let l = lo.resolve(in: item), let h = hi.resolve(in: item),
                  let c1 = AttributeValue.order(x, l), let c2 = AttributeValue.order(x, h) else { return false }
            return c1 >= 0 && c2 <= 0
        case .beginsWith(let p, let prefix):
            switch (item.flatMap { p.resolve(in: $0) }, prefix) {
            case (.s(let s)?, .s(let pre)): return s.utf8.starts(with: pre.utf8)
            case (.b(let b)?, .b(let pre)): return b.starts(with: pre)
            default: return false
            }
        case .contains(let p, let element):
            switch (item.flatMap { p.resolve(in: $0) }, element) {
            case (.s(let s)?, .s(let sub)): return sub.isEmpty || s.utf8.firstRange(of: sub.utf8) != nil
            case (.ss(let set)?, .s(let e)): return set.contains(e)
            case (.ns(let set)?, .n(let e)): return set.contains(e)
            case (.bs(let set)?, .b(let e)): return set.contains(e)
            case (.l(let list)?, let e): return list.contains { $0.isIdentical(to: e) }
            default: return false
            }
        case .isIn(let a, let values):
            guard let x = a.resolve(in: item) else { return false }
            return values.contains { $0.isIdentical(to: x) }
        case .and(let a, let b): return a.evaluate(item) && b.evaluate(item)
        case .or(let a, let b): return a.evaluate(item) || b.evaluate(item)
        case .not(let a): return !a.evaluate(item)
        }
    }
}

extension Operand {
    func validate() throws {
        switch self {
        case .path(let p), .size(let p): try p.validate()
        case .value: break
        }
    }

    func resolve(in item: Item?) -> AttributeValue? {
        switch self {
        case .value(let v): return v
        case .path(let p): return item.flatMap { p.resolve(in: $0) }
        case .size(let p):
            guard let v = item.flatMap({ p.resolve(in: $0) }) else { return nil }
            switch v {
            case .s(let s): return .int(Int64(s.utf8.count))
            case .b(let b): return .int(Int64(b.count))
            case .l(let l): return .int(Int64(l.count))
            case .m(let m): return .int(Int64(m.count))
            case .ss(let s): return .int(Int64(s.count))
            case .ns(let s): return .int(Int64(s.count))
            case .bs(let s): return .int(Int64(s.count))
            default: return nil
            }
        }
    }
}

extension AttributeValue {
    /// Ordering of two scalars of the same type (S by UTF-8 bytes, N numerically, B by bytes);
    /// nil when they cannot be ordered.
    static func order(_ a: AttributeValue, _ b: AttributeValue) -> Int? {
        switch (a, b) {
        case (.s(let x), .s(let y)):
            return x.utf8.elementsEqual(y.utf8) ? 0 : (x.utf8.lexicographicallyPrecedes(y.utf8) ? -1 : 1)
        case (.n(let x), .n(let y)):
            return x == y ? 0 : (x < y ? -1 : 1)
        case (.b(let x), .b(let y)):
            return x == y ? 0 : (x.lexicographicallyPrecedes(y) ? -1 : 1)
        default:
            return nil
        }
    }
}

extension AttributeValue {
    /// Equality as DynamoDB sees it: strings are equal only when their UTF-8 bytes are (Swift's
    /// `==` also equates canonically equivalent strings, such as "é" and "e" + U+0301).
    func isIdentical(to other: AttributeValue) -> Bool {
        switch (self, other) {
        case (.s(let a), .s(let b)): return a.utf8.elementsEqual(b.utf8)
        case (.ss(let a), .ss(let b)):
            return a.count == b.count && a.map { Array($0.utf8) }.sorted { $0.lexicographicallyPrecedes($1) }
                == b.map { Array($0.utf8) }.sorted { $0.lexicographicallyPrecedes($1) }
        case (.l(let a), .l(let b)): return a.count == b.count && zip(a, b).allSatisfy { $0.isIdentical(to: $1) }
        case (.m(let a), .m(let b)):
            return a.count == b.count && a.allSatisfy { key, value in b[key].map { value.isIdentical(to: $0) } ?? false }
        default: return self == other
        }
    }
}

extension AttributePath {
    /// The value at this path in `item`, or nil if any step is missing or of the wrong type.
    func resolve(in item: Item) -> AttributeValue? {
        guard case .name(let first)? = components.first, var current = item[first] else { return nil }
        for component in components.dropFirst() {
            switch (component, current) {
            case (.name(let name), .m(let map)):
                guard let next = map[name] else { return nil }
                current = next
            case (.index(let index), .l(let list)):
                guard index < list.count else { return nil }
                current = list[index]
            default:
                return nil
            }
        }
        return current
    }
}
