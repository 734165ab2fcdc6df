/// Finds the spans of a text that a query plan matches.
struct Highlighter: Sendable {
    private let terms: Set<[UInt8]>
    private let prefix: [UInt8]?

    init(plan: QueryPlan) {
        terms = Set(plan.groups.flatMap { $0.map(\.term) })
        prefix = plan.prefix
    }

    func highlight(_ text: String) -> HighlightedText {
        var buffer = TokenBuffer()
        TextAnalyzer.analyze(text, into: &buffer)
        var spans: [(Int, Int)] = []
        for index in buffer.tokens.indices {
            let term = buffer.term(index)
            var matched = terms.contains(Array(term))
            if !matched, let prefix, term.count >= prefix.count, term.starts(with: prefix) { matched = true }
            if matched {
                let token = buffer.tokens[index]
                spans.append((Int(token.sourceStart), Int(token.sourceEnd)))
            }
        }
        spans.sort { $0.0 < $1.0 }
        var merged: [(Int, Int)] = []
        for span in spans {
            if let last = merged.last, span.0 <= last.1 {
                merged[merged.count - 1].1 = max(last.1, span.1)
            } else {
                merged.append(span)
            }
        }
        let utf8 = text.utf8
        let ranges = merged.map { span -> Range<String.Index> in
            utf8.index(utf8.startIndex, offsetBy: span.0)..<utf8.index(utf8.startIndex, offsetBy: span.1)
        }
        return HighlightedText(text: text, matches: ranges)
    }
}
