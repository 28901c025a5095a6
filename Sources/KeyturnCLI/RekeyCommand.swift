import ArgumentParser
import Ceremony
import Foundation
import PGPShares
import Shamir
import TLSMaterial
import VaultClient

/// `keyturn rekey`: new shares for the same key, from a quorum of the current ones.
struct Rekey: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Replace the unseal (or recovery) key shares: new holders, a new threshold.",
        discussion: """
            One operator starts the rekey with the new holders' PGP keys and tells the others its \
            nonce; each current holder submits their share with that nonce (keyturn checks that \
            the running rekey is that one first, and shows what it will do); the submit that \
            reaches the threshold writes the new share files and a new ceremony.json, as init \
            does. Uses OpenBao's authenticated sys/rotate endpoints when a token is given \
            (VAULT_TOKEN, BAO_TOKEN or --token-file), else Vault's sys/rekey endpoints.
            """,
        subcommands: [RekeyStart.self, RekeySubmit.self, RekeyVerify.self, RekeyStatus.self, RekeyCancel.self])
}

/// Which keys a rekey replaces.
struct RekeyTargetOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "The keys to replace: unseal (Shamir seals) or recovery (auto-unseal seals).", valueName: "unseal|recovery")
    )
    var target: QuorumEndpoints.Target = .unseal
}

extension QuorumEndpoints.Target: ExpressibleByArgument {}

/// Finds the active node and the rekey API it offers, with the token if one is given.
private func rekeyCeremony(
    _ connection: ConnectionOptions, _ token: TokenOptions, _ target: QuorumEndpoints.Target
) async throws -> (QuorumCeremony, Connection) {
    let conn = try connection.resolve().with(token: try token.resolve())
    let ceremony = try await QuorumCeremony.connect(conn.clients, kind: .rekey, target: target)
    return (ceremony, conn)
}

struct RekeyStart: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "start",
        abstract: "Start a rekey: the new holders' keys and threshold; prints the nonce to hand to the operators.")

    @OptionGroup(title: "Connection options") var connection: ConnectionOptions
    @OptionGroup var token: TokenOptions
    @OptionGroup var transcript: TranscriptOptions
    @OptionGroup var target: RekeyTargetOptions

    @Option(
        name: .customLong("pgp-keys"), parsing: .singleValue,
        help: ArgumentHelp(
            "The new holders' public key files, comma-separated or repeated; one new share each.", valueName: "files"))
    var pgpKeys: [String] = []

    @Option(help: ArgumentHelp("New shares needed (default: a majority of the keys).", valueName: "k"))
    var keyThreshold: Int?

    @Flag(help: "The new shares take over only once a threshold of their holders verified them (keyturn rekey verify).")
    var verify = false

    @Flag(
        help: ArgumentHelp(
            "Receive the new shares in plaintext over TLS and encrypt them here (the completing submit needs the "
                + "same --pgp-keys), recording commitments in ceremony.json.")
    )
    var clientSideEncryption = false

    @Option(
        help: ArgumentHelp(
            "Check now that the new files can be written into this directory (the completing submit writes them).",
            valueName: "dir"))
    var outDir: String?

    var keyFiles: [String] { pgpKeys.flatMap { $0.split(separator: ",").map(String.init) } }

    func validate() throws {
        if keyFiles.isEmpty {
            throw ValidationError("rekey start needs --pgp-keys: one public key file per new holder")
        }
    }

    func run() async throws {
        let log = try transcript.open("rekey start")
        let shares = keyFiles.count
        let threshold = keyThreshold ?? (shares / 2 + 1)
        if shares > 1 && threshold < 2 || threshold > shares || shares > 255 || threshold < 1 {
            throw KeyturnError(
                "a threshold of \(threshold) does not fit \(shares) share\(shares == 1 ? "" : "s")",
                hint: "2 <= threshold <= shares <= 255, or 1 and 1")
        }
        // The new keys are checked as init checks them, before anything is sent.
        let keys = try OperatorKey.inspect(keyFiles)
        if let outDir { _ = try RekeyFiles.plan(outDir, keyFiles: keyFiles, target: target.target) }
        let (ceremony, conn) = try await rekeyCeremony(connection, token, target.target)
        let request = RekeyRequest(
            secretShares: shares, secretThreshold: threshold,
            pgpKeys: clientSideEncryption ? nil : keys.map { Data($0.info.binary).base64EncodedString() },
            requireVerification: verify)
        let state = try await ceremony.start(request)
        log?.record(
            node: ceremony.client.address, result: "started", progress: "0/\(state.required ?? 0)", nonce: state.nonce)
        QuorumOutput.print(state, ceremony: ceremony, format: conn.format, keys: keys)
        if conn.format == .text {
            Terminal.stderrLine(
                "keyturn: hand the nonce to the current holders; each runs: keyturn rekey submit --nonce "
                    + "\(state.nonce ?? "NONCE") THEIR-KEY-FILE"
            )
        }
    }
}

