import ArgumentParser
import Ceremony
import Foundation
import KeyturnFailure
import ProcessHygiene
import Shamir
import VaultClient

/// `keyturn unseal`: one operator's share to every node at once.
struct Unseal: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Submit your unseal key share to every node at once.",
        discussion: """
            KEYFILE holds the share encrypted to your PGP key (armoured, or Vault's base64 of a \
            binary message: gpg-agent's pinentry asks for your passphrase), or as one line of \
            hex or base64 in a file not readable by group or others; '-' reads it from standard \
            input; with no argument keyturn asks \
            on the terminal without echo. A share is never taken from the command line. Its \
            length is checked before anything is sent; nodes already unsealed are skipped. \
            Exit 0 when every sealed node accepted the share, 2 when one refused it or could \
            not be reached.
            """)

    @OptionGroup(title: "Connection options") var connection: ConnectionOptions

    @Argument(help: ArgumentHelp("The file holding your share, or '-' for standard input.", valueName: "keyfile"))
    var keyFile: String?

    @OptionGroup(title: "Passphrase options") var passphrase: PassphraseOptions

    @OptionGroup var transcript: TranscriptOptions

    @OptionGroup(title: "A sealable namespace (with a token, sent to its seal endpoints only)")
    var namespace: NamespaceOption

    @OptionGroup var token: TokenOptions

    @Option(
        help: ArgumentHelp(
            "A ceremony.json with share commitments to check the share against before sending (default: the one "
                + "beside KEYFILE).",
            valueName: "file"))
    var manifest: String?

    @Flag(help: "Discard the progress of an unfinished unseal on every node (no share is read).")
    var reset = false

    @Flag(help: "Mark the share as part of a seal migration.")
    var migrate = false

    @Option(
        name: .customLong("init-json"),
        help: ArgumentHelp(
            "For dev and CI servers: submit a threshold of the keys in this init answer (0600) to every node.",
            discussion: "From keyturn init --no-pgp --format json or bao operator init -format=json.",
            valueName: "file"))
    var initJSON: String?

    @Option(
        help: ArgumentHelp(
            "Keep the share and go on submitting to nodes not ready for it yet (a new raft follower before its "
                + "leader is unsealed, a restarting node) until every node took it or this many seconds passed.",
            valueName: "seconds"))
    var wait: Double?

    func validate() throws {
        if reset && keyFile != nil { throw ValidationError("--reset takes no key file") }
        if reset && migrate { throw ValidationError("--reset can't be used with --migrate") }
        if initJSON != nil && (keyFile != nil || reset || migrate) {
            throw ValidationError("--init-json can't be used with a key file, --reset or --migrate")
        }
        if let wait, !(wait > 0 && wait.isFinite) {
            throw ValidationError("--wait must be a positive number of seconds")
        }
    }

    func run() async throws {
        if let initJSON { return try await unsealAll(from: initJSON) }
        let (outcomes, format, log) = try await submit()
        #if DEBUG
            DebugMemoryScan.run(stage: "after")  // the share and every copy of it are gone by now
        #endif
        // Printed only now, with every copy of the share released: nothing that waits on the
        // output (a full pipe, a paused terminal) keeps the share in memory.
        let report = UnsealReport(outcomes: outcomes)
        report.print(format)
        for o in outcomes {
            log?.record(
                node: o.address, result: report.word(o.result),
                progress: o.status.map { $0.sealed && $0.initialized ? "\($0.progress)/\($0.t)" : "-" },
                nonce: o.status.flatMap { $0.nonce.isEmpty ? nil : $0.nonce }, error: o.error?.reason)
        }
        if let signal = ProcessHygiene.releaseSignals() {
            Terminal.stderrLine(
                "keyturn: interrupted (\(ProcessHygiene.signalName(signal))): the nodes above that show accepted, "
                    + "unsealed or joining took the share; nothing was written"
            )
            throw ExitCode(128 + signal)
        }
        throw ExitCode(report.exitStatus.rawValue)
    }

    /// Reads the share and sends it to every node; every copy of the share is released (and
    /// zeroed) when this returns. Ctrl-C, SIGTERM and SIGHUP are held from the first request
    /// on: they end the waiting but not the report.
    private func submit() async throws -> ([UnsealOutcome], OutputFormat, TranscriptLog?) {
        // A token only for a namespace's seal endpoints; the cluster's unseal takes none.
        let secret = namespace.namespace == nil ? nil : try token.resolve()
        let conn = try connection.resolve().with(token: secret).with(namespace: namespace.namespace)
        conn.warnIfPlaintext(sending: "a share")
        let record = try CeremonyRecord.find(explicit: manifest, beside: keyFile)
        try requireSameSeal(record)
        let log = try transcript.open(
            reset ? "unseal --reset" : migrate ? "unseal --migrate" : "unseal", share: keyFile, manifest: record,
            passphrase: passphrase.source)
        let share = reset ? nil : try ShareInput.read(keyFile, passphrase: passphrase.source, checkedAgainst: record)
        #if DEBUG
            DebugMemoryScan.run(stage: "held")
        #endif
        // The operator learns which nodes had already taken the share (nothing is written to
        // disk either way).
        ProcessHygiene.holdSignals()
        let tty = StandardStream.error.isTerminal && wait != nil
        let addresses = conn.clients.map(\.address)
        let progress: @Sendable ([UnsealOutcome?]) -> Void = { settled in
            let waiting = settled.indices.filter { settled[$0] == nil }.map { addresses[$0] }
            Terminal.stderrProgress(
                "waiting for \(waiting.count) node\(waiting.count == 1 ? "" : "s") to be ready: "
                    + "\(waiting.joined(separator: ", "))"
            )
        }
        let stop: @Sendable () -> Bool = { ProcessHygiene.heldSignal != nil }
        let outcomes = await UnsealRun(clients: conn.clients, share: share, migrate: migrate)
            .run(wait: wait, update: tty ? progress : nil, stop: stop)
        if tty { Terminal.stderrProgress(nil) }
        return (outcomes, conn.format, log)
    }

    /// A namespace's share would count towards the cluster's unseal (or the other way round)
    /// until the threshold-th share failed: the record beside it says which seal it opens.
    private func requireSameSeal(_ record: (CeremonyRecord, String)?) throws {
        guard let (r, path) = record, r.namespace != namespace.namespace else { return }
        let recorded: String = r.namespace.map { "the namespace \($0)" } ?? "the cluster's own seal"
        let asked: String = namespace.namespace.map { "the namespace \($0)" } ?? "the cluster's own seal"
        let hint: String = r.namespace.map { "add --namespace \($0)" } ?? "leave out --namespace"
        throw CLIError(
            "\(quoted(path)) records shares of \(recorded), but this unseal is of \(asked); nothing was sent",
            hint: hint)
    }
}
