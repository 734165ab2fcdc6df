internal import Foundation

/// One token produced by ``TextAnalyzer``: where its folded bytes sit in a ``TokenBuffer`` and
/// which UTF-8 byte range of the source text it came from (for highlights).
struct AnalyzedToken: Sendable {
    var termStart: Int32
    var termLength: Int32
    var sourceStart: Int32
    var sourceEnd: Int32
}

/// Reusable scratch space for analysis, so indexing a million documents does not allocate per token.
struct TokenBuffer {
    var bytes: [UInt8] = []
    var tokens: [AnalyzedToken] = []

    mutating func removeAll() {
        bytes.removeAll(keepingCapacity: true)
        tokens.removeAll(keepingCapacity: true)
    }

    func term(_ index: Int) -> ArraySlice<UInt8> {
        let token = tokens[index]
        return bytes[Int(token.termStart)..<Int(token.termStart + token.termLength)]
    }
}

/// Turns text into search terms: NFKC, case folding, diacritic removal, word splitting, CJK bigrams.
///
/// Rules (the same for documents and queries, so they always agree):
/// - Letters and digits form words; everything else separates them. Compatibility forms are
///   normalized (NFKC: `ﬁ` → `fi`, full-width `Ａ` → `a`), case is folded fully (`ß` → `ss`),
///   diacritics are dropped (`Café` → `cafe`, also when written with combining marks), and a few
///   letters without a decomposition are spelled out (`ø` → `o`, `æ` → `ae`, `ł` → `l`).
/// - An apostrophe inside a word (`don't`, `l'amour`) splits it, and the joined form (`dont`,
///   `lamour`) is indexed too, so both spellings find it.
/// - Digit groups separated by `,` join (`1,000` → `1000`); a `.` between digits is kept (`3.5`).
/// - Han, kana and Hangul have no spaces: each run becomes overlapping bigrams (`東京タワー` →
///   `東京`, `京タ`, `タワ`, `ワー`); a single character stays a unigram.
/// - Terms are capped at ``maxTermBytes`` bytes, so hostile input cannot make huge terms.
///
/// Thread safety: stateless; the fold table is built once, lazily, and shared read-only.
struct TextAnalyzer: Sendable {
    static let maxTermBytes = 64

    /// Appends the tokens of `text` to `buffer`.
    static func analyze(_ text: String, into buffer: inout TokenBuffer) {
        var text = text
        text.withUTF8 { utf8 in
            analyze(utf8: utf8, into: &buffer)
        }
    }

    /// Convenience for tests and queries: the folded terms of `text` as strings.
    static func terms(of text: String) -> [String] {
        var buffer = TokenBuffer()
        analyze(text, into: &buffer)
        return buffer.tokens.indices.map { String(decoding: buffer.term($0), as: UTF8.self) }
    }