struct RekeySubmit: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "submit",
        abstract:
            "Submit your current share to the running rekey with this nonce; the last one writes the new share files.")

    @OptionGroup(title: "Connection options") var connection: ConnectionOptions
    @OptionGroup var token: TokenOptions
    @OptionGroup var transcript: TranscriptOptions
    @OptionGroup var target: RekeyTargetOptions

    @Option(help: ArgumentHelp("The nonce of the rekey you were asked to join.", valueName: "nonce"))
    var nonce: String

    @Argument(
        help: ArgumentHelp(
            "The file holding your current share, or '-' for standard input (default: asked on the terminal).",
            valueName: "keyfile"))
    var keyFile: String?

    @OptionGroup(title: "Passphrase options") var passphrase: PassphraseOptions

    @Option(
        help: ArgumentHelp(
            "The current keys' ceremony.json: the share is checked against its commitment, and the new record "
                + "names it (default: the one beside KEYFILE).",
            valueName: "file"))
    var manifest: String?

    @Option(
        name: .customLong("pgp-keys"), parsing: .singleValue,
        help: ArgumentHelp(
            "The new holders' key files as given to rekey start: the new files are named after them (else after "
                + "the keys' fingerprints); needed with --client-side-encryption.",
            valueName: "files"))
    var pgpKeys: [String] = []

    @Option(
        help: ArgumentHelp(
            "Where the completing submit writes the new share files and ceremony.json (created 0700; none of them "
                + "may exist).",
            valueName: "dir"))
    var outDir: String = "."

    @Flag(help: "Do not ask for confirmation (scripts).")
    var yes = false

    var keyFiles: [String] { pgpKeys.flatMap { $0.split(separator: ",").map(String.init) } }

    func run() async throws {
        SecretHygiene.disableCoreDumps()
        let previous = try CeremonyRecord.find(explicit: manifest, beside: keyFile)
        let log = try transcript.open("rekey submit", share: keyFile, manifest: previous)
        let (ceremony, conn) = try await rekeyCeremony(connection, token, target.target)
        // The running operation first: its nonce, what it will do.
        let state = try await ceremony.expect(nonce: nonce)
        let completes = state.nextShareCompletes
        let newKeys = try RekeyFiles.newKeys(keyFiles, state: state)
        // The submit that completes it must be able to write every new file: checked now.
        let plan = completes ? try RekeyFiles.plan(outDir, keyFiles: newKeys.names, target: target.target) : nil
        if completes && (state.pgpFingerprints ?? []).isEmpty && newKeys.keys.isEmpty {
            throw KeyturnError(
                "this rekey returns the new shares unencrypted, and no --pgp-keys were given to encrypt them to "
                    + "their holders; nothing was sent",
                hint: "pass the new holders' key files with --pgp-keys, as given to rekey start")
        }
        try Terminal.confirmSubmit(
            QuorumOutput.summary(state, ceremony: ceremony, completes: completes), yes: yes,
            status: "keyturn rekey status")
        let share = try ShareInput.read(keyFile, passphrase: passphrase.source, checkedAgainst: previous)
        // The submit that completes it gets the only copy of the result: signals wait until
        // it is saved.
        func submitAndSave() async throws {
            switch try await ceremony.submit(share, nonce: nonce) {
            case .progressed(let s):
                log?.record(node: ceremony.client.address, result: "accepted", progress: s.progressText, nonce: nonce)
                QuorumOutput.print(s, ceremony: ceremony, format: conn.format, keys: [])
                Terminal.stderrLine("keyturn: share accepted: \(s.progress ?? 0) of \(s.required ?? 0)")
            case .completed(let s):
                guard let plan else {
                    throw KeyturnError(
                        "\(ceremony.client.address) completed the rekey sooner than its progress said",
                        status: .serverFailure)
                }
                try RekeyFiles.write(
                    s, before: state, plan: plan, newKeys: newKeys, previous: previous, ceremony: ceremony,
                    target: target.target)
                log?.record(
                    node: ceremony.client.address, result: "completed",
                    progress: "\(state.required ?? 0)/\(state.required ?? 0)", nonce: nonce)
                for f in plan.shareFiles + plan.recoveryFiles { Terminal.stdoutLine(f) }
                Terminal.stdoutLine(plan.manifest)
                if s.verificationRequired == true, let v = s.verificationNonce {
                    Terminal.stderrLine(
                        "keyturn: the rekey is complete; the new keys take over once a threshold of their holders "
                            + "ran: keyturn rekey verify --nonce \(v) THEIR-NEW-FILE"
                    )
                    Terminal.stderrLine("keyturn: until then the old shares still unseal")
                } else {
                    Terminal.stderrLine(
                        target.target == .unseal
                            ? "keyturn: the rekey is complete: the new shares are in force, the old ones no longer "
                                + "unseal; hand each holder their file"
                            : "keyturn: the rekey is complete: the new recovery keys are in force, the old ones no "
                                + "longer count; hand each holder their file"
                    )
                }
            }
        }
        if completes {
            try await SignalHold.around(
                "the new shares were being saved",
                notice: .oneShot(
                    "the share that completes the rekey", node: ceremony.client.address, after: conn.transport.timeout)
            ) { try await submitAndSave() }
        } else {
            try await submitAndSave()
        }
    }

}

