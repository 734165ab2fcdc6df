import Testing
@testable import SearchIndex

@Suite("Analyzer")
struct AnalyzerTests {
    @Test("case and diacritics fold, also from combining marks")
    func folding() {
        #expect(TextAnalyzer.terms(of: "Café CAFÉ Cafe\u{301}") == ["cafe", "cafe", "cafe"])
        #expect(TextAnalyzer.terms(of: "Straße") == ["strasse"])
        #expect(TextAnalyzer.terms(of: "Ærøskøbing Łódź") == ["aeroskobing", "lodz"])
        #expect(TextAnalyzer.terms(of: "ΣΟΦΊΑ σοφία") == ["σοφια", "σοφια"])
    }

    @Test("NFKC: ligatures and full-width forms")
    func compatibility() {
        #expect(TextAnalyzer.terms(of: "ﬁlm") == ["film"])
        #expect(TextAnalyzer.terms(of: "ＡＢＣ１２") == ["abc12"])
    }

    @Test("punctuation splits words; apostrophes index both parts and the joined word")
    func punctuation() {
        #expect(TextAnalyzer.terms(of: "rock-and-roll, live!") == ["rock", "and", "roll", "live"])
        #expect(TextAnalyzer.terms(of: "Don't stop") == ["don", "t", "dont", "stop"])
        #expect(TextAnalyzer.terms(of: "l’amour") == ["l", "amour", "lamour"])
    }

    @Test("numbers keep thousands and decimals together")
    func numbers() {
        #expect(TextAnalyzer.terms(of: "1,000 views in 3.5 days, 2024") == ["1000", "views", "in", "3.5", "days", "2024"])
        #expect(TextAnalyzer.terms(of: "mp4 h264") == ["mp4", "h264"])
    }

    @Test("CJK runs become bigrams; a lone character stays")
    func cjk() {
        #expect(TextAnalyzer.terms(of: "東京タワー") == ["東京", "京タ", "タワ", "ワー"])
        #expect(TextAnalyzer.terms(of: "猫 video") == ["猫", "video"])
        #expect(TextAnalyzer.terms(of: "한국어") == ["한국", "국어"])
    }

    @Test("hostile input: control characters, invalid UTF-8 positions, huge words")
    func hostile() {
        #expect(TextAnalyzer.terms(of: "\u{0}\u{1}\u{7F}\u{202E}!!!???") == [])
        let long = String(repeating: "a", count: 10_000)
        let terms = TextAnalyzer.terms(of: long)
        #expect(terms.count == 1)
        #expect(terms[0].utf8.count == TextAnalyzer.maxTermBytes)
        #expect(TextAnalyzer.terms(of: "a\u{FFFD}b") == ["a", "b"])
    }
}
