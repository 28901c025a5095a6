import ArgumentParser
import Ceremony
import Foundation
import KeyturnFailure
import VaultClient

extension Rekey {
    /// `keyturn rekey backup`: the new shares the server kept (`rekey start --backup`).
    struct Backup: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Retrieve or delete the new encrypted shares the server kept (rekey start --backup).",
            discussion: """
                Vault and OpenBao keep the new PGP-encrypted shares of a rekey started with backup, \
                so that they survive the loss of the completing submitter's files. Both need a token.
                """,
            subcommands: [Retrieve.self, Delete.self])
    }
}

extension Rekey.Backup {
    /// `keyturn rekey backup retrieve`.
    struct Retrieve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write the kept shares as the completing submit would have (0600, all or none).",
            discussion: """
                The files are named after the plan's key files (--plan, or OUT-DIR/rekey-plan.json), \
                else after the keys' fingerprints; ceremony.json names the previous record (--manifest).
                """)

        @OptionGroup
        var options: Rekey.Options

        @Option(help: ArgumentHelp("Where to write the share files and ceremony.json.", valueName: "dir"))
        var outDir = "."

        @Option(help: ArgumentHelp("The rekey's plan (default: OUT-DIR/rekey-plan.json).", valueName: "file"))
        var plan: String?

        @Option(help: ArgumentHelp("The ceremony.json of the keys the rekey replaced.", valueName: "file"))
        var manifest: String?

        func run() async throws {
            let log = try options.log("rekey backup retrieve")
            let previous = try CeremonyRecord.find(explicit: manifest, beside: nil)
            let found = try RekeyPlan.find(explicit: plan, in: outDir)
            let (ceremony, _) = try await options.ceremony()
            let backup = try await RekeyBackupFiles.retrieve(ceremony)
            var (state, newKeys) = try RekeyBackupFiles.arrange(backup, plan: found)
            if state.t == nil { state.t = try await ceremony.client.sealStatus().0.t }
            let files = try RekeyFiles.plan(outDir, keyFiles: newKeys.names, target: options.target)
            try RekeyFiles.write(
                state, before: state, plan: files, newKeys: newKeys, previous: previous,
                address: ceremony.client.address, target: options.target)
            log?.record(node: ceremony.client.address, result: "retrieved", nonce: backup.nonce)
            for f in files.shareFiles + files.recoveryFiles { Terminal.stdoutLine(f) }
            Terminal.stdoutLine(files.manifest)
            Terminal.stderrLine("keyturn: the backup stays on the server until: keyturn rekey backup delete")
            Terminal.warn(
                "these files are unproven: the server keeps the backup before it installs the new keys, so after a "
                    + "crash mid-rekey it may hold a generation that unseals nothing; trust them once a rekey verify "
                    + "or an unseal with them succeeds, and keep the old shares until then")
        }
    }

    /// `keyturn rekey backup delete`.
    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Delete the kept shares, once the new holders have checked their files.")

        @OptionGroup
        var options: Rekey.Options

        func run() async throws {
            let log = try options.log("rekey backup delete")
            let (ceremony, _) = try await options.ceremony()
            try await RekeyBackupFiles.delete(ceremony)
            log?.record(node: ceremony.client.address, result: "deleted")
            Terminal.stderrLine("keyturn: the rekey backup on \(ceremony.client.address) is deleted")
        }
    }
}