struct RekeyVerify: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "As a new holder, submit your new share to the rekey's verification (rekey start --verify).")

    @OptionGroup(title: "Connection options") var connection: ConnectionOptions
    @OptionGroup var token: TokenOptions
    @OptionGroup var transcript: TranscriptOptions
    @OptionGroup var target: RekeyTargetOptions

    @Option(help: ArgumentHelp("The verification nonce the completing submit printed.", valueName: "nonce"))
    var nonce: String

    @Argument(
        help: ArgumentHelp("The file holding your new share, or '-' for standard input.", valueName: "new-keyfile"))
    var keyFile: String?

    @OptionGroup(title: "Passphrase options") var passphrase: PassphraseOptions

    func run() async throws {
        SecretHygiene.disableCoreDumps()
        let record = try CeremonyRecord.find(explicit: nil, beside: keyFile)
        let log = try transcript.open("rekey verify", share: keyFile, manifest: record)
        let (ceremony, conn) = try await rekeyCeremony(connection, token, target.target)
        _ = try await ceremony.expect(nonce: nonce, verification: true)
        let share = try ShareInput.read(keyFile, passphrase: passphrase.source, checkedAgainst: record)
        switch try await ceremony.submit(share, nonce: nonce, verification: true) {
        case .progressed(let s):
            log?.record(
                node: ceremony.client.address, result: "verified", progress: "\(s.progress ?? 0)/\(s.t ?? 0)",
                nonce: nonce)
            QuorumOutput.print(s, ceremony: ceremony, format: conn.format, keys: [])
            Terminal.stderrLine("keyturn: new share verified: \(s.progress ?? 0) of \(s.t ?? 0)")
        case .completed(let s):
            log?.record(node: ceremony.client.address, result: "completed", nonce: nonce)
            QuorumOutput.print(s, ceremony: ceremony, format: conn.format, keys: [])
            Terminal.stderrLine(
                "keyturn: verification complete: the new shares are in force, the old ones no longer unseal")
        }
    }
}

struct RekeyStatus: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status", abstract: "Show the running rekey (and its verification round).")

    @OptionGroup(title: "Connection options") var connection: ConnectionOptions
    @OptionGroup var token: TokenOptions
    @OptionGroup var transcript: TranscriptOptions
    @OptionGroup var target: RekeyTargetOptions

    func run() async throws {
        let log = try transcript.open("rekey status")
        let (ceremony, conn) = try await rekeyCeremony(connection, token, target.target)
        var state = try await ceremony.state()
        if state.verificationRequired == true, let v = state.verificationNonce, !v.isEmpty,
            let round = try? await ceremony.state(verification: true)
        {
            state.verificationNonce = round.nonce ?? v
            state.progress = round.progress
        }
        log?.record(
            node: ceremony.client.address, result: state.started == true ? "running" : "none running",
            progress: state.progressText, nonce: state.runningNonce)
        QuorumOutput.print(state, ceremony: ceremony, format: conn.format, keys: [])
    }
}

