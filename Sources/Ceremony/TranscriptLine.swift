import Dispatch
import Foundation
import TLSMaterial

/// One transcript line as its readers (verification, the report) take it: the fields they use,
/// each only when it has its type, and for a closing line every key it has (a closing line
/// with any other field is malformed). One parser (JSONDecoder) for every reader, so that no
/// two of them can read one line two ways.
package struct TranscriptLine: Decodable, Sendable {
    package var prev: String?
    package var close: String?
    package var lineSHA256: [String]?
    package var signer: String?
    package var signature: String?
    package var unsigned: String?
    package var keyFingerprint: String?
    package var command: String?
    package var result: String?
    package var time: String?
    package var node: String?
    package var progress: String?
    package var nonce: String?
    package var error: String?
    /// Every key of a closing line (nil for other lines).
    package var closingKeys: [String]?

    private enum Field: String, CodingKey {
        case prev, close, signer, signature, unsigned, command, result, time, node, progress, nonce, error
        case lineSHA256 = "line_sha256", keyFingerprint = "key_fingerprint"
    }

    /// Any key, to list a closing line's keys.
    private struct AnyKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    package init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: Field.self)
        func text(_ field: Field) -> String? { try? c.decodeIfPresent(String.self, forKey: field) }
        prev = text(.prev)
        close = text(.close)
        if close != nil {
            closingKeys = try decoder.container(keyedBy: AnyKey.self).allKeys.map(\.stringValue)
            lineSHA256 = try? c.decodeIfPresent([String].self, forKey: .lineSHA256)
            signer = text(.signer)
            signature = text(.signature)
            unsigned = text(.unsigned)
            return
        }
        keyFingerprint = text(.keyFingerprint)
        command = text(.command)
        result = text(.result)
        time = text(.time)
        node = text(.node)
        progress = text(.progress)
        nonce = text(.nonce)
        error = text(.error)
    }

    /// The line parsed, or nil when it is not a JSON object.
    static func parse(_ bytes: some Collection<UInt8>) -> TranscriptLine? {
        try? JSONDecoder().decode(TranscriptLine.self, from: Data(bytes))
    }

    /// Every line parsed and hashed (SHA-256, hex), on every core: the two costs of reading a
    /// transcript, and each line's are independent of the others'.
    static func parseAndHash(_ lines: [[UInt8]]) -> ([TranscriptLine?], [String]) {
        var parsed = [TranscriptLine?](repeating: nil, count: lines.count)
        var hashes = [String](repeating: "", count: lines.count)
        let chunk = 2048
        parsed.withUnsafeMutableBufferPointer { p in
            hashes.withUnsafeMutableBufferPointer { h in
                let (p, h) = (UnsafeSendable(p), UnsafeSendable(h))
                DispatchQueue.concurrentPerform(iterations: (lines.count + chunk - 1) / chunk) { k in
                    for i in (k * chunk)..<min(lines.count, (k + 1) * chunk) {
                        p.value[i] = parse(lines[i])
                        h.value[i] = Digest.sha256Hex(lines[i])
                    }
                }
            }
        }
        return (parsed, hashes)
    }
}

/// A buffer handed to concurrentPerform's workers, each of which writes its own slots only.
private struct UnsafeSendable<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}

/// A transcript's time ("2026-12-04T10:00:00Z", as keyturn writes it) read without a date
/// formatter per line (ICU's parse was half of a report's time); any other form goes through
/// ISO8601DateFormatter as before.
enum TranscriptTime {
    static func date(_ text: String) -> Date? {
        let b = Array(text.utf8)
        func number(_ range: Range<Int>) -> Int? {
            var n = 0
            for i in range {
                guard (0x30...0x39).contains(b[i]) else { return nil }
                n = n * 10 + Int(b[i] - 0x30)
            }
            return n
        }
        guard b.count == 20, b[4] == 0x2D, b[7] == 0x2D, b[10] == 0x54, b[13] == 0x3A, b[16] == 0x3A, b[19] == 0x5A,
            let y = number(0..<4), let m = number(5..<7), let d = number(8..<10), let hh = number(11..<13),
            let mm = number(14..<16), let ss = number(17..<19), (1...12).contains(m), (1...31).contains(d), hh < 24,
            mm < 60, ss < 60, d <= daysIn(month: m, year: y)
        else { return ISO8601DateFormatter().date(from: text) }
        // Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil).
        let yy = m <= 2 ? y - 1 : y
        let era = yy / 400
        let yoe = yy - era * 400
        let doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        let days = era * 146_097 + doe - 719_468
        return Date(timeIntervalSince1970: TimeInterval(days * 86_400 + hh * 3600 + mm * 60 + ss))
    }

    static func daysIn(month m: Int, year y: Int) -> Int {
        let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
        return [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][m - 1]
    }
}
