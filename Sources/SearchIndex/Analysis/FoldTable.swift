internal import Foundation

/// How the analyzer treats one Unicode scalar.
enum ScalarClass {
    /// Part of a word; the payload is its folded UTF-8 (possibly several bytes, e.g. `ß` → `ss`).
    case word(ArraySlice<UInt8>)
    /// A combining mark: dropped, but it stays inside the word it follows.
    case mark
    /// A Han, kana or Hangul character, indexed as bigrams; the payload is its NFKC form.
    case cjk(ArraySlice<UInt8>)
    case separator
}

/// The folded form of every scalar below U+3000, computed once with Foundation's normalization.
///
/// Foundation's NFKC and case mapping are far too slow to call per character over a million
/// documents, but the result for a single scalar never changes, so a table answers in O(1).
/// Scalars above the table (rare outside CJK, which is classified by range) are folded on the fly.
final class FoldTable: Sendable {
    static let shared = FoldTable()

    private static let limit: UInt32 = 0x3000
    /// Per scalar: kind in the top 2 bits (0 separator, 1 word, 2 mark), offset into `bytes` in
    /// the next 22, length in the low 8.
    private let entries: [UInt32]
    private let bytes: [UInt8]

    /// Letters with no canonical decomposition that users expect to match their base letter.
    private static let spelledOut: [Unicode.Scalar: String] = [
        "ø": "o", "æ": "ae", "œ": "oe", "ł": "l", "đ": "d", "ð": "d", "þ": "th", "ı": "i", "ħ": "h", "ŧ": "t",
    ]

    private init() {
        var entries = [UInt32](repeating: 0, count: Int(FoldTable.limit))
        var bytes: [UInt8] = []
        for value in 0x80..<FoldTable.limit {
            guard let scalar = Unicode.Scalar(value) else { continue }
            switch FoldTable.slowClassify(scalar) {
            case .separator, .cjk:
                entries[Int(value)] = 0
            case .mark:
                entries[Int(value)] = 2 << 30
            case .word(let folded):
                let offset = UInt32(bytes.count)
                bytes.append(contentsOf: folded)
                entries[Int(value)] = 1 << 30 | offset << 8 | UInt32(folded.count)
            }
        }
        self.entries = entries
        self.bytes = bytes
    }

    @inline(__always)
    func classify(_ value: UInt32) -> ScalarClass {
        if value < FoldTable.limit {
            let entry = entries[Int(value)]
            switch entry >> 30 {
            case 1:
                let offset = Int(entry >> 8 & 0x3F_FFFF)
                return .word(bytes[offset..<(offset + Int(entry & 0xFF))])
            case 2: return .mark
            default: return .separator
            }
        }
        // Full-width ASCII (Ａ, １) is NFKC-equivalent to ASCII.
        if value >= 0xFF10 && value <= 0xFF5A {
            if let scalar = Unicode.Scalar(value - 0xFEE0) {
                let byte = UInt8(scalar.value)
                if byte >= 0x30 && byte <= 0x39 { return .word([byte][...]) }
                if byte >= 0x41 && byte <= 0x5A { return .word([byte | 0x20][...]) }
                if byte >= 0x61 && byte <= 0x7A { return .word([byte][...]) }
            }
            return .separator
        }
        guard let scalar = Unicode.Scalar(value) else { return .separator }
        return FoldTable.slowClassify(scalar)
    }

    static func isCJK(_ value: UInt32) -> Bool {
        switch value {
        case 0x3040...0x30FF, 0x3100...0x312F, 0x31F0...0x31FF, 0x3400...0x4DBF, 0x4E00...0x9FFF,
             0xAC00...0xD7AF, 0xF900...0xFAFF, 0xFF66...0xFF9F, 0x20000...0x2FFFF:
            return true
        default:
            return false
        }
    }

    static func slowClassify(_ scalar: Unicode.Scalar) -> ScalarClass {
        let properties = scalar.properties
        switch properties.generalCategory {
        case .nonspacingMark, .spacingMark, .enclosingMark:
            return .mark
        default:
            break
        }
        if isCJK(scalar.value) {
            let normalized = String(scalar).precomposedStringWithCompatibilityMapping
            return .cjk(Array(normalized.utf8)[...])
        }
        guard properties.isAlphabetic || properties.numericType != nil else { return .separator }
        let folded = fold(scalar)
        return folded.isEmpty ? .separator : .word(Array(folded.utf8)[...])
    }

    /// NFKC, full case folding, diacritics stripped, non-alphanumerics dropped.
    static func fold(_ scalar: Unicode.Scalar) -> String {
        if let spelled = spelledOut[scalar] { return spelled }
        let compatible = String(scalar).precomposedStringWithCompatibilityMapping
        // Upper then lower applies the full case mappings (ß → SS → ss, ς → Σ → σ).
        let cased = compatible.uppercased().lowercased()
        var out = String.UnicodeScalarView()
        for piece in cased.decomposedStringWithCanonicalMapping.unicodeScalars {
            if let spelled = spelledOut[piece] {
                out.append(contentsOf: spelled.unicodeScalars)
                continue
            }
            let properties = piece.properties
            switch properties.generalCategory {
            case .nonspacingMark, .spacingMark, .enclosingMark:
                continue
            default:
                if properties.isAlphabetic || properties.numericType != nil { out.append(piece) }
            }
        }
        return String(out)
    }
}
