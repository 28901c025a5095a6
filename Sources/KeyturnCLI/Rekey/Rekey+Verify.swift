import ArgumentParser
import Ceremony
import ProcessHygiene

extension Rekey {
    /// `keyturn rekey verify`.
    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "verify",
            abstract: "As a new holder, submit your new share to the rekey's verification (rekey start --verify).")

        @OptionGroup
        var options: Rekey.Options

        @Option(help: ArgumentHelp("The verification nonce the completing submit printed.", valueName: "nonce"))
        var nonce: String

        @Argument(
            help: ArgumentHelp("The file holding your new share, or '-' for standard input.", valueName: "new-keyfile"))
        var keyFile: String?

        @OptionGroup(title: "Passphrase options")
        var passphrase: PassphraseOptions

        func run() async throws {
            let record = try CeremonyRecord.find(explicit: nil, beside: keyFile)
            let log = try options.log(
                "rekey verify", share: keyFile, manifest: record, passphrase: passphrase.source)
            let (ceremony, conn) = try await options.ceremony()
            let state = try await ceremony.expect(nonce: nonce, verification: true)
            let share = try ShareInput.read(keyFile, passphrase: passphrase.source, checkedAgainst: record)
            switch try await ceremony.submit(share, nonce: nonce, verification: true, before: state) {
            case .progressed(let s):
                log?.record(
                    node: ceremony.client.address, result: "verified", progress: "\(s.progress ?? 0)/\(s.t ?? 0)",
                    nonce: nonce)
                QuorumOutput.print(s, ceremony: ceremony, format: conn.format)
                Terminal.stderrLine("keyturn: new share verified: \(s.progress ?? 0) of \(s.t ?? 0)")
            case .completed(let s):
                log?.record(node: ceremony.client.address, result: "completed", nonce: nonce)
                QuorumOutput.print(s, ceremony: ceremony, format: conn.format)
                Terminal.stderrLine(
                    options.target == .unseal
                        ? "keyturn: verification complete: the new shares are in force, the old ones no longer unseal"
                        : "keyturn: verification complete: the new recovery keys are in force, the old ones no longer "
                            + "count")
            }
        }
    }
}
