internal import VideoCore
/// The right-hand side of a `SET` action.
public indirect enum UpdateValue: Hashable, Sendable {
    case value(AttributeValue)
    /// Copies another attribute of the item.
    case path(AttributePath)
    /// The attribute's value if it exists, otherwise the fallback.
    case ifNotExists(AttributePath, AttributeValue)
    /// Number addition.
    case plus(UpdateValue, UpdateValue)
    /// Number subtraction.
    case minus(UpdateValue, UpdateValue)
    /// The concatenation of two lists.
    case listAppend(UpdateValue, UpdateValue)
}

/// One action of an update, as in DynamoDB's update expressions.
///
/// ```swift
/// try await store.updateItem(key: key, actions: [
///     .set("title", .value("New title")),
///     .add("views", 1),                       // atomic counter
///     .set("history", .listAppend(.ifNotExists("history", []), .value(["renamed"]))),
///     .remove("draft"),
/// ])
/// ```
public enum UpdateAction: Hashable, Sendable {
    /// Sets the attribute at the path (the parent of a nested path must exist).
    case set(AttributePath, UpdateValue)
    /// Removes the attribute (or list element) at the path.
    case remove(AttributePath)
    /// Adds a number to a number attribute (0 if missing), or elements to a set attribute.
    case add(AttributePath, AttributeValue)
    /// Removes elements from a set attribute; an emptied set is removed.
    case delete(AttributePath, AttributeValue)

    public var path: AttributePath {
        switch self {
        case .set(let p, _), .remove(let p), .add(let p, _), .delete(let p, _): p
        }
    }
}

/// What an update or a write returns.
public enum ReturnValues: Sendable {
    case none
    /// The whole item as it was before.
    case allOld
    /// The updated attributes as they were before.
    case updatedOld
    /// The whole item as it is after.
    case allNew
    /// The updated attributes as they are after.
    case updatedNew
}

// MARK: - Applying updates

extension [UpdateAction] {
    /// Applies the actions to a copy of `item` (or a new item made of `key`), as DynamoDB does.
    /// Throws `invalidInput` for overlapping paths, key changes, type mismatches, or a nested path
    /// whose parent is missing.
    func apply(to item: Item?, key: Item, keyNames: Set<String>) throws -> Item {
        guard !isEmpty else {
            throw VideoStackError(.invalidInput, "An update needs at least one action.")
        }
        guard count <= 1000 else {
            throw VideoStackError(.limitExceeded, "An update may have at most 1,000 actions; this one has \(count).")
        }
        for (i, action) in enumerated() {
            try action.path.validate()
            if keyNames.contains(action.path.root) {
                throw VideoStackError(.invalidInput, "An update cannot change the key attribute '\(action.path.root)'; write a new item instead.")
            }
            for other in self[(i + 1)...] where action.path.overlaps(other.path) {
                throw VideoStackError(.invalidInput, "Two actions of one update touch overlapping paths '\(action.path)' and '\(other.path)'.")
            }
        }
        let original = item ?? key
        var result = original
        // Values on the right-hand side are read from the item as it was before the update.
        for action in self {
            switch action {
            case .set(let path, let value):
                try result.assign(try value.evaluate(in: original), at: path)
            case .remove:
                continue  // below, after every other action
            case .add(let path, let operand):
                let current = path.resolve(in: result)
                switch (current, operand) {
                case (nil, .n), (nil, .ss), (nil, .ns), (nil, .bs):
                    try result.assign(operand, at: path)
                case (.n(let a)?, .n(let b)):
                    try result.assign(.n(try Number.adding(a, b)), at: path)
                case (.ss(let a)?, .ss(let b)): try result.assign(.ss(a.union(b)), at: path)
                case (.ns(let a)?, .ns(let b)): try result.assign(.ns(a.union(b)), at: path)
                case (.bs(let a)?, .bs(let b)): try result.assign(.bs(a.union(b)), at: path)
                default:
                    throw VideoStackError(.invalidInput, "ADD works on numbers and sets of the same type; '\(path)' is \(current?.typeName ?? "missing") and the operand is \(operand.typeName).")
                }
            case .delete(let path, let operand):
                let current = path.resolve(in: result)
                var remaining: AttributeValue?
                switch (current, operand) {
                case (nil, .ss), (nil, .ns), (nil, .bs): continue
                case (.ss(let a)?, .ss(let b)): remaining = a.subtracting(b).isEmpty ? nil : .ss(a.subtracting(b))
                case (.ns(let a)?, .ns(let b)): remaining = a.subtracting(b).isEmpty ? nil : .ns(a.subtracting(b))
                case (.bs(let a)?, .bs(let b)): remaining = a.subtracting(b).isEmpty ? nil : .bs(a.subtracting(b))
                default:
                    throw VideoStackError(.invalidInput, "DELETE removes elements from a set with a set of the same type; '\(path)' is \(current?.typeName ?? "missing") and the operand is \(operand.typeName).")
                }
                if let remaining { try result.assign(remaining, at: path) } else { result.removeValue(at: path) }
            }
        }
        // DynamoDB resolves every path against the item as it was: removing tags[0] and tags[1]
        // removes the first two elements. Removing from the end first keeps the lower indexes valid.
        let removals = compactMap { action -> AttributePath? in
            if case .remove(let path) = action { return path }
            return nil
        }
        for path in removals.sorted(by: { $0.sortsAfter($1) }) {
            result.removeValue(at: path)
        }
        return result
    }
}

