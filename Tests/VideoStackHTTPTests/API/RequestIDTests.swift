import Testing
@testable import VideoStackHTTP

/// Request ids made without a system call are still unique and look like 96 random bits.
@Suite struct RequestIDTests {
    @Test func idsAreUniqueTwentyFourHexDigitsWithoutAVisibleSequence() {
        var seen = Set<String>()
        var previous: String?
        var sharedPrefixes = 0
        for _ in 0..<100_000 {
            let id = RequestIDs.next()
            #expect(id.utf8.count == 24 && id.utf8.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }, "\(id)")
            #expect(seen.insert(id).inserted, "\(id) repeated")
            // After the process prefix (8 digits), consecutive ids share no more than chance does.
            if let previous, previous.dropFirst(8).prefix(4) == id.dropFirst(8).prefix(4) { sharedPrefixes += 1 }
            previous = id
        }
        #expect(sharedPrefixes < 20, "consecutive ids look sequential: \(sharedPrefixes) of 100000 share 16 bits")
    }
}
