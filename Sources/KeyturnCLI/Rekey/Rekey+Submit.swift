import ArgumentParser
import Ceremony
import Foundation
import ProcessHygiene
import VaultClient

extension Rekey {
    /// `keyturn rekey submit`.
    struct Submit: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "submit",
            abstract: "Submit your current share to the running rekey; the last one writes the new share files.",
            discussion: """
                keyturn first reads the running rekey and refuses it when its nonce is not --nonce (anyone \
                who can reach the endpoint can cancel or restart one), shows what it will do and asks to \
                confirm on a terminal (--yes for scripts). The submit that completes it writes the new \
                share files and ceremony.json into --out-dir, as init does; the new record names the \
                current one (--manifest, or the ceremony.json beside KEYFILE).
                """)

        @OptionGroup
        var options: Rekey.Options

        @OptionGroup
        var submit: SubmitOptions

        @Option(
            name: .customLong("pgp-keys"), parsing: .singleValue,
            help: ArgumentHelp(
                "The new holders' key files as given to rekey start.",
                discussion:
                    "The new files are named after them (else after the keys' fingerprints); needed with "
                    + "--client-side-encryption.",
                valueName: "files"))
        var pgpKeys: [String] = []

        @Option(
            help: ArgumentHelp(
                "Where the completing submit writes the new share files and ceremony.json.",
                discussion: "Created 0700; none of the files may exist.", valueName: "dir"))
        var outDir: String = "."

        @Option(
            help: ArgumentHelp(
                "The rekey's plan (default: OUT-DIR/rekey-plan.json, when there).",
                discussion: "Without --pgp-keys, the new files are named after the plan's key files.",
                valueName: "file"))
        var plan: String?

        func run() async throws {
            let previous = try CeremonyRecord.find(explicit: submit.manifest, beside: submit.keyFile)
            let log = try options.log(
                "rekey submit", share: submit.keyFile, manifest: previous, passphrase: submit.passphrase.source)
            let (ceremony, conn) = try await options.ceremony()
            // The running operation first: its nonce, what it will do.
            let state = try await ceremony.expect(nonce: submit.nonce)
            let newKeys = try newHolders(state)
            let plan = try completionPlan(state, newKeys: newKeys)
            try Terminal.confirmSubmit(
                QuorumOutput.summary(state, ceremony: ceremony, completes: plan != nil), yes: submit.yes,
                status: "keyturn rekey status")
            let share = try ShareInput.read(
                submit.keyFile, passphrase: submit.passphrase.source, checkedAgainst: previous)
            let completion = Completion(
                state: state, plan: plan, newKeys: newKeys, previous: previous, log: log, target: options.target)
            try await SignalHold.aroundCompletingSubmit(
                plan != nil, "the new shares were being saved",
                ceremony: ceremony, conn: conn
            ) {
                switch try await ceremony.submit(share, nonce: submit.nonce, before: state) {
                case .progressed(let s):
                    log?.record(
                        node: ceremony.client.address, result: "accepted", progress: s.progressText, nonce: submit.nonce
                    )
                    QuorumOutput.print(s, ceremony: ceremony, format: conn.format)
                    Terminal.stderrLine("keyturn: share accepted: \(s.progress ?? 0) of \(s.required ?? 0)")
                case .completed(let s):
                    try completion.save(s, ceremony: ceremony, nonce: submit.nonce)
                }
            }
        }

        /// The new holders: from --pgp-keys, else from the rekey's plan (checked against the
        /// server's keys), else known by fingerprint only.
        private func newHolders(_ state: QuorumState) throws -> RekeyFiles.NewKeys {
            let files = pgpKeys.commaSeparated
            let serverKeys = state.pgpFingerprints ?? []
            if files.isEmpty, !serverKeys.isEmpty, let (plan, path) = try RekeyPlan.find(explicit: plan, in: outDir) {
                return try plan.newKeys(serverFingerprints: serverKeys, nonce: state.nonce, path: path)
            }
            return try RekeyFiles.newKeys(files, state: state)
        }

        /// The files the submit that completes the rekey writes, checked now (nil when this
        /// submit will not complete it); refused when the new shares would come back unencrypted
        /// with no keys to encrypt them to.
        private func completionPlan(_ state: QuorumState, newKeys: RekeyFiles.NewKeys) throws -> ShareFilePlan? {
            guard state.nextShareCompletes else { return nil }
            let plan = try RekeyFiles.plan(outDir, keyFiles: newKeys.names, target: options.target)
            if (state.pgpFingerprints ?? []).isEmpty && newKeys.keys.isEmpty {
                throw CLIError(
                    "this rekey returns the new shares unencrypted, and no --pgp-keys were given to encrypt them "
                        + "to their holders; nothing was sent",
                    hint: "pass the new holders' key files with --pgp-keys, as given to rekey start")
            }
            return plan
        }
    }
}
