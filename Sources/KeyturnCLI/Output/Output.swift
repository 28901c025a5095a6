import Ceremony
import Foundation
import KeyturnFailure
import VaultClient

/// The two output forms every command shares: an aligned text table and one JSON document.
enum Output {
    /// Columns padded to their widest cell, two spaces apart; the last column is not padded.
    /// Each cell is one line whatever a server or a file put in it: its newlines and other
    /// controls are shown escaped, so no cell can forge a row.
    static func table(_ header: [String], _ rawRows: [[String]]) -> String {
        let rows = rawRows.map { $0.map { neutralised($0) } }
        let widths = header.indices.map { i in max(header[i].count, rows.map { $0[i].count }.max() ?? 0) }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { i, c in
                i == cells.count - 1 ? c : c.padding(toLength: widths[i], withPad: " ", startingAt: 0)
            }
            .joined(separator: "  ").trimmingCharacters(in: .whitespaces)
        }
        return ([line(header)] + rows.map(line)).joined(separator: "\n")
    }

    /// Pretty-printed JSON with sorted keys, as keyturn writes every document.
    static func json<T: Encodable>(_ value: T) throws -> Data { try CeremonyRecord.json(value) }

    /// `json(value)` as text ("{}" if it cannot be encoded).
    static func jsonText<T: Encodable>(_ value: T) -> String {
        (try? json(value)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }

    /// `{"nodes": [...]}` as text.
    static func nodesDocument(_ nodes: [JSONValue]) -> String {
        let data = (try? json(JSONValue.object(["nodes": .array(nodes)]))) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
    }

    /// A node's error without its address, which the row already shows.
    static func shortReason(_ reason: String, address: String) -> String {
        reason.hasPrefix(address + " ") ? String(reason.dropFirst(address.count + 1)) : reason
    }
}
