import ArgumentParser
import Ceremony
import Foundation
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
            let showProgress = Terminal.isTerminal(STDERR_FILENO)
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

/// Formats node statuses as a table or JSON, and decides the exit code.
struct StatusReport {
    let nodes: [NodeStatus]

    /// 1 if any node failed to answer properly, else 2 if any is sealed or uninitialised, else 0.
    var exitStatus: ExitStatus {
        if nodes.contains(where: { $0.error != nil }) { return .localFailure }
        if nodes.contains(where: { !$0.isUnsealed }) { return .serverFailure }
        return .success
    }

    func print(_ format: OutputFormat) {
        switch format {
        case .json: Terminal.stdoutLine(json())
        case .text:
            Terminal.stdoutLine(table())
            for node in nodes {
                if let error = node.error { Terminal.report(KeyturnError(error.reason, hint: error.hint)) }
            }
        }
    }

    /// `{"nodes": [...]}`: Vault's own fields, plus address, reachable, ha_mode and error.
    func json() -> String {
        let objects: [JSONValue] = nodes.map { node in
            var o = node.fields
            o["address"] = .string(node.address)
            o["reachable"] = .bool(node.reachable)
            o["ha_mode"] = node.haMode.map(JSONValue.string) ?? .null
            o["error"] = node.error.map { .string($0.reason) } ?? .null
            return .object(o)
        }
        return Output.nodesDocument(objects)
    }

    /// One row per node.
    func table() -> String {
        let header = ["ADDRESS", "INITIALIZED", "SEALED", "PROGRESS", "THRESHOLD", "HA MODE", "VERSION", "ERROR"]
        let rows: [[String]] = nodes.map { node in
            guard let seal = node.seal else {
                return [
                    node.address, "-", "-", "-", "-", "-", "-",
                    node.error.map { shortReason($0, node.address) } ?? "no answer",
                ]
            }
            let threshold = seal.initialized ? "\(seal.t) of \(seal.n)" : "-"
            let progress = seal.initialized && seal.sealed ? "\(seal.progress)/\(seal.t)" : "-"
            // A seal migration (Shamir <-> auto-unseal) waits for `unseal --migrate`: say so.
            let sealed = seal.migration == true ? "\(seal.sealed), migration" : String(seal.sealed)
            return [
                node.address, String(seal.initialized), sealed, progress, threshold,
                node.haMode ?? "-", seal.version ?? "-", node.error.map { shortReason($0, node.address) } ?? "",
            ]
        }
        return Output.table(header, rows)
    }

    private func shortReason(_ error: VaultError, _ address: String) -> String {
        Output.shortReason(error.reason, address: address)
    }
}
