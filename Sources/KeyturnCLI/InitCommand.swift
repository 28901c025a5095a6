import ArgumentParser
import Ceremony
import Foundation
import PGPShares
import Shamir
import TLSMaterial
import VaultClient

/// `keyturn init`: the one-shot initialisation, every share encrypted to its operator.
struct Init: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Initialise a Vault: one PGP-encrypted share file per operator, and a ceremony record.",
        discussion: """
            Every key file, path and permission is checked before the single sys/init call. \
            The server encrypts each share to its operator's key (pgp_keys), so no plaintext \
            share leaves it. Writes DIR/<key-file-name>.key per operator (an armoured PGP \
            message whose plaintext is the hex share), DIR/root-token.asc when \
            --root-token-pgp-key is given, and DIR/ceremony.json (no secret). If the files \
            cannot be written after the server answered, the whole answer goes to stdout.
            """)

    @OptionGroup(title: "Connection options") var connection: ConnectionOptions

    @Option(
        name: .customLong("pgp-keys"), parsing: .singleValue,
        help: ArgumentHelp(
            "Operators' public key files, comma-separated or repeated; one share each.", valueName: "files"))
    var pgpKeys: [String] = []

    @Option(help: ArgumentHelp("Shares needed to unseal (default: a majority of the keys).", valueName: "k"))
    var keyThreshold: Int?

    @Option(help: ArgumentHelp("Number of shares; must equal the number of PGP keys.", valueName: "n"))
    var keyShares: Int?

    @Option(help: ArgumentHelp("Public key file to encrypt the root token to (root-token.asc).", valueName: "file"))
    var rootTokenPgpKey: String?

    @Option(help: ArgumentHelp("Recovery shares, for auto-unseal seals.", valueName: "n"))
    var recoveryShares: Int?

    @Option(help: ArgumentHelp("Recovery threshold, for auto-unseal seals.", valueName: "k"))
    var recoveryThreshold: Int?

    @Option(
        name: .customLong("recovery-pgp-keys"), parsing: .singleValue,
        help: ArgumentHelp("Public key files for the recovery shares.", valueName: "files"))
    var recoveryPgpKeys: [String] = []

    @Option(help: ArgumentHelp("Directory for the share files and ceremony.json (created 0700).", valueName: "dir"))
    var outDir: String = "."

    @Flag(help: "No PGP (dev servers, CI): shares and root token go to stdout only, never to a file.")
    var noPgp = false

    @OptionGroup var transcript: TranscriptOptions

    @Flag(
        help: ArgumentHelp(
            "Receive the shares over TLS and encrypt them here, recording a salted commitment of each in "
                + "ceremony.json (enables keyturn verify).")
    )
    var clientSideEncryption = false

    var keyFiles: [String] { pgpKeys.flatMap { $0.split(separator: ",").map(String.init) } }
    var recoveryKeyFiles: [String] { recoveryPgpKeys.flatMap { $0.split(separator: ",").map(String.init) } }

    func validate() throws {
        if noPgp && !keyFiles.isEmpty { throw ValidationError("--no-pgp and --pgp-keys cannot be combined") }
        if !noPgp && keyFiles.isEmpty && recoveryKeyFiles.isEmpty {
            throw ValidationError(
                "init needs --pgp-keys (one public key file per operator), --recovery-pgp-keys for an auto-unseal "
                    + "seal, or --no-pgp for a dev server"
            )
        }
        if autoUnseal && (keyThreshold != nil || keyShares != nil) {
            throw ValidationError(
                "an auto-unseal init (--recovery-pgp-keys without --pgp-keys) takes --recovery-threshold, not "
                    + "--key-threshold or --key-shares"
            )
        }
        if !noPgp, let n = keyShares, n != keyFiles.count {
            throw ValidationError(
                "--key-shares is \(n) but \(keyFiles.count) PGP keys were given; each share needs one key")
        }
        if noPgp && keyShares == nil { throw ValidationError("--no-pgp needs --key-shares") }
        if noPgp && clientSideEncryption { throw ValidationError("--client-side-encryption needs --pgp-keys") }
        if !recoveryKeyFiles.isEmpty, let n = recoveryShares, n != recoveryKeyFiles.count {
            throw ValidationError(
                "--recovery-shares is \(n) but \(recoveryKeyFiles.count) recovery PGP keys were given")
        }
    }

    var shares: Int { noPgp ? (keyShares ?? 1) : keyFiles.count }
    var threshold: Int { keyThreshold ?? (shares / 2 + 1) }
    /// An auto-unseal seal (OpenBao's static seal, a cloud KMS): recovery keys only; the server
    /// refuses secret_shares for it.
    var autoUnseal: Bool { !noPgp && keyFiles.isEmpty && !recoveryKeyFiles.isEmpty }
    var recoveryCount: Int { recoveryShares ?? recoveryKeyFiles.count }
    var recoveryQuorum: Int { recoveryThreshold ?? (recoveryCount / 2 + 1) }

    func run() async throws {
        SecretHygiene.disableCoreDumps()
        let conn = try connection.resolve()
        let log = try transcript.open("init")
        guard conn.clients.count == 1, let client = conn.clients.first else {
            throw KeyturnError(
                "init talks to one node, not \(conn.clients.count)",
                hint: "give the address of one node; the others join it")
        }
        if autoUnseal,
            recoveryCount > 1 && recoveryQuorum < 2 || recoveryQuorum > recoveryCount || recoveryCount > 255
                || recoveryQuorum < 1
        {
            throw KeyturnError(
                "a recovery threshold of \(recoveryQuorum) does not fit \(recoveryCount) recovery "
                    + "share\(recoveryCount == 1 ? "" : "s")",
                hint: "2 <= threshold <= shares <= 255, or 1 and 1")
        }
        if !autoUnseal, shares > 1 && threshold < 2 || threshold > shares || shares > 255 || threshold < 1 {
            throw KeyturnError(
                "a threshold of \(threshold) does not fit \(shares) share\(shares == 1 ? "" : "s")",
                hint: "2 <= threshold <= shares <= 255, or 1 and 1")
        }
        // Everything local first: keys, paths, permissions.
        let operators = try OperatorKey.inspect(keyFiles)
        let recovery = try OperatorKey.inspect(recoveryKeyFiles)
        let rootKey = try rootTokenPgpKey.map { try OperatorKey.inspect([$0])[0] }
        let plan =
            try noPgp
            ? nil
            : ShareFilePlan(
                directory: outDir, keyFiles: keyFiles, recoveryKeyFiles: recoveryKeyFiles, rootToken: rootKey != nil)

        let request = InitRequest(
            secretShares: autoUnseal ? nil : shares, secretThreshold: autoUnseal ? nil : threshold,
            pgpKeys: noPgp || clientSideEncryption ? nil : operators.map { Data($0.info.binary).base64EncodedString() },
            rootTokenPGPKey: rootKey.map { Data($0.info.binary).base64EncodedString() },
            recoveryShares: autoUnseal ? recoveryCount : recoveryShares,
            recoveryThreshold: autoUnseal ? recoveryQuorum : recoveryThreshold,
            recoveryPGPKeys: recovery.isEmpty ? nil : recovery.map { Data($0.info.binary).base64EncodedString() })
        if let already = try? await client.initStatus(), already.initialized {
            throw KeyturnError(
                "\(client.address) is already initialised",
                hint: "its keys were handed out when it was initialised; keyturn status shows its state",
                status: .serverFailure)
        }
        // From the moment sys/init is sent until its answer is saved, Ctrl-C, SIGTERM and
        // SIGHUP wait: Vault gives the keys only once.
        try await SignalHold.around(
            "the node's answer was being saved",
            notice: .oneShot("sys/init", node: client.address, after: conn.transport.timeout)
        ) {
            let answer: InitResponse
            do throws(VaultError) { answer = try await client.initialize(request) } catch {
                if error.serverErrors.contains(where: { $0.lowercased().contains("already initialized") }) {
                    throw KeyturnError(
                        "\(client.address) is already initialised", hint: "keyturn status shows its state",
                        status: .serverFailure)
                }
                if error.isUnreachable && error.code != .unreachable {
                    throw KeyturnError(
                        "\(error.reason); the request was sent, so the node may now be initialised",
                        hint:
                            "check with keyturn status -a \(client.address) before trying again: Vault hands out "
                            + "the keys only once",
                        status: .serverFailure)
                }
                throw KeyturnError(error.reason, hint: error.hint, status: .serverFailure)
            }
            guard let plan else {
                Terminal.stdoutLine(InitOutput.plaintext(answer, format: conn.format))
                log?.record(node: client.address, result: "initialised", progress: "\(threshold)/\(shares)")
                return
            }
            do {
                try plan.write(
                    IssuedKeys(answer), operators: operators, recovery: recovery, rootKey: rootKey,
                    address: client.address,
                    shares: autoUnseal ? recoveryCount : shares, threshold: autoUnseal ? recoveryQuorum : threshold,
                    clientSide: clientSideEncryption,
                    lineage: autoUnseal
                        ? CeremonyRecord.Lineage(generation: 1, previousSHA256: nil, target: "recovery") : nil,
                    beforeWriting: ProcessInfo.processInfo.environment["KEYTURN_TEST_BEFORE_WRITE"] == "remove-out-dir"
                        ? {
                            // Test hook: the directory vanishes between validation and writing.
                            try? FileManager.default.removeItem(atPath: plan.directory.path)
                        } : nil)
            } catch {
                // The server will not give these keys again: nothing may be lost.
                // (With client-side encryption these are plaintext shares: there is no other copy.)
                Terminal.stdoutLine(InitOutput.json(answer))
                let message = (error as? KeyturnError)?.message ?? "\(error)"
                throw KeyturnError(
                    "the node is initialised but the share files could not be written (\(message)); its whole "
                        + "answer is on standard output above",
                    hint: "save that output now: it holds every encrypted share and the root token",
                    status: .localFailure)
            }
            for f in plan.shareFiles + plan.recoveryFiles { Terminal.stdoutLine(f) }
            if let f = plan.rootTokenFile { Terminal.stdoutLine(f) }
            if recovery.isEmpty, let keys = answer.recoveryKeys, !keys.isEmpty {
                // Recovery keys not encrypted to anyone: their only copy goes to the screen.
                for (i, key) in keys.enumerated() { Terminal.stdoutLine("Recovery Key \(i + 1): \(key)") }
            }
            Terminal.stdoutLine(plan.manifest)
            if rootKey == nil {
                // Not encrypted to anyone: this is its only copy, so it goes to the operator's screen
                // (as Vault's CLI does), never to a file.
                Terminal.stdoutLine("Initial Root Token: \(answer.rootToken)")
                Terminal.stderrLine(
                    "keyturn: the root token above is in plaintext; use it, then revoke it (or pass "
                        + "--root-token-pgp-key next time)"
                )
            }
            log?.record(
                node: client.address, result: "initialised",
                progress: autoUnseal ? "\(recoveryQuorum)/\(recoveryCount) recovery" : "\(threshold)/\(shares)")
            Terminal.stderrLine(
                autoUnseal
                    ? "keyturn: \(client.address) is initialised and unseals itself (auto-unseal): "
                        + "\(recoveryCount) recovery keys, any \(recoveryQuorum) authorise rekey and "
                        + "generate-root; hand each operator their .recovery.key file"
                    : "keyturn: \(client.address) is initialised: \(shares) shares, any \(threshold) unseal it; "
                        + "hand each operator their .key file"
            )
        }
    }
}

/// How init's answer is printed when it goes to stdout.
enum InitOutput {
    /// The whole answer as Vault sent it (so nothing is lost).
    static func json(_ answer: InitResponse) -> String {
        (try? Output.json(answer)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }

    /// --no-pgp: the plaintext shares and root token, as text or JSON.
    static func plaintext(_ answer: InitResponse, format: OutputFormat) -> String {
        if format == .json { return json(answer) }
        var lines = answer.keys.enumerated().map { "Unseal Key \($0.offset + 1): \($0.element)" }
        lines.append("")
        lines.append("Initial Root Token: \(answer.rootToken)")
        return lines.joined(separator: "\n")
    }
}
