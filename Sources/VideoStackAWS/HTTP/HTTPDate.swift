import Foundation

/// Parses the dates AWS sends: RFC 7231 `Date`/`Last-Modified` headers
/// (`Sun, 06 Nov 1994 08:49:37 GMT`). No formatter, so no locale or thread-safety concerns.
enum HTTPDate {
    static let months = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]

    static func parse(_ text: String) -> Date? {
        let parts = text.split(separator: " ")
        guard parts.count == 6, let day = Int64(parts[1]), let monthIndex = months.firstIndex(of: parts[2].lowercased()),
              let year = Int64(parts[3]) else { return nil }
        let time = parts[4].split(separator: ":").compactMap { Int64($0) }
        guard time.count == 3 else { return nil }
        return civil(year: year, month: Int64(monthIndex + 1), day: day, hour: time[0], minute: time[1], second: Double(time[2]))
    }

    /// Seconds since 1970 for a UTC civil time (the inverse of ``SigV4Signer/civilDate(fromDays:)``).
    static func civil(year: Int64, month: Int64, day: Int64, hour: Int64, minute: Int64, second: Double) -> Date? {
        guard (1...12).contains(month), (1...31).contains(day), (0...23).contains(hour), (0...59).contains(minute), second >= 0, second < 61 else { return nil }
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        let days = era * 146_097 + dayOfEra - 719_468
        return Date(timeIntervalSince1970: Double(days * 86_400 + hour * 3600 + minute * 60) + second)
    }
}

/// Parses ISO 8601 UTC times as S3 lists them (`2009-10-12T17:50:30.000Z`).
enum ISO8601 {
    static func parse(_ text: String) -> Date? {
        guard text.hasSuffix("Z") else { return nil }
        let body = text.dropLast()
        let halves = body.split(separator: "T")
        guard halves.count == 2 else { return nil }
        let date = halves[0].split(separator: "-").compactMap { Int64($0) }
        let time = halves[1].split(separator: ":")
        guard date.count == 3, time.count == 3, let hour = Int64(time[0]), let minute = Int64(time[1]), let second = Double(time[2]) else { return nil }
        return HTTPDate.civil(year: date[0], month: date[1], day: date[2], hour: hour, minute: minute, second: second)
    }
}
