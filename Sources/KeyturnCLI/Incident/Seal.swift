import ArgumentParser
import Ceremony
import Foundation
import VaultClient

/// `keyturn seal`: every node sealed, for an incident.
struct Seal: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Seal every node given (standbys first, the active node last); needs a token.",
        discussion: """
            For the day a share or the root token may have leaked: sealed, a node serves nothing \
            until a quorum of holders unseals it. Checks first (a token, every node's state, the \
            token accepted), asks to confirm on a terminal (--yes for scripts), then seals. One row \
            per node; exit 0 only when every node reports sealed.
            """)

    /// The nodes, the token, the transcript.
    @OptionGroup
    var options: QuorumOptions

    @Flag(help: "Do not ask for confirmation (scripts).")
    var yes = false

    @OptionGroup
    var dryRun: DryRunOption

    func run() async throws {
        let conn = try options.connection.resolve().with(token: try options.token.resolve())
            .with(namespace: options.namespace.namespace)
        conn.warnIfPlaintext(sending: "a token")
        let log = try options.transcript.open("seal")
        let run = try await SealRun.plan(conn.clients)
        if dryRun.enabled {
            return dryRun.report(run.requests)
        }
        let targets = run.order.map(\.client.address)
        if !targets.isEmpty {
            try Terminal.confirm(
                "Seal \(targets.count) node\(targets.count == 1 ? "" : "s") (\(targets.joined(separator: ", "))); "
                    + "nothing is served until a quorum unseals them.\nSeal now? [y/N] ",
                yes: yes, check: "keyturn status")
        }
        let results = await run.execute()
        for r in results { log?.record(node: r.address, result: r.after, error: r.error?.reason) }
        SealReport(results: results).print(conn.format)
        let unsealed = results.filter { !$0.isSealed }
        guard unsealed.isEmpty else {
            throw CLIError(
                "\(unsealed.count) of \(results.count) nodes not sealed: "
                    + unsealed.map { "\($0.address) (\($0.after))" }.joined(separator: ", "),
                hint: "run keyturn seal again; a node that restarted a moment ago may not know the token yet",
                status: .serverFailure)
        }
    }
}
