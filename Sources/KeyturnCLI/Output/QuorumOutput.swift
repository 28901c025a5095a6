import Ceremony
import Foundation
import PGPShares
import VaultClient

/// How the states of rekey and generate-root are shown.
enum QuorumOutput {
    /// What a rekey submit asks its operator to confirm.
    static func summary(_ s: QuorumState, ceremony: QuorumCeremony, completes: Bool) -> String {
        var lines = [
            "Rekey on \(ceremony.client.address) (\(ceremony.endpoints.statusPath)), nonce \(s.nonce ?? "-"):",
            "  new shares: \(s.n ?? 0), of which \(s.t ?? 0) unseal",
            "  progress: \(s.progress ?? 0) of \(s.required ?? 0) current "
                + "shares\(completes ? " (yours completes it)" : "")",
            "  verification of the new shares: \(s.verificationRequired == true ? "required" : "no")",
        ]
        if let f = s.pgpFingerprints, !f.isEmpty {
            lines.append("  new shares encrypted to: \(f.joined(separator: ", "))")
        }
        return lines.joined(separator: "\n")
    }

    /// A quorum operation's state as a two-column table or one JSON document; for a rekey
    /// started here, `newKeys`' fingerprints where the server names none (client-side
    /// encryption). New shares, the OTP and the encoded token are never shown: they go to files.
    static func print(_ s: QuorumState, ceremony: QuorumCeremony, format: OutputFormat, newKeys: [OperatorKey] = []) {
        var shown = s
        if (shown.pgpFingerprints ?? []).isEmpty, !newKeys.isEmpty {
            shown.pgpFingerprints = newKeys.map(\.info.fingerprint)
        }
        shown.keys = nil
        shown.keysBase64 = nil
        shown.otp = nil
        shown.encodedToken = nil
        shown.encodedRootToken = nil
        switch format {
        case .json: Terminal.stdoutLine(json(shown, ceremony: ceremony))
        case .text: Terminal.stdoutLine(Output.table(["FIELD", "VALUE"], rows(shown, ceremony: ceremony)))
        }
    }

    /// One JSON document: the node, the API, and every field of the state shown.
    private static func json(_ shown: QuorumState, ceremony: QuorumCeremony) -> String {
        var doc: [String: JSONValue] = [
            "address": .string(ceremony.client.address), "api": .string(ceremony.endpoints.statusPath),
        ]
        if let data = try? JSONEncoder().encode(shown),
            let obj = try? JSONDecoder().decode([String: JSONValue].self, from: data)
        {
            doc.merge(obj) { a, _ in a }
        }
        return (try? Output.json(JSONValue.object(doc))).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }

    /// The two-column table's rows: what every operation has, then what a rekey or a
    /// generate-root adds.
    private static func rows(_ shown: QuorumState, ceremony: QuorumCeremony) -> [[String]] {
        var rows: [[String]] = [
            ["address", ceremony.client.address], ["api", ceremony.endpoints.statusPath],
            ["started", (shown.started ?? false) ? "yes" : "no"], ["nonce", shown.runningNonce ?? "-"],
            ["progress", shown.progressText],
        ]
        if ceremony.endpoints.kind == .rekey {
            rows += [
                ["new shares", "\(shown.n ?? 0)"], ["new threshold", "\(shown.t ?? 0)"],
                ["verification", shown.verificationRequired == true ? "required" : "no"],
            ]
            if let v = shown.verificationNonce, !v.isEmpty { rows.append(["verification nonce", v]) }
            if let f = shown.pgpFingerprints, !f.isEmpty { rows.append(["new keys", f.joined(separator: ", ")]) }
        } else {
            let pgp = shown.pgpFingerprint.flatMap { $0.isEmpty ? nil : $0 }
            rows.append(["token returned", pgp.map { "encrypted to \($0)" } ?? "masked with the one-time pad"])
        }
        if shown.complete == true { rows.append(["complete", "yes"]) }
        return rows
    }
}
