import ArgumentParser
import Ceremony
import Foundation
import KeyturnFailure
import ProcessHygiene
import VaultClient

extension GenerateRoot {
    /// `keyturn generate-root submit`.
    struct Submit: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "submit",
            abstract: "Submit your share to the running generation; the last one writes the token's file.")

        @OptionGroup
        var options: QuorumOptions

        @OptionGroup
        var submit: SubmitOptions

        @Option(
            help: ArgumentHelp(
                "Where the completing submit writes \(GenerateRootFiles.encodedName) or "
                    + "\(GenerateRootFiles.pgpName) (0600).",
                valueName: "dir"))
        var outDir: String = "."

        func run() async throws {
            let record = try CeremonyRecord.find(explicit: submit.manifest, beside: submit.keyFile)
            let log = try options.transcript.open(
                "generate-root submit", share: submit.keyFile, manifest: record, passphrase: submit.passphrase.source)
            let (ceremony, conn) = try await options.ceremony(.generateRoot)
            let state = try await ceremony.expect(nonce: submit.nonce)
            let pgp = !(state.pgpFingerprint ?? "").isEmpty
            let path = SecretFiles.join(outDir, pgp ? GenerateRootFiles.pgpName : GenerateRootFiles.encodedName)
            let place = state.nextShareCompletes ? try GenerateRootFiles.Place(path) : nil
            try Terminal.confirmSubmit(
                confirmation(state, ceremony: ceremony), yes: submit.yes, status: "keyturn generate-root status")
            let share = try ShareInput.read(
                submit.keyFile, passphrase: submit.passphrase.source, checkedAgainst: record)
            try await SignalHold.aroundCompletingSubmit(
                place != nil, "the new root token was being saved", ceremony: ceremony, conn: conn
            ) {
                switch try await ceremony.submit(share, nonce: submit.nonce, before: state) {
                case .progressed(let s):
                    log?.record(
                        node: ceremony.client.address, result: "accepted", progress: s.progressText, nonce: submit.nonce
                    )
                    QuorumOutput.print(s, ceremony: ceremony, format: conn.format)
                    Terminal.stderrLine("keyturn: share accepted: \(s.progress ?? 0) of \(s.required ?? 0)")
                case .completed(let s):
                    try save(s, before: state, place: place, path: path, ceremony: ceremony, log: log)
                }
            }
        }

        /// What the operator signs off.
        private func confirmation(_ state: QuorumState, ceremony: QuorumCeremony) -> String {
            let yours = state.nextShareCompletes ? " (yours completes it)" : ""
            let returned =
                (state.pgpFingerprint ?? "").isEmpty
                ? "masked with the one-time pad its starter holds"
                : "encrypted to PGP key \(state.pgpFingerprint ?? "")"
            return """
                Root token generation on \(ceremony.client.address), nonce \(state.nonce ?? "-"):
                  progress: \(state.progress ?? 0) of \(state.required ?? 0) shares\(yours)
                  the token comes back: \(returned)
                """
        }

        /// Writes the completed generation's token file, or prints it (harmless without the OTP
        /// or the PGP key, and given only once).
        private func save(
            _ s: QuorumState, before state: QuorumState, place: GenerateRootFiles.Place?, path: String,
            ceremony: QuorumCeremony, log: TranscriptLog?
        ) throws {
            let pgp = !(state.pgpFingerprint ?? "").isEmpty
            let encoded = (s.encodedToken ?? "").isEmpty ? (s.encodedRootToken ?? "") : (s.encodedToken ?? "")
            guard let text = GenerateRootFiles.tokenText(encoded: encoded, pgp: pgp) else {
                throw CLIError(
                    "\(ceremony.client.address) sent an encrypted token that is not base64", status: .serverFailure)
            }
            try OneShotAnswer.save(
                done: "the generation is complete", unsaved: path,
                shown: "the \(pgp ? "encrypted" : "encoded") token", hint: "save that output now", answer: { encoded }
            ) {
                // Checked before the submit when it was known to complete the generation.
                let place = try place ?? GenerateRootFiles.Place(path)
                try place.write(text, into: try place.prepare())
            }
            let required = state.required ?? 0
            log?.record(
                node: ceremony.client.address, result: "completed", progress: "\(required)/\(required)",
                nonce: submit.nonce)
            Terminal.stdoutLine(path)
            Terminal.stderrLine(
                pgp
                    ? "keyturn: the new root token is in \(quoted(path)), encrypted to "
                        + "\(state.pgpFingerprint ?? "the key"): gpg -d \(quoted(path))"
                    : "keyturn: the encoded token is in \(quoted(path)); the holder of the one-time pad runs: keyturn "
                        + "generate-root decode --otp-file OTP-FILE \(quoted(path))")
        }
    }
}
