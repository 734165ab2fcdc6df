internal import Foundation

/// Unpadded base64 in the two alphabets security formats use: base64url (JWT, share and refresh
/// tokens, signed URLs) and standard base64 (PHC password-hash strings).
///
/// Decoding is strict: no padding, no whitespace, and the text must be the canonical encoding of
/// what it decodes to (unused trailing bits zero), so one token has exactly one spelling and a
/// tampered one never compares equal after a round trip.
enum Base64Text {
    static func encode(_ bytes: some Sequence<UInt8>, urlSafe: Bool) -> String {
        var text = Data(bytes).base64EncodedString()
        while text.last == "=" { text.removeLast() }
        if urlSafe {
            text = String(text.map { $0 == "+" ? "-" : $0 == "/" ? "_" : $0 })
        }
        return text
    }

    /// The bytes, or nil when `text` is not canonical unpadded base64 of the chosen alphabet.
    static func decode(_ text: some StringProtocol, urlSafe: Bool) -> [UInt8]? {
        let utf8 = text.utf8
        // A length of 1 modulo 4 cannot come from any byte string.
        guard utf8.count % 4 != 1 else { return nil }
        var standard = [UInt8]()
        standard.reserveCapacity(utf8.count + 3)
        for byte in utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                standard.append(byte)
            case UInt8(ascii: "-") where urlSafe: standard.append(UInt8(ascii: "+"))
            case UInt8(ascii: "_") where urlSafe: standard.append(UInt8(ascii: "/"))
            case UInt8(ascii: "+") where !urlSafe, UInt8(ascii: "/") where !urlSafe: standard.append(byte)
            default: return nil
            }
        }
        while standard.count % 4 != 0 { standard.append(UInt8(ascii: "=")) }
        guard let data = Data(base64Encoded: Data(standard)) else { return nil }
        let bytes = [UInt8](data)
        guard encode(bytes, urlSafe: urlSafe).utf8.elementsEqual(utf8) else { return nil }
        return bytes
    }
}
