import ArgumentParser
import Ceremony
import Foundation
import KeyturnFailure
import PGPShares
import ProcessHygiene
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

    @OptionGroup var dryRun: DryRunOption

    @Flag(
        help: ArgumentHelp(
            "Receive the shares over TLS and encrypt them here, recording a salted commitment of each in "
                + "ceremony.json (enables keyturn verify).")
    )
    var clientSideEncryption = false

    var keyFiles: [String] { pgpKeys.commaSeparated }
    var recoveryKeyFiles: [String] { recoveryPgpKeys.commaSeparated }

    func validate() throws {
        if noPgp && !keyFiles.isEmpty { throw ValidationError("--no-pgp can't be used with --pgp-keys") }
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
        let conn = try connection.resolve()
        conn.warnIfPlaintext(sending: "the init request, whose answer holds the keys,")
        let log = try transcript.open("init")
        guard conn.clients.count == 1, let client = conn.clients.first else {
            throw CLIError(
                "init talks to one node, not \(conn.clients.count)",
                hint: "give the address of one node; the others join it")
        }
        if autoUnseal {
            try ThresholdCheck.require(shares: recoveryCount, threshold: recoveryQuorum, kind: "recovery")
        } else {
            try ThresholdCheck.require(shares: shares, threshold: threshold)
        }
        // Everything local first: keys, paths, permissions.
        let ceremony = try InitCeremony(settings)
        try await ceremony.requireUninitialised(client)
        if dryRun.enabled { return dryRun.report([("PUT", "/v1/sys/init", client.address)]) }
        // From the moment sys/init is sent until its answer is saved, Ctrl-C, SIGTERM and
        // SIGHUP wait: Vault gives the keys only once.
        try await SignalHold.around(
            "the node's answer was being saved",
            notice: .oneShot("sys/init", node: client.address, after: conn.transport.timeout)
        ) {
            let answer = try await ceremony.send(to: client)
            guard let plan = ceremony.plan else {
                Terminal.stdoutLine(InitOutput.plaintext(answer, format: conn.format))
                log?.record(node: client.address, result: "initialised", progress: "\(threshold)/\(shares)")
                return
            }
            // The server will not give these keys again: nothing may be lost. (With client-side
            // encryption these are plaintext shares: there is no other copy.)
            try OneShotAnswer.save(
                done: "the node is initialised", unsaved: "the share files", shown: "its whole answer",
                hint: "save that output now: it holds every encrypted share and the root token",
                answer: { InitOutput.json(answer) }
            ) { try ceremony.write(answer, address: client.address, beforeWriting: testHookBeforeWriting(plan)) }
            report(answer, plan: plan, ceremony: ceremony, address: client.address, log: log)
        }
    }

    /// What was asked, for the ceremony.
    var settings: InitCeremony.Settings {
        InitCeremony.Settings(
            shares: shares, threshold: threshold, autoUnseal: autoUnseal, recoveryShares: recoveryShares,
            recoveryThreshold: recoveryThreshold, recoveryCount: recoveryCount, recoveryQuorum: recoveryQuorum,
            keyFiles: keyFiles, recoveryKeyFiles: recoveryKeyFiles, rootTokenKeyFile: rootTokenPgpKey,
            outDir: outDir, noPGP: noPgp, clientSideEncryption: clientSideEncryption)
    }

    /// The files written, the secrets encrypted to no one (their only copy), and what comes next.
    private func report(
        _ answer: InitResponse, plan: ShareFilePlan, ceremony: InitCeremony, address: String, log: TranscriptLog?
    ) {
        for f in plan.shareFiles + plan.recoveryFiles { Terminal.stdoutLine(f) }
        if let f = plan.rootTokenFile { Terminal.stdoutLine(f) }
        if ceremony.recovery.isEmpty, let keys = answer.recoveryKeys, !keys.isEmpty {
            // Recovery keys not encrypted to anyone: their only copy goes to the screen.
            for (i, key) in keys.enumerated() { Terminal.stdoutLine("Recovery Key \(i + 1): \(neutralised(key))") }
        }
        Terminal.stdoutLine(plan.manifest)
        if ceremony.rootKey == nil {
            // Not encrypted to anyone: this is its only copy, so it goes to the operator's screen
            // (as Vault's CLI does), never to a file.
            Terminal.stdoutLine("Initial Root Token: \(neutralised(answer.rootToken))")
            Terminal.stderrLine(
                "keyturn: the root token above is in plaintext; use it, then revoke it (or pass "
                    + "--root-token-pgp-key next time)")
        }
        log?.record(
            node: address, result: "initialised",
            progress: autoUnseal ? "\(recoveryQuorum)/\(recoveryCount) recovery" : "\(threshold)/\(shares)")
        Terminal.stderrLine(
            autoUnseal
                ? "keyturn: \(address) is initialised and unseals itself (auto-unseal): \(recoveryCount) recovery "
                    + "keys, any \(recoveryQuorum) authorise rekey and generate-root; hand each operator their "
                    + ".recovery.key file"
                : "keyturn: \(address) is initialised: \(shares) shares, any \(threshold) unseal it; hand each "
                    + "operator their .key file")
    }

    /// Test builds only: KEYTURN_TEST_BEFORE_WRITE=remove-out-dir makes the output directory
    /// vanish between the last check and the first write, so a test can see that init's
    /// answer is printed whole when its files cannot be written. Release builds have no hook.
    private func testHookBeforeWriting(_ plan: ShareFilePlan) -> (() -> Void)? {
        #if DEBUG
            if ProcessInfo.processInfo.environment["KEYTURN_TEST_BEFORE_WRITE"] == "remove-out-dir" {
                return { try? FileManager.default.removeItem(atPath: plan.directory.path) }
            }
        #endif
        return nil
    }
}