struct RekeyCancel: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cancel", abstract: "Cancel the running rekey; shares submitted to it are discarded.")

    @OptionGroup(title: "Connection options") var connection: ConnectionOptions
    @OptionGroup var token: TokenOptions
    @OptionGroup var transcript: TranscriptOptions
    @OptionGroup var target: RekeyTargetOptions

    func run() async throws {
        let log = try transcript.open("rekey cancel")
        let (ceremony, _) = try await rekeyCeremony(connection, token, target.target)
        try await ceremony.cancel()
        log?.record(node: ceremony.client.address, result: "cancelled")
        Terminal.stderrLine("keyturn: the rekey on \(ceremony.client.address) is cancelled (if one was running)")
    }
}

/// The files of a completed rekey: named after the new holders' key files, written as init
/// writes them, the record chained to the previous generation's.
enum RekeyFiles {
    /// The new holders' keys when given (checked against the operation's fingerprints, in
    /// order), and the names the new files take (their key files, else their fingerprints).
    struct NewKeys {
        let keys: [OperatorKey]
        let names: [String]
    }

    static func newKeys(_ files: [String], state: QuorumState) throws -> NewKeys {
        let fingerprints = (state.pgpFingerprints ?? []).map { $0.uppercased() }
        guard !files.isEmpty else {
            return NewKeys(keys: [], names: fingerprints.map { "\($0).asc" })
        }
        let keys = try OperatorKey.inspect(files)
        if let n = state.n, n != keys.count {
            throw KeyturnError(
                "the running rekey makes \(n) shares but \(keys.count) key files were given; nothing was sent")
        }
        if !fingerprints.isEmpty {
            for (key, expected) in zip(keys, fingerprints)
            where !key.info.fingerprint.uppercased().hasSuffix(expected)
                && !expected.hasSuffix(key.info.fingerprint.uppercased())
            {
                throw KeyturnError(
                    "\(key.file) is not the key the running rekey encrypts to in its place (\(expected)); nothing "
                        + "was sent",
                    hint: "give the key files in the order given to rekey start")
            }
        }
        return NewKeys(keys: keys, names: files)
    }

    static func plan(_ dir: String, keyFiles: [String], target: QuorumEndpoints.Target) throws -> ShareFilePlan {
        target == .unseal
            ? try ShareFilePlan(directory: dir, keyFiles: keyFiles, recoveryKeyFiles: [], rootToken: false)
            : try ShareFilePlan(directory: dir, keyFiles: [], recoveryKeyFiles: keyFiles, rootToken: false)
    }

    /// Writes the new files, all or none; if that fails, the whole answer goes to stdout.
    /// `before` is the operation as read before the completing submit (its parameters).
    static func write(
        _ s: QuorumState, before: QuorumState, plan: ShareFilePlan, newKeys: NewKeys,
        previous: (CeremonyRecord, String)?, ceremony: QuorumCeremony, target: QuorumEndpoints.Target
    ) throws {
        let keys = s.keys ?? [], base64 = s.keysBase64 ?? []
        let clientSide = (s.pgpFingerprints ?? []).isEmpty
        let issued =
            target == .unseal
            ? IssuedKeys(keys: keys, keysBase64: base64)
            : IssuedKeys(keys: [], keysBase64: [], recoveryKeysBase64: base64)
        var lineage = CeremonyRecord.Lineage(
            generation: 2, previousSHA256: nil, target: target == .recovery ? "recovery" : nil)
        if let (record, path) = previous {
            lineage.generation = (record.generation ?? 1) + 1
            lineage.previousSHA256 = FileManager.default.contents(atPath: path).map { Digest.sha256Hex([UInt8]($0)) }
        } else {
            Terminal.warn(
                "no previous ceremony.json was given (--manifest): the new record cannot name its predecessor")
        }
        // Holders known only by fingerprint: records carry the fingerprint, the files its name.
        let operators =
            newKeys.keys.isEmpty
            ? newKeys.names.map {
                OperatorKey(file: $0, info: PublicKeyInfo(fingerprint: String($0.dropLast(4)), userID: "", binary: []))
            }
            : newKeys.keys
        do {
            try plan.write(
                issued, operators: target == .unseal ? operators : [], recovery: target == .recovery ? operators : [],
                rootKey: nil, address: ceremony.client.address, shares: before.n ?? keys.count,
                threshold: before.t ?? 0,
                clientSide: clientSide, lineage: lineage)
        } catch {
            // The server will not give these shares again: nothing may be lost.
            Terminal.stdoutLine((try? Output.json(s)).map { String(decoding: $0, as: UTF8.self) } ?? "{}")
            let message = (error as? KeyturnError)?.message ?? "\(error)"
            throw KeyturnError(
                "the rekey is complete but the new share files could not be written (\(message)); the whole answer "
                    + "is on standard output above",
                hint: "save that output now: it holds every new share", status: .localFailure)
        }
    }
}

