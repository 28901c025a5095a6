import ArgumentParser
import Ceremony

extension GenerateRoot {
    /// `keyturn generate-root cancel`.
    struct Cancel: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "cancel", abstract: "Cancel the running root token generation.")

        @OptionGroup
        var options: QuorumOptions

        func run() async throws {
            let log = try options.transcript.open("generate-root cancel")
            let (ceremony, _) = try await options.ceremony(.generateRoot)
            try await ceremony.cancel()
            log?.record(node: ceremony.client.address, result: "cancelled")
            Terminal.stderrLine(
                "keyturn: the root token generation on \(ceremony.client.address) is cancelled (if one was running)")
        }
    }
}
