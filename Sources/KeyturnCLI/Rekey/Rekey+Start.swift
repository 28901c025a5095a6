import ArgumentParser
import Ceremony
import Foundation
import KeyturnFailure
import PGPShares
import Shamir
import VaultClient

extension Rekey {
    /// `keyturn rekey start`.
    struct Start: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "start",
            abstract: "Start a rekey: the new holders' keys and threshold; prints the nonce to hand to the operators.",
            discussion: """
                With --out-dir, writes OUT-DIR/rekey-plan.json (no secret): the completing submit with \
                the same --out-dir names the new files after the key files without --pgp-keys, and \
                refuses when the server's keys differ from the plan's.
                """)

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
            inversion: .prefixedNo,
            help: ArgumentHelp(
                "The new shares take over only once a threshold of their holders verified them (rekey verify).",
                discussion:
                    "On by default: until then the old shares unseal, so a completing answer lost to a crash or a "
                    + "cut connection loses nothing. --no-verify warns."))
        var verify = true

        @Option(
            help: ArgumentHelp(
                "Save a raft snapshot (needs a token) to this file (0600) before the rekey starts.",
                discussion: "Restoring it brings the current keys back (README: restoring a snapshot).",
                valueName: "file"))
        var snapshot: String?

        @Flag(
            help: ArgumentHelp(
                "The server keeps the new encrypted shares until rekey backup delete.",
                discussion: "Whoever completes the rekey may lose the files; rekey backup retrieve writes them again."))
        var backup = false

        @Flag(
            help: ArgumentHelp(
                "Receive the new shares in plaintext over TLS and encrypt them here.",
                discussion:
                    "The completing submit needs the same --pgp-keys; commitments are recorded in ceremony.json."))
        var clientSideEncryption = false

        @Option(
            help: ArgumentHelp(
                "Where the completing submit writes the new files: checked now, and the rekey's plan written there.",
                valueName: "dir"))
        var outDir: String?

        @OptionGroup
        var dryRun: DryRunOption

        func validate() throws {
            if pgpKeys.commaSeparated.isEmpty {
                throw ValidationError("rekey start needs --pgp-keys: one public key file per new holder")
            }
            if backup && clientSideEncryption {
                throw ValidationError("--backup can't be used with --client-side-encryption")
            }
        }

        func run() async throws {
            let log = try options.log("rekey start")
            let keyFiles = pgpKeys.commaSeparated
            let threshold = keyThreshold ?? (keyFiles.count / 2 + 1)
            try ThresholdCheck.require(shares: keyFiles.count, threshold: threshold)
            // The new keys and files are checked as init checks them, before anything is sent.
            let keys = try OperatorKey.inspect(keyFiles)
            let files = try outDir.map { (dir) throws in
                try SecretFiles.requireAbsent(SecretFiles.join(dir, RekeyPlan.fileName))
                return try RekeyFiles.plan(dir, keyFiles: keyFiles, target: options.target)
            }
            if let snapshot { try RaftSnapshot.check(snapshot) }
            let (ceremony, conn) = try await options.ceremony()
            if dryRun.enabled {
                try await ceremony.requireIdle()
                return dryRun.report([ceremony.startRequest])
            }
            try await prepare(ceremony)
            let request = RekeyRequest(
                secretShares: keyFiles.count, secretThreshold: threshold,
                pgpKeys: clientSideEncryption ? nil : keys.map { Data($0.info.binary).base64EncodedString() },
                requireVerification: verify, backup: backup)
            let state = try await start(request, ceremony: ceremony, conn: conn, keys: keys, files: files, log: log)
            if state.complete == true { return }
            log?.record(
                node: ceremony.client.address, result: "started", progress: "0/\(state.required ?? 0)",
                nonce: state.nonce)
            QuorumOutput.print(state, ceremony: ceremony, format: conn.format, newKeys: keys)
            if let outDir, let files { writePlan(state, ceremony: ceremony, keys: keys, into: outDir, files.directory) }
            if conn.format == .text {
                Terminal.stderrLine(
                    "keyturn: hand the nonce to the current holders; each runs: keyturn rekey submit"
                        + NamespaceOption.flag(options.quorum.namespace.namespace) + " --nonce "
                        + "\(state.nonce ?? "NONCE") THEIR-KEY-FILE --out-dir \(outDir ?? "DIR")")
            }
        }

        /// Sends the start. The first recovery keys of a node that has none come in its answer
        /// (OpenBao 2.7.2): then the start is a one-shot answer, its files planned before it is
        /// sent (OUT-DIR, else the current directory), held against signals and saved.
        private func start(
            _ request: RekeyRequest, ceremony: QuorumCeremony, conn: Connection, keys: [OperatorKey],
            files: ShareFilePlan?, log: TranscriptLog?
        ) async throws -> QuorumState {
            let keyFiles = pgpKeys.commaSeparated
            let first = try await ceremony.startCompletesAtOnce()
            let firstFiles = first ? try files ?? RekeyFiles.plan(".", keyFiles: keyFiles, target: options.target) : nil
            var state = QuorumState()
            try await SignalHold.aroundCompletingSubmit(
                first, "the first recovery keys were being saved", ceremony: ceremony, conn: conn
            ) {
                do { state = try await ceremony.start(request) } catch let e as VaultError
                    where first && LostAnswer.answerLost(e)
                {
                    throw await LostAnswer.firstKeysLost(e, ceremony: ceremony)
                }
                guard state.complete == true else { return }
                var before = QuorumState()
                (before.n, before.t, before.required) = (request.secretShares, request.secretThreshold, 0)
                let completion = Completion(
                    state: before, plan: firstFiles, newKeys: RekeyFiles.NewKeys(keys: keys, names: keyFiles),
                    previous: nil, log: log, target: options.target, first: true)
                try completion.save(state, ceremony: ceremony, nonce: state.verificationNonce ?? "")
            }
            return state
        }

        /// Before the rekey starts: the warning of --no-verify, the snapshot of --snapshot.
        private func prepare(_ ceremony: QuorumCeremony) async throws {
            try await ceremony.requireIdle()
            if let snapshot {
                guard ceremony.client.token != nil else {
                    throw CeremonyError(
                        "a raft snapshot needs a token; nothing was sent", code: .noToken,
                        facts: ["operation": "raft snapshot"])
                }
                let size = try await RaftSnapshot.save(ceremony.client, to: snapshot)
                Terminal.stderrLine(
                    "keyturn: the raft snapshot (\(size) bytes) is in \(quoted(snapshot)); README \"Restoring a "
                        + "snapshot\" brings the current keys back from it")
            }
            if !verify {
                Terminal.warn(
                    "without verification the new shares take over the moment the rekey completes: if that answer is "
                        + "lost (a node killed, a connection cut), no one holds them and the old ones no longer unseal "
                        + "(OpenBao's rekey completion is not crash-atomic); --snapshot FILE keeps a way back")
            }
        }

        /// The plan, written once the rekey runs (it holds the nonce); a failure to write it is a
        /// warning, since the rekey is running and `--pgp-keys` on the completing submit still works.
        private func writePlan(
            _ state: QuorumState, ceremony: QuorumCeremony, keys: [OperatorKey], into outDir: String,
            _ directory: OutputDirectory
        ) {
            let plan = RekeyPlan(
                state: state, endpoints: ceremony.endpoints, node: ceremony.client.address, keys: keys, backup: backup)
            do {
                try directory.create()
                directory.keep()
                let path = try plan.write(into: outDir)
                Terminal.stderrLine("keyturn: the rekey's plan is in \(quoted(path))")
            } catch {
                Terminal.warn(
                    "the rekey is running, but its plan could not be written "
                        + "(\((error as? any KeyturnFailure)?.reason ?? "\(error)")); "
                        + "the completing submit needs --pgp-keys")
            }
        }
    }
}
