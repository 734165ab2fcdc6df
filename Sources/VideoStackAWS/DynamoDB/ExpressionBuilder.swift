internal import SingleTableStore
internal import VideoCore

/// Turns conditions and update actions into DynamoDB expression strings. Every attribute name
/// becomes a `#n` placeholder and every value a `:v` placeholder, so no name can collide with a
/// reserved word and no value is ever spliced into the text.
struct ExpressionBuilder {
    private(set) var names: [String: String] = [:]
    private(set) var values: [String: JSON] = [:]
    private var nameIndex: [String: String] = [:]

    /// The request members for the placeholders used so far (omitted when there are none, as
    /// DynamoDB refuses empty maps).
    var members: [String: JSON] {
        var out: [String: JSON] = [:]
        if !names.isEmpty { out["ExpressionAttributeNames"] = .object(names.mapValues { .string($0) }) }
        if !values.isEmpty { out["ExpressionAttributeValues"] = .object(values) }
        return out
    }

    mutating func name(_ name: String) -> String {
        if let placeholder = nameIndex[name] { return placeholder }
        let placeholder = "#n\(nameIndex.count)"
        nameIndex[name] = placeholder
        names[placeholder] = name
        return placeholder
    }

    mutating func value(_ value: AttributeValue) -> String {
        let placeholder = ":v\(values.count)"
        values[placeholder] = DynamoDBJSON.encode(value)
        return placeholder
    }

    mutating func path(_ path: AttributePath) throws -> String {
        try path.validate()
        var out = ""
        for component in path.components {
            switch component {
            case .name(let n): out += (out.isEmpty ? "" : ".") + name(n)
            case .index(let i): out += "[\(i)]"
            }
        }
        return out
    }

    // MARK: Conditions

    mutating func condition(_ condition: Condition, depth: Int = 0) throws -> String {
        guard depth < 64 else { throw VideoStackError(.limitExceeded, "The condition nests more than 64 levels deep.") }
        switch condition {
        case .attributeExists(let p): return "attribute_exists(\(try path(p)))"
        case .attributeNotExists(let p): return "attribute_not_exists(\(try path(p)))"
        case .attributeType(let p, let type):
            guard ["S", "N", "B", "BOOL", "NULL", "L", "M", "SS", "NS", "BS"].contains(type) else {
                throw VideoStackError(.invalidInput, "attribute_type takes one of S, N, B, BOOL, NULL, L, M, SS, NS, BS; got '\(type.prefix(20))'.")
            }
            return "attribute_type(\(try path(p)), \(value(.s(type))))"
        case .compare(let a, let op, let b):
            return "\(try operand(a)) \(op.rawValue) \(try operand(b))"
        case .between(let a, let low, let high):
            return "\(try operand(a)) BETWEEN \(try operand(low)) AND \(try operand(high))"
        case .beginsWith(let p, let prefix):
            guard prefix.string != nil || prefix.bytes != nil else {
                throw VideoStackError(.invalidInput, "begins_with needs a string or binary prefix; got a \(prefix.typeName).")
            }
            return "begins_with(\(try path(p)), \(value(prefix)))"
        case .contains(let p, let element):
            return "contains(\(try path(p)), \(value(element)))"
        case .isIn(let a, let candidates):
            guard (1...100).contains(candidates.count) else {
                throw VideoStackError(.invalidInput, "IN takes 1 to 100 values; got \(candidates.count).")
            }
            let list = candidates.map { value($0) }.joined(separator: ", ")
            return "\(try operand(a)) IN (\(list))"
        case .and(let a, let b): return "(\(try self.condition(a, depth: depth + 1))) AND (\(try self.condition(b, depth: depth + 1)))"
        case .or(let a, let b): return "(\(try self.condition(a, depth: depth + 1))) OR (\(try self.condition(b, depth: depth + 1)))"
        case .not(let a): return "NOT (\(try self.condition(a, depth: depth + 1)))"
        }
    }

    private mutating func operand(_ operand: Operand) throws -> String {
        switch operand {
        case .path(let p): return try path(p)
        case .value(let v): return value(v)
        case .size(let p): return "size(\(try path(p)))"
        }
    }

    // MARK: Updates