/// How the states of rekey and generate-root are shown.
enum QuorumOutput {
    static func summary(_ s: QuorumState, ceremony: QuorumCeremony, completes: Bool) -> String {
        var lines = [
            "Rekey on \(ceremony.client.address) (\(ceremony.endpoints.statusPath)), nonce \(s.nonce ?? "-"):",
            "  new shares: \(s.n ?? 0), of which \(s.t ?? 0) unseal",
            "  progress: \(s.progress ?? 0) of \(s.required ?? 0) current "
                + "shares\(completes ? " (yours completes it)" : "")",
            "  verification of the new shares: \(s.verificationRequired == true ? "required" : "no")",
        ]
        if let f = s.pgpFingerprints, !f.isEmpty {
            lines.append("  new shares encrypted to: \(f.joined(separator: ", "))")
        }
        return lines.joined(separator: "\n")
    }

    static func print(_ s: QuorumState, ceremony: QuorumCeremony, format: OutputFormat, keys: [OperatorKey]) {
        var shown = s
        if (shown.pgpFingerprints ?? []).isEmpty, !keys.isEmpty { shown.pgpFingerprints = keys.map(\.info.fingerprint) }
        printQuorum(shown, ceremony: ceremony, format: format)
    }

    /// A quorum operation's state as a two-column table or one JSON document. New shares, the
    /// OTP and the encoded token are never shown: they go to files.
    static func printQuorum(_ s: QuorumState, ceremony: QuorumCeremony, format: OutputFormat) {
        var shown = s
        shown.keys = nil
        shown.keysBase64 = nil
        shown.otp = nil
        shown.encodedToken = nil
        shown.encodedRootToken = nil
        switch format {
        case .json:
            var doc: [String: JSONValue] = [
                "address": .string(ceremony.client.address), "api": .string(ceremony.endpoints.statusPath),
            ]
            if let data = try? JSONEncoder().encode(shown),
                let obj = try? JSONDecoder().decode([String: JSONValue].self, from: data)
            {
                doc.merge(obj) { a, _ in a }
            }
            Terminal.stdoutLine(
                (try? Output.json(JSONValue.object(doc))).map { String(decoding: $0, as: UTF8.self) } ?? "{}")
        case .text:
            var rows: [[String]] = [
                ["address", ceremony.client.address], ["api", ceremony.endpoints.statusPath],
                ["started", (shown.started ?? false) ? "yes" : "no"], ["nonce", shown.runningNonce ?? "-"],
                ["progress", shown.progressText],
            ]
            if ceremony.endpoints.kind == .rekey {
                rows += [
                    ["new shares", "\(shown.n ?? 0)"], ["new threshold", "\(shown.t ?? 0)"],
                    ["verification", shown.verificationRequired == true ? "required" : "no"],
                ]
                if let v = shown.verificationNonce, !v.isEmpty { rows.append(["verification nonce", v]) }
                if let f = shown.pgpFingerprints, !f.isEmpty { rows.append(["new keys", f.joined(separator: ", ")]) }
            } else {
                let pgp = shown.pgpFingerprint.flatMap { $0.isEmpty ? nil : $0 }
                rows.append(["token returned", pgp.map { "encrypted to \($0)" } ?? "masked with the one-time pad"])
            }
            if shown.complete == true { rows.append(["complete", "yes"]) }
            Terminal.stdoutLine(Output.table(["FIELD", "VALUE"], rows))
        }
    }
}
