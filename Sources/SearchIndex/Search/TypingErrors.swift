/// How likely a one-edit difference between a typed word and a dictionary word is as a typing
/// slip (see ``SearchIndexConfiguration/unlikelyEditMultiplier``).
///
/// The classes follow how many ways there are to make each slip, as a noisy-channel likelihood
/// without a word-frequency prior: a swap of two adjacent letters, a letter left out or a letter
/// typed twice can each happen in about one way per position, so a specific one of them is as
/// likely as the typo itself; a letter replaced by a key touching it on a QWERTY keyboard or by a
/// letter that sounds alike (a vowel for a vowel, `y` for `i`, `k` for `c`…), or a letter
/// inserted next to one whose key it touches, in a handful of ways; any other substitution or
/// insertion in one of 25. Letters outside ASCII count as unrelated.
enum TypingErrors {
    enum Slip: Comparable {
        /// Any other one-edit difference.
        case unlikely
        /// A neighbouring key or a sound-alike letter.
        case nearby
        /// A swap, an omission or a doubled letter.
        case likely
    }

    /// The slip that turns `intended` into `typed` (analyzed terms one edit apart).
    static func slip(typed: [UInt8], intended: [UInt8]) -> Slip {
        let t = typed, v = intended
        if t.count == v.count {
            guard let i = t.indices.first(where: { t[$0] != v[$0] }) else { return .unlikely }
            if t[(i + 1)...] == v[(i + 1)...] {
                return touches(t[i], v[i]) || soundsAlike(t[i], v[i]) ? .nearby : .unlikely
            }
            // An adjacent swap.
            let swap = i + 1 < t.count && t[i] == v[i + 1] && t[i + 1] == v[i] && t[(i + 2)...] == v[(i + 2)...]
            return swap ? .likely : .unlikely
        }
        if t.count + 1 == v.count {
            // A letter left out: whichever it was, people drop letters of every kind.
            return isDeletion(of: v, giving: t) ? .likely : .unlikely
        }
        var best = Slip.unlikely
        if t.count == v.count + 1 {
            // A letter too many: a doubled neighbour, or a key touching a neighbour's.
            for j in t.indices where isRemoval(of: j, from: t, giving: v) {
                let extra = t[j]
                let before = j > 0 ? t[j - 1] : nil, after = j + 1 < t.count ? t[j + 1] : nil
                if before == extra || after == extra { return .likely }
                if before.map({ touches($0, extra) }) == true || after.map({ touches($0, extra) }) == true { best = .nearby }
            }
        }
        return best
    }

    private static func isRemoval(of j: Int, from longer: [UInt8], giving shorter: [UInt8]) -> Bool {
        longer[..<j].elementsEqual(shorter[..<j]) && longer[(j + 1)...].elementsEqual(shorter[j...])
    }

    private static func isDeletion(of longer: [UInt8], giving shorter: [UInt8]) -> Bool {
        longer.indices.contains { isRemoval(of: $0, from: longer, giving: shorter) }
    }

    /// Letter → the letters whose QWERTY keys touch it (a-z as 0-25; bit n = letter n).
    private static let neighbours: [UInt32] = {
        let rows: [[UInt8]] = ["qwertyuiop", "asdfghjkl", "zxcvbnm"].map { Array($0.utf8) }
        var table = [UInt32](repeating: 0, count: 26)
        // Rows are staggered: key c of a row touches keys c and c+1 of the row above and
        // c-1 and c of the row below.
        for (r, row) in rows.enumerated() {
            for (c, key) in row.enumerated() {
                var near: [(Int, Int)] = [(r, c - 1), (r, c + 1), (r - 1, c), (r - 1, c + 1), (r + 1, c - 1), (r + 1, c)]
                near.removeAll { $0.0 < 0 || $0.0 >= rows.count || $0.1 < 0 || $0.1 >= rows[$0.0].count }
                for (rr, cc) in near { table[Int(key - 97)] |= 1 << UInt32(rows[rr][cc] - 97) }
            }
        }
        return table
    }()

    /// Groups of letters written for one another by sound: vowels (and y), and the consonant
    /// pairs of English and Romance spelling.
    private static let soundGroups: [UInt32] = {
        let groups = ["aeiouy", "ck", "cs", "sz", "kq", "mn", "dt", "bp", "gj", "fv"]
        var table = [UInt32](repeating: 0, count: 26)
        for group in groups {
            let letters = group.utf8.map { UInt32($0 - 97) }
            for a in letters { for b in letters where a != b { table[Int(a)] |= 1 << b } }
        }
        return table
    }()

    private static func letter(_ byte: UInt8) -> Int? { byte >= 97 && byte <= 122 ? Int(byte - 97) : nil }

    static func touches(_ a: UInt8, _ b: UInt8) -> Bool {
        guard let x = letter(a), let y = letter(b) else { return false }
        return neighbours[x] & (1 << UInt32(y)) != 0
    }

    static func soundsAlike(_ a: UInt8, _ b: UInt8) -> Bool {
        guard let x = letter(a), let y = letter(b) else { return false }
        return soundGroups[x] & (1 << UInt32(y)) != 0
    }
}