    /// An `UpdateExpression`; throws `invalidInput` for updates DynamoDB would refuse on their face.
    mutating func update(_ actions: [UpdateAction], keyNames: Set<String>) throws -> String {
        guard !actions.isEmpty else { throw VideoStackError(.invalidInput, "An update needs at least one action.") }
        guard actions.count <= 1000 else {
            throw VideoStackError(.limitExceeded, "An update may have at most 1,000 actions; this one has \(actions.count).")
        }
        var sets: [String] = [], removes: [String] = [], adds: [String] = [], deletes: [String] = []
        for (i, action) in actions.enumerated() {
            try action.path.validate()
            if keyNames.contains(action.path.root) {
                throw VideoStackError(.invalidInput, "An update cannot change the key attribute '\(action.path.root)'; write a new item instead.")
            }
            for other in actions[(i + 1)...] where action.path.overlaps(other.path) {
                throw VideoStackError(.invalidInput, "Two actions of one update touch overlapping paths '\(action.path)' and '\(other.path)'.")
            }
            try Self.checkOperandTypes(action)
            switch action {
            case .set(let p, let v): sets.append("\(try path(p)) = \(try updateValue(v, depth: 0))")
            case .remove: break
            case .add(let p, let v): adds.append("\(try path(p)) \(value(v))")
            case .delete(let p, let v): deletes.append("\(try path(p)) \(value(v))")
            }
        }
        // AWS resolves every REMOVE against the item as it was; listing list elements from the
        // highest index down gives the same result on implementations that remove one by one.
        let removals = actions.compactMap { action -> AttributePath? in
            if case .remove(let p) = action { return p }
            return nil
        }.sorted { $0.sortsAfter($1) }
        removes = try removals.map { try path($0) }
        var clauses: [String] = []
        if !sets.isEmpty { clauses.append("SET " + sets.joined(separator: ", ")) }
        if !removes.isEmpty { clauses.append("REMOVE " + removes.joined(separator: ", ")) }
        if !adds.isEmpty { clauses.append("ADD " + adds.joined(separator: ", ")) }
        if !deletes.isEmpty { clauses.append("DELETE " + deletes.joined(separator: ", ")) }
        return clauses.joined(separator: " ")
    }

    private mutating func updateValue(_ value: UpdateValue, depth: Int) throws -> String {
        switch value {
        case .value(let v): return self.value(v)
        case .path(let p): return try path(p)
        case .ifNotExists(let p, let fallback): return "if_not_exists(\(try path(p)), \(self.value(fallback)))"
        case .plus(let a, let b): return "\(try updateValue(a, depth: depth + 1)) + \(try updateValue(b, depth: depth + 1))"
        case .minus(let a, let b): return "\(try updateValue(a, depth: depth + 1)) - \(try updateValue(b, depth: depth + 1))"
        case .listAppend(let a, let b): return "list_append(\(try updateValue(a, depth: depth + 1)), \(try updateValue(b, depth: depth + 1)))"
        }
    }

    /// The type errors DynamoDB finds in the expression itself, before it reads the item.
    static func checkOperandTypes(_ action: UpdateAction) throws {
        switch action {
        case .add(let p, let v):
            switch v {
            case .n, .ss, .ns, .bs: return
            default: throw VideoStackError(.invalidInput, "ADD works on numbers and sets; the operand for '\(p)' is \(v.typeName).")
            }
        case .delete(let p, let v):
            switch v {
            case .ss, .ns, .bs: return
            default: throw VideoStackError(.invalidInput, "DELETE removes elements from a set with a set; the operand for '\(p)' is \(v.typeName).")
            }
        case .set(let p, let v):
            try checkArithmetic(v, path: p)
        case .remove: return
        }
    }

    private static func checkArithmetic(_ value: UpdateValue, path: AttributePath) throws {
        switch value {
        case .plus(let a, let b), .minus(let a, let b):
            for side in [a, b] {
                if case .value(let v) = side, v.number == nil {
                    throw VideoStackError(.invalidInput, "+ and - in an update work on numbers only; the update of '\(path)' has a \(v.typeName).")
                }
                try checkArithmetic(side, path: path)
            }
        case .listAppend(let a, let b):
            for side in [a, b] {
                if case .value(let v) = side, v.list == nil {
                    throw VideoStackError(.invalidInput, "list_append joins two lists; the update of '\(path)' has a \(v.typeName).")
                }
            }
        default: return
        }
    }
}