    static func analyze(utf8 src: UnsafeBufferPointer<UInt8>, into out: inout TokenBuffer) {
        let table = FoldTable.shared
        var wordStart = -1          // byte offset in `out.bytes` where the current word starts
        var wordSourceStart = 0
        var wordSourceEnd = 0
        // The token before an apostrophe, if the next word should also be emitted joined to it.
        var joinWith: (termStart: Int, termLength: Int, sourceStart: Int)? = nil
        var cjk: [(start: Int, end: Int, bytes: ArraySlice<UInt8>)] = []
        var cjkBytes: [UInt8] = []

        func endWord(_ out: inout TokenBuffer) {
            guard wordStart >= 0 else { return }
            var length = out.bytes.count - wordStart
            if length > maxTermBytes {
                out.bytes.removeLast(length - maxTermBytes)
                length = maxTermBytes
            }
            out.tokens.append(AnalyzedToken(termStart: Int32(wordStart), termLength: Int32(length),
                                            sourceStart: Int32(wordSourceStart), sourceEnd: Int32(wordSourceEnd)))
            if let join = joinWith {
                let joinedLength = join.termLength + length
                if joinedLength <= maxTermBytes {
                    let start = out.bytes.count
                    out.bytes.append(contentsOf: out.bytes[join.termStart..<(join.termStart + join.termLength)])
                    out.bytes.append(contentsOf: out.bytes[wordStart..<(wordStart + length)])
                    out.tokens.append(AnalyzedToken(termStart: Int32(start), termLength: Int32(joinedLength),
                                                    sourceStart: Int32(join.sourceStart), sourceEnd: Int32(wordSourceEnd)))
                }
                joinWith = nil
            }
            wordStart = -1
        }

        func endCJK(_ out: inout TokenBuffer) {
            guard !cjk.isEmpty else { return }
            if cjk.count == 1 {
                let start = out.bytes.count
                out.bytes.append(contentsOf: cjk[0].bytes)
                out.tokens.append(AnalyzedToken(termStart: Int32(start), termLength: Int32(cjk[0].bytes.count),
                                                sourceStart: Int32(cjk[0].start), sourceEnd: Int32(cjk[0].end)))
            } else {
                for index in 0..<(cjk.count - 1) {
                    let start = out.bytes.count
                    out.bytes.append(contentsOf: cjk[index].bytes)
                    out.bytes.append(contentsOf: cjk[index + 1].bytes)
                    out.tokens.append(AnalyzedToken(termStart: Int32(start), termLength: Int32(out.bytes.count - start),
                                                    sourceStart: Int32(cjk[index].start), sourceEnd: Int32(cjk[index + 1].end)))
                }
            }
            cjk.removeAll(keepingCapacity: true)
            cjkBytes.removeAll(keepingCapacity: true)
        }

        func startWordIfNeeded(_ out: inout TokenBuffer, at offset: Int) {
            if wordStart < 0 {
                wordStart = out.bytes.count
                wordSourceStart = offset
            }
        }

        var i = 0
        let n = src.count
        while i < n {
            let byte = src[i]
            if byte < 0x80 {
                // ASCII fast path: the bulk of real text.
                if (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x30 && byte <= 0x39) {
                    endCJK(&out)
                    startWordIfNeeded(&out, at: i)
                    out.bytes.append(byte)
                    wordSourceEnd = i + 1
                } else if byte >= 0x41 && byte <= 0x5A {
                    endCJK(&out)
                    startWordIfNeeded(&out, at: i)
                    out.bytes.append(byte | 0x20)
                    wordSourceEnd = i + 1
                } else if (byte == 0x2C || byte == 0x2E), wordStart >= 0, let last = out.bytes.last,
                          last >= 0x30 && last <= 0x39, i + 1 < n, src[i + 1] >= 0x30 && src[i + 1] <= 0x39 {
                    if byte == 0x2E { out.bytes.append(byte) }
                } else if byte == 0x27, wordStart >= 0, i + 1 < n, isWordStart(src, i + 1, table) {
                    let start = wordStart
                    let sourceStart = wordSourceStart
                    let length = min(out.bytes.count - start, maxTermBytes)
                    endWord(&out)
                    joinWith = (start, length, sourceStart)
                } else {
                    endWord(&out)
                    endCJK(&out)
                    joinWith = nil
                }
                i += 1
                continue
            }
            let (scalar, width) = decodeScalar(src, i)
            let end = i + width
            if scalar == 0x2019, wordStart >= 0, end < n, isWordStart(src, end, table) {
                let start = wordStart
                let sourceStart = wordSourceStart
                let length = min(out.bytes.count - start, maxTermBytes)
                endWord(&out)
                joinWith = (start, length, sourceStart)
                i = end
                continue
            }
            switch table.classify(scalar) {
            case .word(let folded):
                endCJK(&out)
                startWordIfNeeded(&out, at: i)
                out.bytes.append(contentsOf: folded)
                wordSourceEnd = end
            case .mark:
                // A combining mark belongs to the letter before it; diacritics fold away.
                if wordStart >= 0 { wordSourceEnd = end }
            case .cjk(let folded):
                endWord(&out)
                joinWith = nil
                let start = cjkBytes.count
                cjkBytes.append(contentsOf: folded)
                cjk.append((i, end, cjkBytes[start..<cjkBytes.count]))
            case .separator:
                endWord(&out)
                endCJK(&out)
                joinWith = nil
            }
            i = end
        }
        endWord(&out)
        endCJK(&out)
    }

    private static func isWordStart(_ src: UnsafeBufferPointer<UInt8>, _ i: Int, _ table: FoldTable) -> Bool {
        let byte = src[i]
        if byte < 0x80 {
            return (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x30 && byte <= 0x39)
        }
        if case .word = table.classify(decodeScalar(src, i).0) { return true }
        return false
    }

    /// Decodes one scalar; malformed bytes decode as U+FFFD of width 1 (a separator), never trap.
    @inline(__always)
    static func decodeScalar(_ src: UnsafeBufferPointer<UInt8>, _ i: Int) -> (UInt32, Int) {
        let b0 = UInt32(src[i])
        let n = src.count
        func cont(_ k: Int) -> UInt32? {
            guard i + k < n else { return nil }
            let b = src[i + k]
            return b & 0xC0 == 0x80 ? UInt32(b & 0x3F) : nil
        }
        if b0 & 0xE0 == 0xC0, let c1 = cont(1) {
            return ((b0 & 0x1F) << 6 | c1, 2)
        }
        if b0 & 0xF0 == 0xE0, let c1 = cont(1), let c2 = cont(2) {
            return ((b0 & 0x0F) << 12 | c1 << 6 | c2, 3)
        }
        if b0 & 0xF8 == 0xF0, let c1 = cont(1), let c2 = cont(2), let c3 = cont(3) {
            return ((b0 & 0x07) << 18 | c1 << 12 | c2 << 6 | c3, 4)
        }
        return (0xFFFD, 1)
    }
}
