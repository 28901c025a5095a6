import ArgumentParser
import Ceremony
import Foundation
import ProcessHygiene
import VaultClient

/// `keyturn status`: every node's seal state at a glance, and an exit code scripts can use.
struct Status: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show every node's seal status; exit 0 only when all are unsealed.",
        discussion: """
            Asks each node for sys/seal-status, sys/health and sys/leader, all nodes at once. \
            Exit 0 when every node is initialised and unsealed, 2 when one is sealed or \
            uninitialised, 1 when one is unreachable or answers badly. With --wait, polls \
            until every node is unsealed or the time runs out.
            """)

    @OptionGroup(title: "Connection options") var connection: ConnectionOptions

    @Option(
        help: ArgumentHelp("Poll until every node is unsealed, for at most this many seconds.", valueName: "seconds"))
    var wait: Double?

    @OptionGroup var transcript: TranscriptOptions

    func validate() throws {
        if let wait, !(wait >= 0 && wait.isFinite) {
            throw ValidationError("--wait must be a number of seconds, 0 or more")
        }
    }

    func run() async throws {
        let conn = try connection.resolve()
        let log = try transcript.open("status")
        var nodes = await NodeStatus.fetchAll(conn.clients)
        if let wait {
            let deadline = Date().addingTimeInterval(wait)
            let showProgress = StandardStream.error.isTerminal
            // Until every node is unsealed and answers cleanly: a node restarting or electing
            // a leader may fail a request for a moment.
            while StatusReport(nodes: nodes).exitStatus != .success && Date() < deadline {
                if showProgress {
                    let left = max(0, Int(deadline.timeIntervalSinceNow.rounded(.up)))
                    Terminal.stderrProgress(
                        "keyturn: waiting: \(nodes.filter(\.isUnsealed).count) of \(nodes.count) nodes unsealed, "
                            + "\(left) s left"
                    )
                }
                try await Task.sleep(nanoseconds: UInt64(min(0.5, max(0.05, deadline.timeIntervalSinceNow)) * 1e9))
                nodes = await NodeStatus.fetchAll(conn.clients)
            }
            if showProgress { Terminal.stderrProgress(nil) }
        }
        StatusReport(nodes: nodes).print(conn.format)
        for n in nodes {
            let state =
                !n.reachable
                ? "unreachable"
                : n.seal.map { !$0.initialized ? "uninitialised" : $0.sealed ? "sealed" : "unsealed" } ?? "failed"
            log?.record(
                node: n.address, result: state,
                progress: n.seal.map { $0.sealed && $0.initialized ? "\($0.progress)/\($0.t)" : "-" },
                nonce: n.seal.flatMap { $0.nonce.isEmpty ? nil : $0.nonce }, error: n.error?.reason)
        }
        throw ExitCode(StatusReport(nodes: nodes).exitStatus.rawValue)
    }
}
