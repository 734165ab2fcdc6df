/// The identifier of one upload: 128 random bits as 32 lowercase hexadecimal digits.
///
/// The id is the only thing a tus client needs to write to an upload (it is the last part of
/// the upload's URL), so it is made unguessable: the bits come from the system's
/// cryptographically secure generator (`getrandom(2)` on Linux). Parsing accepts exactly the
/// text form, so a hostile id can never name a file outside the upload directory.
public struct UploadID: Hashable, Sendable, CustomStringConvertible, LosslessStringConvertible {
    /// The 32-character text form.
    public let text: String

    /// A new random id.
    public init() {
        var generator = SystemRandomNumberGenerator()
        text = Self.hex(generator.next()) + Self.hex(generator.next())
    }

    /// Parses the text form; nil for anything that is not 32 lowercase hexadecimal digits.
    public init?(_ text: String) {
        guard text.utf8.count == 32, text.utf8.allSatisfy({ (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }) else {
            return nil
        }
        self.text = text
    }

    /// The text form.
    public var description: String { text }

    private static func hex(_ value: UInt64) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }
}
