import ArgumentParser
import Ceremony

extension Rekey {
    /// `keyturn rekey status`.
    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "status", abstract: "Show the running rekey (and its verification round).")

        @OptionGroup
        var options: Rekey.Options

        func run() async throws {
            let log = try options.log("rekey status")
            let (ceremony, conn) = try await options.ceremony()
            var state = try await ceremony.state()
            if state.verificationRequired == true, let v = state.verificationNonce, !v.isEmpty,
                let round = try? await ceremony.state(verification: true)
            {
                state.verificationNonce = round.nonce ?? v
                state.progress = round.progress
            }
            log?.record(
                node: ceremony.client.address, result: state.started == true ? "running" : "none running",
                progress: state.progressText, nonce: state.runningNonce)
            QuorumOutput.print(state, ceremony: ceremony, format: conn.format)
            if state.started != true && conn.format == .text {
                Terminal.stderrLine(
                    "keyturn: no rekey is running; one whose completing answer was lost looks the same: it may have "
                        + "completed (with --backup: keyturn rekey backup retrieve)")
            }
        }
    }
}
