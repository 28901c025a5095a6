import ArgumentParser
import Ceremony
import Foundation
import VaultClient

/// `keyturn step-down`: the active node resigns.
struct StepDownCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "step-down",
        abstract: "Make the active node give up leadership; another node takes over.",
        discussion: """
            Finds the active node among those given, sends it sys/step-down (a token with sudo on \
            sys/step-down), and waits up to --wait seconds for an active node again. Prints the \
            active node before and after.
            """)

    /// The nodes, the token, the transcript.
    @OptionGroup
    var options: QuorumOptions

    @Option(help: ArgumentHelp("Seconds to wait for an active node again.", valueName: "seconds"))
    var wait: Double = 30

    func validate() throws {
        if options.namespace.namespace != nil {
            throw ValidationError("step-down has no namespace: it hands over the whole cluster's active role")
        }
    }

    func run() async throws {
        let conn = try options.connection.resolve().with(token: try options.token.resolve())
        conn.warnIfPlaintext(sending: "a token")
        let log = try options.transcript.open("step-down")
        let outcome = try await StepDown.run(conn.clients, wait: wait)
        log?.record(node: outcome.before, result: "stepped down", progress: outcome.after.map { "now \($0)" })
        switch conn.format {
        case .json:
            Terminal.stdoutLine(
                Output.jsonText(["before": outcome.before, "after": outcome.after ?? ""]))
        case .text:
            Terminal.stdoutLine(Output.table(["BEFORE", "AFTER"], [[outcome.before, outcome.after ?? "-"]]))
        }
        guard let after = outcome.after else {
            throw CLIError(
                "\(outcome.before) stepped down, but no node became active within \(Int(wait)) s",
                hint: "keyturn status shows which node leads", status: .serverFailure)
        }
        if after == outcome.before && conn.clients.count > 1 {
            Terminal.stderrLine(
                "keyturn: \(after) stepped down and is active again: with raft storage the active node is the raft "
                    + "leader, and no standby took over meanwhile")
        } else if after == outcome.before {
            Terminal.stderrLine("keyturn: \(after) stepped down and is active again (it is the only node given)")
        }
    }
}
