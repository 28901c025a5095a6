import ArgumentParser
import Ceremony
import Foundation
import PGPShares
import Shamir
import VaultClient

extension Rekey {
    /// `keyturn rekey start`.
    struct Start: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "start",
            abstract: "Start a rekey: the new holders' keys and threshold; prints the nonce to hand to the operators.")

        @OptionGroup
        var options: Rekey.Options

        @Option(
            name: .customLong("pgp-keys"), parsing: .singleValue,
            help: ArgumentHelp(
                "The new holders' public key files, comma-separated or repeated; one new share each.",
                valueName: "files"))
        var pgpKeys: [String] = []

        @Option(help: ArgumentHelp("New shares needed (default: a majority of the keys).", valueName: "k"))
        var keyThreshold: Int?

        @Flag(
            help: "The new shares take over only once a threshold of their holders verified them (rekey verify).")
        var verify = false

        @Flag(
            help: ArgumentHelp(
                "Receive the new shares in plaintext over TLS and encrypt them here.",
                discussion:
                    "The completing submit needs the same --pgp-keys; commitments are recorded in ceremony.json."))
        var clientSideEncryption = false

        @Option(
            help: ArgumentHelp(
                "Check now that the new files can be written into this directory (the completing submit writes "
                    + "them).",
                valueName: "dir"))
        var outDir: String?

        func validate() throws {
            if pgpKeys.commaSeparated.isEmpty {
                throw ValidationError("rekey start needs --pgp-keys: one public key file per new holder")
            }
        }

        func run() async throws {
            let log = try options.log("rekey start")
            let keyFiles = pgpKeys.commaSeparated
            let shares = keyFiles.count
            let threshold = keyThreshold ?? (shares / 2 + 1)
            try ThresholdCheck.require(shares: shares, threshold: threshold)
            // The new keys are checked as init checks them, before anything is sent.
            let keys = try OperatorKey.inspect(keyFiles)
            if let outDir { _ = try RekeyFiles.plan(outDir, keyFiles: keyFiles, target: options.target) }
            let (ceremony, conn) = try await options.ceremony()
            let request = RekeyRequest(
                secretShares: shares, secretThreshold: threshold,
                pgpKeys: clientSideEncryption ? nil : keys.map { Data($0.info.binary).base64EncodedString() },
                requireVerification: verify)
            let state = try await ceremony.start(request)
            log?.record(
                node: ceremony.client.address, result: "started", progress: "0/\(state.required ?? 0)",
                nonce: state.nonce)
            QuorumOutput.print(state, ceremony: ceremony, format: conn.format, keys: keys)
            if conn.format == .text {
                Terminal.stderrLine(
                    "keyturn: hand the nonce to the current holders; each runs: keyturn rekey submit --nonce "
                        + "\(state.nonce ?? "NONCE") THEIR-KEY-FILE")
            }
        }
    }
}
