import ArgumentParser
import Ceremony

extension GenerateRoot {
    /// `keyturn generate-root status`.
    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "status", abstract: "Show the running root token generation.")

        @OptionGroup
        var options: QuorumOptions

        func run() async throws {
            let log = try options.transcript.open("generate-root status")
            let (ceremony, conn) = try await options.ceremony(.generateRoot)
            var state = try await ceremony.state()
            state.otp = nil
            log?.record(
                node: ceremony.client.address, result: state.started == true ? "running" : "none running",
                progress: state.progressText, nonce: state.runningNonce)
            QuorumOutput.print(state, ceremony: ceremony, format: conn.format)
        }
    }
}
