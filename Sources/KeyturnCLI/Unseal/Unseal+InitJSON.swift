import ArgumentParser
import Ceremony
import VaultClient

extension Unseal {
    /// `--init-json`: a dev or CI server's keys, a threshold of them submitted in turn to every
    /// node; one report, from the last key's round.
    func unsealAll(from path: String) async throws {
        let conn = try connection.resolve()
        conn.warnIfPlaintext(sending: "shares")
        let log = try transcript.open("unseal --init-json")
        let file = try InitJSON(path)
        // The threshold: the file's, else what the first node that answers says.
        let nodeThreshold = await NodeStatus.fetchAll(conn.clients).compactMap { $0.seal?.t }.first { $0 > 0 }
        let shares = try file.keys(threshold: nodeThreshold ?? file.shares.count, path: path)
        var outcomes: [UnsealOutcome] = []
        for share in shares {
            outcomes = await UnsealRun(clients: conn.clients, share: share, migrate: false).run(wait: wait)
        }
        let report = UnsealReport(outcomes: outcomes)
        report.print(conn.format)
        for o in outcomes { log?.record(node: o.address, result: report.word(o.result), error: o.error?.reason) }
        throw ExitCode(report.exitStatus.rawValue)
    }
}
