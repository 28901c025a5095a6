import ArgumentParser
import Ceremony
import KeyturnFailure
import ProcessHygiene

/// The root command: lists the subcommands.
struct Keyturn: AsyncParsableCommand {
    /// The version keyturn reports; the one place it is written.
    static let version = "0.4.0"

    static let configuration = CommandConfiguration(
        commandName: "keyturn",
        abstract: "Key ceremonies for HashiCorp Vault and OpenBao.",
        version: "\(Keyturn.version) (\(buildCommit))",
        subcommands: [
            Status.self, DoctorCommand.self, Init.self, NamespaceCommand.self, Unseal.self, Verify.self, Rekey.self,
            GenerateRoot.self,
            Seal.self,
            StepDownCommand.self, TranscriptCommand.self, ReportCommand.self, DrillCommand.self, Secure.self,
            Split.self, Combine.self,
        ])
}
