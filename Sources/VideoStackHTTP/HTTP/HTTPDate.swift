/// An HTTP date (RFC 9110 §5.6.7): whole seconds since 1970 in UTC.
///
/// HTTP dates have one-second resolution, so comparisons for `If-Modified-Since`,
/// `If-Unmodified-Since` and `If-Range` are made between whole seconds: a file's modification time
/// is truncated before it is compared or sent. Formatting and parsing are done by hand, without
/// `DateFormatter`, because they run on every request.
struct HTTPDate: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// Seconds since 1970-01-01T00:00:00Z.
    var secondsSince1970: Int64

    /// The date `seconds` after 1970-01-01T00:00:00Z.
    init(secondsSince1970 seconds: Int64) {
        self.secondsSince1970 = seconds
    }

    static func < (lhs: HTTPDate, rhs: HTTPDate) -> Bool {
        lhs.secondsSince1970 < rhs.secondsSince1970
    }

    private static let dayNames = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
    private static let longDayNames = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
    private static let monthNames = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    /// The preferred form, IMF-fixdate: `Sun, 06 Nov 1994 08:49:37 GMT`.
    var description: String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(29)
        let (days, secondOfDay) = dayAndSecond
        let (year, month, day) = Self.civil(fromDays: days)
        // 1970-01-01 was a Thursday (index 3 from Monday).
        let weekday = Int(((days % 7) + 7 + 3) % 7)
        bytes += Self.dayNames[weekday].utf8
        bytes += ", ".utf8
        Self.append(day, digits: 2, to: &bytes)
        bytes.append(UInt8(ascii: " "))
        bytes += Self.monthNames[month - 1].utf8
        bytes.append(UInt8(ascii: " "))
        Self.append(Int(year), digits: 4, to: &bytes)
        bytes.append(UInt8(ascii: " "))
        Self.appendClock(secondOfDay, to: &bytes)
        bytes += " GMT".utf8
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Days since 1970-01-01 (rounded down) and the second of that day.
    private var dayAndSecond: (days: Int64, second: Int) {
        let days = secondsSince1970 >= 0 ? secondsSince1970 / 86_400 : (secondsSince1970 - 86_399) / 86_400
        return (days, Int(secondsSince1970 - days * 86_400))
    }

    /// ISO 8601 in UTC to the second, as JSON dates are written: `1994-11-06T08:49:37Z`.
    var iso8601: String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(20)
        appendISO8601(to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Appends ``iso8601``'s text (ASCII digits and `-:TZ`, nothing to escape in JSON).
    func appendISO8601(to bytes: inout [UInt8]) {
        let (days, secondOfDay) = dayAndSecond
        let (year, month, day) = Self.civil(fromDays: days)
        Self.append(Int(year), digits: 4, to: &bytes)
        bytes.append(UInt8(ascii: "-"))
        Self.append(month, digits: 2, to: &bytes)
        bytes.append(UInt8(ascii: "-"))
        Self.append(day, digits: 2, to: &bytes)
        bytes.append(UInt8(ascii: "T"))
        Self.appendClock(secondOfDay, to: &bytes)
        bytes.append(UInt8(ascii: "Z"))
    }

    /// Parses any of the three forms a recipient must accept (RFC 9110 §5.6.7): IMF-fixdate,
    /// the obsolete RFC 850 form (`Sunday, 06-Nov-94 08:49:37 GMT`) and asctime
    /// (`Sun Nov  6 08:49:37 1994`). Returns nil for anything else.
    init?(_ text: some StringProtocol) {
        var scanner = DateScanner(Array(text.utf8))
        guard let seconds = scanner.parse() else { return nil }
        self.secondsSince1970 = seconds
    }

    /// `HH:MM:SS` of a second of the day.
    private static func appendClock(_ secondOfDay: Int, to bytes: inout [UInt8]) {
        append(secondOfDay / 3600, digits: 2, to: &bytes)
        bytes.append(UInt8(ascii: ":"))
        append(secondOfDay / 60 % 60, digits: 2, to: &bytes)
        bytes.append(UInt8(ascii: ":"))
        append(secondOfDay % 60, digits: 2, to: &bytes)
    }

    /// `value` in decimal, zero-padded to `digits` (a value that does not fit, such as a year
    /// past 9999, is written in full; a negative one keeps its sign after the padding zeros).
    private static func append(_ value: Int, digits: Int, to bytes: inout [UInt8]) {
        var divisor = 1
        for _ in 1..<digits { divisor *= 10 }
        if value >= 0 && value < divisor * 10 {
            // The common case, digit by digit without a string.
            var rest = value
            while divisor > 0 {
                bytes.append(0x30 + UInt8(rest / divisor))
                rest %= divisor
                divisor /= 10
            }
            return
        }
        var text = Array(String(value).utf8)
        while text.count < digits { text.insert(UInt8(ascii: "0"), at: 0) }
        bytes += text
    }

    /// Year, month (1-12) and day (1-31) of a day count since 1970 (Howard Hinnant's algorithm).
    static func civil(fromDays days: Int64) -> (year: Int64, month: Int, day: Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = Int(dayOfYear - (153 * mp + 2) / 5 + 1)
        let month = Int(mp < 10 ? mp + 3 : mp - 9)
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    /// Days since 1970 of a civil date (the inverse of ``civil(fromDays:)``).
    static func days(year: Int64, month: Int, day: Int) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let m = Int64(month)
        let dayOfYear = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + Int64(day) - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    fileprivate static func month(named bytes: ArraySlice<UInt8>) -> Int? {
        guard bytes.count == 3 else { return nil }
        let name = String(decoding: bytes, as: UTF8.self)
        return monthNames.firstIndex(of: name).map { $0 + 1 }
    }

    fileprivate static func isDayName(_ bytes: ArraySlice<UInt8>, long: Bool) -> Bool {
        let name = String(decoding: bytes, as: UTF8.self)
        return long ? longDayNames.contains(name) : dayNames.contains(name)
    }
}

/// A byte-wise parser for the three HTTP date forms.
private struct DateScanner {
    let bytes: [UInt8]
    var index = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    mutating func parse() -> Int64? {
        // The day name decides the form: "Sun," (IMF), "Sunday," (RFC 850), "Sun " (asctime).
        let nameEnd = bytes.firstIndex(where: { $0 == UInt8(ascii: ",") || $0 == UInt8(ascii: " ") }) ?? bytes.count
        guard nameEnd < bytes.count else { return nil }
        let name = bytes[0..<nameEnd]
        index = nameEnd
        if bytes[nameEnd] == UInt8(ascii: ",") {
            index += 1
            guard expect(" ") else { return nil }
            if HTTPDate.isDayName(name, long: false) { return imfFixdate() }
            if HTTPDate.isDayName(name, long: true) { return rfc850() }
            return nil
        }
        guard HTTPDate.isDayName(name, long: false), expect(" ") else { return nil }
        return asctime()
    }

    // "06 Nov 1994 08:49:37 GMT"
    mutating func imfFixdate() -> Int64? {
        guard let day = number(digits: 2), expect(" "), let month = monthName(), expect(" "),
              let year = number(digits: 4), expect(" "), let time = timeOfDay(), expect(" GMT"), atEnd
        else { return nil }
        return seconds(year: Int64(year), month: month, day: day, time: time)
    }

    // "06-Nov-94 08:49:37 GMT": two-digit years more than 50 years ahead are taken as last century.
    mutating func rfc850() -> Int64? {
        guard let day = number(digits: 2), expect("-"), let month = monthName(), expect("-"),
              let shortYear = number(digits: 2), expect(" "), let time = timeOfDay(), expect(" GMT"), atEnd
        else { return nil }
        // RFC 9110 §5.6.7: a two-digit year that appears more than 50 years in the future means the
        // most recent past year with those digits. With no clock here, 1970-2069 is the window.
        let year = shortYear >= 70 ? 1900 + shortYear : 2000 + shortYear
        return seconds(year: Int64(year), month: month, day: day, time: time)
    }

    // "Nov  6 08:49:37 1994"
    mutating func asctime() -> Int64? {
        guard let month = monthName(), expect(" ") else { return nil }
        let day: Int
        if peek == UInt8(ascii: " ") {
            index += 1
            guard let d = number(digits: 1) else { return nil }
            day = d
        } else {
            guard let d = number(digits: 2) else { return nil }
            day = d
        }
        guard expect(" "), let time = timeOfDay(), expect(" "), let year = number(digits: 4), atEnd else { return nil }
        return seconds(year: Int64(year), month: month, day: day, time: time)
    }

    func seconds(year: Int64, month: Int, day: Int, time: Int) -> Int64? {
        let daysInMonth = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]
        guard day >= 1, day <= daysInMonth else { return nil }
        let days = HTTPDate.days(year: year, month: month, day: day)
        // Reject 29 February of a common year: it would come back as 1 March.
        guard HTTPDate.civil(fromDays: days).day == day else { return nil }
        return days * 86_400 + Int64(time)
    }

    mutating func timeOfDay() -> Int? {
        guard let h = number(digits: 2), expect(":"), let m = number(digits: 2), expect(":"), let s = number(digits: 2),
              h < 24, m < 60, s <= 60
        else { return nil }
        // A leap second (:60) is read as the next second's start, as most systems do.
        return h * 3600 + m * 60 + min(s, 59) + (s == 60 ? 1 : 0)
    }

    mutating func monthName() -> Int? {
        guard index + 3 <= bytes.count, let month = HTTPDate.month(named: bytes[index..<index + 3]) else { return nil }
        index += 3
        return month
    }

    mutating func number(digits: Int) -> Int? {
        guard index + digits <= bytes.count else { return nil }
        var value = 0
        for byte in bytes[index..<index + digits] {
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            value = value * 10 + Int(byte - UInt8(ascii: "0"))
        }
        index += digits
        return value
    }

    mutating func expect(_ literal: StaticString) -> Bool {
        let count = literal.utf8CodeUnitCount
        guard index + count <= bytes.count else { return false }
        let matches = literal.withUTF8Buffer { expected in
            expected.elementsEqual(bytes[index..<index + count])
        }
        if matches { index += count }
        return matches
    }

    var peek: UInt8? { index < bytes.count ? bytes[index] : nil }
    var atEnd: Bool { index == bytes.count }
}
