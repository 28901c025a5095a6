import Foundation
import Testing

@testable import Ceremony

@Suite("reading a transcript's times without a formatter per line")
struct TranscriptTimeTests {
    @Test("every second form keyturn writes reads as ISO8601DateFormatter reads it; other forms still read")
    func sameAsTheFormatter() throws {
        let formatter = ISO8601DateFormatter()
        var generator = SystemRandomNumberGenerator()
        // Across leap years, centuries and the month ends, and 2000 random seconds of 1970-2400.
        var dates = (0..<2000).map { _ in
            Date(timeIntervalSince1970: Double(Int.random(in: 0...13_569_465_600, using: &generator)))
        }
        for text in ["2000-02-29T23:59:59Z", "2100-02-28T00:00:00Z", "2026-12-31T23:59:59Z", "1970-01-01T00:00:00Z"] {
            dates.append(try #require(formatter.date(from: text)))
        }
        for date in dates {
            let text = formatter.string(from: date)
            #expect(TranscriptTime.date(text) == formatter.date(from: text), "\(text)")
        }
        // Not the fast form: left to the formatter, which reads or refuses them as before.
        for text in ["2026-02-30T00:00:00Z", "2026-13-01T00:00:00Z", "2026-12-04T10:00:00+01:00", "x", ""] {
            #expect(TranscriptTime.date(text) == formatter.date(from: text), "\(text)")
        }
    }
}