extension AttributePath {
    /// Component-wise order with list indexes compared as numbers, reversed: `a[2]` before `a[1]`
    /// (the order REMOVEs are applied in, so each one resolves against the item as it was).
    package func sortsAfter(_ other: AttributePath) -> Bool {
        for (mine, theirs) in zip(components, other.components) {
            switch (mine, theirs) {
            case (.index(let a), .index(let b)) where a != b: return a > b
            case (.name(let a), .name(let b)) where a != b: return a > b
            case (.name, .index): return true
            case (.index, .name): return false
            default: continue
            }
        }
        return components.count > other.components.count
    }
}

extension UpdateValue {
    func evaluate(in item: Item) throws -> AttributeValue {
        switch self {
        case .value(let v): return v
        case .path(let p):
            guard let v = p.resolve(in: item) else {
                throw VideoStackError(.invalidInput, "The update copies '\(p)', which the item does not have.")
            }
            return v
        case .ifNotExists(let p, let fallback):
            return p.resolve(in: item) ?? fallback
        case .plus(let a, let b), .minus(let a, let b):
            guard case .n(let x) = try a.evaluate(in: item), case .n(let y) = try b.evaluate(in: item) else {
                throw VideoStackError(.invalidInput, "+ and - in an update work on numbers only.")
            }
            if case .plus = self { return .n(try Number.adding(x, y)) }
            return .n(try Number.subtracting(x, y))
        case .listAppend(let a, let b):
            guard case .l(let x) = try a.evaluate(in: item), case .l(let y) = try b.evaluate(in: item) else {
                throw VideoStackError(.invalidInput, "list_append joins two lists; an operand is not a list.")
            }
            return .l(x + y)
        }
    }
}

extension Item {
    /// Sets `value` at `path`. A list index past the end appends, as in DynamoDB.
    mutating func assign(_ value: AttributeValue, at path: AttributePath) throws {
        guard case .name(let first) = path.components[0] else { return }
        if path.components.count == 1 {
            self[first] = value
            return
        }
        guard var child = self[first] else {
            throw VideoStackError(.invalidInput, "The update path '\(path)' is invalid: '\(first)' does not exist.")
        }
        try child.assign(value, at: path.components.dropFirst(), fullPath: path)
        self[first] = child
    }

    /// Removes the value at `path`; a missing path is not an error.
    mutating func removeValue(at path: AttributePath) {
        guard case .name(let first) = path.components[0] else { return }
        if path.components.count == 1 {
            self[first] = nil
            return
        }
        guard var child = self[first] else { return }
        child.remove(at: path.components.dropFirst())
        self[first] = child
    }
}

extension AttributeValue {
    fileprivate mutating func assign(_ value: AttributeValue, at components: ArraySlice<AttributePath.Component>, fullPath: AttributePath) throws {
        let component = components.first!
        let rest = components.dropFirst()
        switch (component, self) {
        case (.name(let name), .m(var map)):
            if rest.isEmpty {
                map[name] = value
            } else {
                guard var child = map[name] else {
                    throw VideoStackError(.invalidInput, "The update path '\(fullPath)' is invalid: '\(name)' does not exist.")
                }
                try child.assign(value, at: rest, fullPath: fullPath)
                map[name] = child
            }
            self = .m(map)
        case (.index(let index), .l(var list)):
            if rest.isEmpty {
                if index < list.count { list[index] = value } else { list.append(value) }
            } else {
                guard index < list.count else {
                    throw VideoStackError(.invalidInput, "The update path '\(fullPath)' is invalid: index \(index) is past the end of the list.")
                }
                try list[index].assign(value, at: rest, fullPath: fullPath)
            }
            self = .l(list)
        default:
            throw VideoStackError(.invalidInput, "The update path '\(fullPath)' is invalid for the item: a step names a map key in a non-map or an index in a non-list.")
        }
    }

    fileprivate mutating func remove(at components: ArraySlice<AttributePath.Component>) {
        let component = components.first!
        let rest = components.dropFirst()
        switch (component, self) {
        case (.name(let name), .m(var map)):
            if rest.isEmpty { map[name] = nil } else if var child = map[name] {
                child.remove(at: rest)
                map[name] = child
            }
            self = .m(map)
        case (.index(let index), .l(var list)) where index < list.count:
            if rest.isEmpty { list.remove(at: index) } else { list[index].remove(at: rest) }
            self = .l(list)
        default:
            return
        }
    }
}
