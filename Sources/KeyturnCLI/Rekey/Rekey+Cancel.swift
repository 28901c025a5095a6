import ArgumentParser
import Ceremony

extension Rekey {
    /// `keyturn rekey cancel`.
    struct Cancel: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "cancel", abstract: "Cancel the running rekey; shares submitted to it are discarded.")

        @OptionGroup
        var options: Rekey.Options

        func run() async throws {
            let log = try options.log("rekey cancel")
            let (ceremony, _) = try await options.ceremony()
            try await ceremony.cancel()
            log?.record(node: ceremony.client.address, result: "cancelled")
            Terminal.stderrLine("keyturn: the rekey on \(ceremony.client.address) is cancelled (if one was running)")
        }
    }
}
