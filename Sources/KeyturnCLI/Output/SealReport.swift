import Ceremony
import VaultClient

/// `keyturn seal`'s rows: each node's state before and after.
struct SealReport {
    let results: [SealRun.Result]

    func print(_ format: OutputFormat) {
        switch format {
        case .json:
            let objects: [JSONValue] = results.map { r in
                .object([
                    "address": .string(r.address), "before": .string(r.before), "after": .string(r.after),
                    "sealed": .bool(r.isSealed), "error": r.error.map { .string($0.reason) } ?? .null,
                ])
            }
            Terminal.stdoutLine(Output.nodesDocument(objects))
        case .text:
            Terminal.stdoutLine(
                Output.table(
                    ["NODE", "BEFORE", "AFTER"],
                    results.map { [$0.address, $0.before, $0.after] }))
            for r in results {
                if let error = r.error { Terminal.warn(error.reason) }
            }
        }
    }
}
