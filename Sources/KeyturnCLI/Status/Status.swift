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
            until every node is unsealed (or in the --until state) or the time runs out: it \
            ends within SECONDS plus one --timeout, and exits 2 at the deadline naming the \
            nodes still waited for.
            """)

    @OptionGroup(title: "Connection options") var connection: ConnectionOptions

    @Option(
        help: ArgumentHelp("Poll until every node is unsealed, for at most this many seconds.", valueName: "seconds"))
    var wait: Double?

    @Option(
        help: ArgumentHelp(
            "With --wait: what to wait for on every node (default: unsealed).",
            discussion: "Exit 0 once every node is in that state, 2 at the deadline naming the nodes still waited for.",
            valueName: "reachable|initialized|unsealed|sealed"))
    var until: NodeCondition?

    @OptionGroup var transcript: TranscriptOptions

    @OptionGroup(title: "Token options (with a token, status shows which nodes are raft voters)")
    var token: TokenOptions

    @OptionGroup var namespace: NamespaceOption

    func validate() throws {
        if let wait, !(wait >= 0 && wait.isFinite) {
            throw ValidationError("--wait must be a number of seconds, 0 or more")
        }
    }

    func run() async throws {
        let secret = try token.resolve()
        let conn = try connection.resolve().with(token: secret).with(namespace: namespace.namespace)
        if secret != nil { conn.warnIfPlaintext(sending: "the token") }
        let log = try transcript.open("status")
        var nodes = await NodeStatus.fetchAll(conn.clients)
        if let wait { nodes = try await poll(from: nodes, for: wait, conn) }
        if secret != nil { nodes = await NodeStatus.addingVoters(nodes, clients: conn.clients) }
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
        if let condition = until ?? (wait == nil ? nil : .unsealed) { try requireReached(condition, nodes) }
        throw ExitCode(StatusReport(nodes: nodes).exitStatus.rawValue)
    }

    /// Asks again every half second until `done` or the deadline, each round bounded by the time
    /// left: a paused node costs what is left, not a whole timeout.
    private func poll(from first: [NodeStatus], for wait: Double, _ conn: Connection) async throws -> [NodeStatus] {
        var nodes = first
        let deadline = Date().addingTimeInterval(wait)
        let showProgress = StandardStream.error.isTerminal
        // Until every node is unsealed and answers cleanly: a node restarting or electing
        // a leader may fail a request for a moment.
        while !done(nodes) && Date() < deadline {
            if showProgress {
                let left = max(0, Int(deadline.timeIntervalSinceNow.rounded(.up)))
                Terminal.stderrProgress(
                    "keyturn: waiting: \(nodes.filter(\.isUnsealed).count) of \(nodes.count) nodes unsealed, "
                        + "\(left) s left"
                )
            }
            try await Task.sleep(nanoseconds: UInt64(min(0.5, max(0.05, deadline.timeIntervalSinceNow)) * 1e9))
            let left = deadline.timeIntervalSinceNow
            nodes = await NodeStatus.fetchAll(conn.clients.map { $0.bounded(by: left) })
        }
        if showProgress { Terminal.stderrProgress(nil) }
        return nodes
    }

    /// Whether the waiting is over: every node in the state --until names, else (as before
    /// --until existed) every node unsealed and answering cleanly.
    private func done(_ nodes: [NodeStatus]) -> Bool {
        guard let until else { return StatusReport(nodes: nodes).exitStatus == .success }
        return nodes.allSatisfy(until.holds)
    }

    /// With --until: exit 0 when every node is in that state, else 2 naming the others.
    private func requireReached(_ until: NodeCondition, _ nodes: [NodeStatus]) throws {
        let missing = nodes.filter { !until.holds(for: $0) }
        guard !missing.isEmpty else { throw ExitCode(ExitStatus.success.rawValue) }
        let waited =
            wait.map { "after waiting \(Int($0.rounded(.up))) s for every node to be \(until.rawValue)" } ?? "now"
        let named = missing.map { n in
            "\(n.address) \(until.missing)"
                + (n.error.map { " (\(Output.shortReason($0.reason, address: n.address)))" } ?? "")
        }
        throw CLIError("\(named.joined(separator: "; ")) \(waited)", status: .serverFailure)
    }
}

extension NodeCondition: ExpressibleByArgument {}
