import Ceremony
import Foundation
import VaultClient

/// Prints unseal outcomes and decides the exit code.
struct UnsealReport {
    let outcomes: [UnsealOutcome]

    /// 2 if a node refused, was unreachable or is behind the others; else 1 if the share fit no
    /// node's format (nothing was sent); else 0.
    var exitStatus: ExitStatus {
        if outcomes.contains(where: {
            switch $0.result {
            case .failed, .behind: return true
            default: return false
            }
        }) {
            return .serverFailure
        }
        if outcomes.contains(where: { !$0.succeeded }) { return .localFailure }
        return .success
    }

    func print(_ format: OutputFormat) {
        switch format {
        case .json: Terminal.stdoutLine(json())
        case .text:
            Terminal.stdoutLine(table())
            for o in outcomes {
                if let e = o.error { Terminal.report(e) }
                if let note = o.note { Terminal.warn("\(o.address): \(note)") }
            }
            if outcomes.contains(where: { if case .joining = $0.result { return true } else { return false } }) {
                Terminal.stderrLine(
                    "keyturn: a node that received its last share joins its raft cluster before it reports "
                        + "unsealed; confirm with: keyturn status --wait 60"
                )
            }
        }
    }

    func word(_ r: UnsealOutcome.Result) -> String {
        switch r {
        case .accepted: return "accepted"
        case .unsealed: return "unsealed"
        case .joining: return "joining"
        case .alreadyUnsealed: return "already unsealed"
        case .reset: return "reset"
        case .behind: return "behind"
        case .failed, .mismatch: return "failed"
        }
    }

    func table() -> String {
        let header = ["ADDRESS", "RESULT", "PROGRESS", "NONCE", "ERROR"]
        let rows = outcomes.map { o -> [String] in
            let progress = o.status.map { $0.sealed && $0.initialized ? "\($0.progress)/\($0.t)" : "-" } ?? "-"
            let error = o.error.map { Output.shortReason($0.reason, address: o.address) } ?? ""
            return [
                o.address, word(o.result), progress, o.status.map { $0.nonce.isEmpty ? "-" : $0.nonce } ?? "-", error,
            ]
        }
        return Output.table(header, rows)
    }

    func json() -> String {
        let nodes: [JSONValue] = outcomes.map { o in
            var obj: [String: JSONValue] = ["address": .string(o.address), "result": .string(word(o.result))]
            if let s = o.status {
                obj["sealed"] = .bool(s.sealed)
                obj["progress"] = .number(Double(s.progress))
                obj["t"] = .number(Double(s.t))
                obj["n"] = .number(Double(s.n))
                obj["nonce"] = .string(s.nonce)
            }
            obj["error"] = o.error.map { .string($0.reason) } ?? .null
            obj["note"] = o.note.map(JSONValue.string) ?? .null
            return .object(obj)
        }
        return Output.nodesDocument(nodes)
    }
}
