import ArgumentParser
import Ceremony
import Foundation
import KeyturnFailure
import PGPShares
import VaultClient

extension GenerateRoot {
    /// `keyturn generate-root start`.
    struct Start: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "start", abstract: "Start a root token generation; prints its nonce.")

        @OptionGroup
        var options: QuorumOptions

        @Option(help: ArgumentHelp("Public key file to encrypt the new root token to (preferred).", valueName: "file"))
        var pgpKey: String?

        @Option(
            help: ArgumentHelp(
                "Without --pgp-key: where the one-time pad goes (0600, never overwritten; default "
                    + "DIR/\(GenerateRootFiles.otpName)).",
                valueName: "file"))
        var otpFile: String?

        @Option(help: ArgumentHelp("Directory for the OTP file (created 0700).", valueName: "dir"))
        var outDir: String = "."

        @OptionGroup
        var dryRun: DryRunOption

        func validate() throws {
            if pgpKey != nil && otpFile != nil { throw ValidationError("--otp-file can't be used with --pgp-key") }
        }

        func run() async throws {
            let log = try options.transcript.open("generate-root start")
            let key = try pgpKey.map { try OperatorKey.inspect([$0])[0] }
            // The OTP's file is checked before anything is sent: the server shows the OTP once.
            let otpPath = otpFile ?? SecretFiles.join(outDir, GenerateRootFiles.otpName)
            let place = key == nil ? try GenerateRootFiles.Place(otpPath) : nil
            let (ceremony, conn) = try await options.ceremony(.generateRoot)
            if dryRun.enabled {
                try await ceremony.requireIdle()
                return dryRun.report([ceremony.startRequest])
            }
            let pending = try place?.prepare()
            let state = try await ceremony.start(
                GenerateRootRequest(pgpKey: key.map { Data($0.info.binary).base64EncodedString() }))
            if let place, let pending { try await saveOTP(state, into: place, pending, ceremony: ceremony) }
            log?.record(
                node: ceremony.client.address, result: "started", progress: "0/\(state.required ?? 0)",
                nonce: state.nonce)
            // The pad is never printed (QuorumOutput hides it): it is only in its file.
            QuorumOutput.print(state, ceremony: ceremony, format: conn.format)
            if place != nil {
                Terminal.stderrLine(
                    "keyturn: the one-time pad is in \(quoted(otpPath)) (0600); keep it for keyturn generate-root "
                        + "decode"
                )
            }
            Terminal.stderrLine(
                "keyturn: hand the nonce to the holders; each runs: keyturn generate-root submit"
                    + NamespaceOption.flag(options.namespace.namespace) + " --nonce "
                    + "\(state.nonce ?? "NONCE") THEIR-KEY-FILE")
        }

        /// Writes the pad; it is shown once, and without it the token cannot be decoded, so if it
        /// cannot be written the generation is cancelled.
        private func saveOTP(
            _ state: QuorumState, into place: GenerateRootFiles.Place, _ pending: PendingFile,
            ceremony: QuorumCeremony
        ) async throws {
            guard let pad = state.otp, !pad.isEmpty else {
                throw CLIError(
                    "\(ceremony.client.address) started the generation but sent no one-time pad",
                    status: .serverFailure)
            }
            do {
                try place.write(Array((pad + "\n").utf8), into: pending)
            } catch {
                try? await ceremony.cancel()
                throw CLIError(
                    "cannot write the one-time pad to \(quoted(place.path)) "
                        + "(\(CLIError.reason(of: error))); the generation was cancelled",
                    hint: "start again with a writable --otp-file")
            }
        }
    }
}
