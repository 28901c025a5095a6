import ArgumentParser
import Foundation
import Shamir
import VaultClient

/// `keyturn unseal`: one operator's share to every node at once.
struct Unseal: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Submit your unseal key share to every node at once.",
        discussion: """
            KEYFILE holds the share encrypted to your PGP key (armoured, or Vault's base64 of a \
            binary message: gpg-agent's pinentry asks for your passphrase), or as one line of \
            hex or base64 in a file not readable by group or others; '-' reads it from standard input; with no argument keyturn asks \
            on the terminal without echo. A share is never taken from the command line. Its \
            length is checked before anything is sent; nodes already unsealed are skipped. \
            Exit 0 when every sealed node accepted the share, 2 when one refused it or could \
            not be reached.
            """)

    @OptionGroup(title: "Connection options") var connection: ConnectionOptions

    @Argument(help: ArgumentHelp("The file holding your share, or '-' for standard input.", valueName: "keyfile"))
    var keyFile: String?

    @OptionGroup(title: "Passphrase options") var passphrase: PassphraseOptions

    @Option(help: ArgumentHelp("A ceremony.json with share commitments to check the share against before sending (default: the one beside KEYFILE).", valueName: "file"))
    var manifest: String?

    @Flag(help: "Discard the progress of an unfinished unseal on every node (no share is read).")
    var reset = false

    @Flag(help: "Mark the share as part of a seal migration.")
    var migrate = false

    func validate() throws {
        if reset && keyFile != nil { throw ValidationError("--reset takes no key file") }
        if reset && migrate { throw ValidationError("--reset and --migrate cannot be combined") }
    }

    func run() async throws {
        SecretHygiene.disableCoreDumps()
        let status = try await submit()
        #if DEBUG
        SecretHygiene.debugScan(stage: "after")  // the share and every copy of it are gone by now
        #endif
        throw ExitCode(status.rawValue)
    }

    /// Reads the share, sends it to every node and prints the outcome; every copy of the share
    /// is released (and zeroed) when this returns.
    private func submit() async throws -> ExitStatus {
        let conn = try connection.resolve()
        let share = reset ? nil : try ShareInput.read(keyFile, passphrase: passphrase)
        #if DEBUG
        SecretHygiene.debugScan(stage: "held")
        #endif
        if let share, let (record, path) = try CeremonyRecord.find(explicit: manifest, beside: keyFile),
           record.matches(share.bytes, file: keyFile) == false {
            // Caught here, not at the threshold, when the server would reset everyone's progress.
            throw CLIError("the share from \(share.source) does not match its commitment in \(path); nothing was sent",
                           hint: "it is wrong or corrupt; check it with keyturn verify and ask for your file again")
        }
        let outcomes = await UnsealRun(clients: conn.clients, share: share, migrate: migrate).run()
        let report = UnsealReport(outcomes: outcomes)
        report.print(conn.format)
        return report.exitStatus
    }
}

/// What happened at one node.
struct UnsealOutcome {
    enum Result {
        /// The share counted; more are needed.
        case accepted
        /// The node is unsealed now.
        case unsealed
        /// The last share went in and the node is joining its raft cluster (it reports
        /// sealed with progress 0 for a few seconds): `status --wait` confirms.
        case joining
        /// The node was unsealed before: nothing sent.
        case alreadyUnsealed
        /// `--reset` discarded the node's progress.
        case reset
        /// The node refused or could not be reached.
        case failed(VaultError)
        /// The share cannot belong to this node (wrong length): nothing was sent to it.
        case mismatch(VaultError)
    }

    let address: String
    let result: Result
    let status: SealStatus?
    /// Something the operator should know beyond the result (e.g. progress lost in a restart).
    var note: String? = nil

    var succeeded: Bool {
        switch result {
        case .failed, .mismatch: return false
        default: return true
        }
    }

    /// The error, for failed and mismatched nodes.
    var error: VaultError? {
        switch result {
        case .failed(let e), .mismatch(let e): return e
        default: return nil
        }
    }
}

/// Submits one share (or a reset) to every node concurrently.
struct UnsealRun: @unchecked Sendable {
    let clients: [VaultClient]
    let share: ShareInput.Share?
    let migrate: Bool

    func run() async -> [UnsealOutcome] {
        // First every node's state, all at once: a node whose progress is behind the others'
        // (it restarted and lost the shares they hold) can then be named.
        let states: [Result<SealStatus, VaultError>] = await concurrently { (_, client) -> Result<SealStatus, VaultError> in
            do throws(VaultError) { return .success(try await client.sealStatus().0) } catch { return .failure(error) }
        }
        let progress = states.compactMap { try? $0.get() }.filter { $0.initialized && $0.sealed }.map { $0.progress }
        let most = progress.max() ?? 0
        return await concurrently { i, client in
            var outcome = await one(client, states[i])
            if case .success(let before) = states[i], before.initialized, before.sealed, before.progress < most, outcome.succeeded {
                outcome.note = "its unseal progress was \(before.progress) while other nodes had \(most): it probably restarted and lost the shares submitted before; those operators must submit theirs again for it"
            }
            return outcome
        }
    }

    /// Runs `body` for every node at once; results keep the order of `clients`.
    private func concurrently<T: Sendable>(_ body: @escaping @Sendable (Int, VaultClient) async -> T) async -> [T] {
        await withTaskGroup(of: (Int, T).self) { group in
            for (i, client) in clients.enumerated() {
                group.addTask { (i, await body(i, client)) }
            }
            var results = [T?](repeating: nil, count: clients.count)
            for await (i, value) in group { results[i] = value }
            return results.map { $0! }
        }
    }

    private func one(_ client: VaultClient, _ state: Result<SealStatus, VaultError>) async -> UnsealOutcome {
        func fail(_ e: VaultError, _ status: SealStatus? = nil) -> UnsealOutcome {
            UnsealOutcome(address: client.address, result: .failed(e), status: status)
        }
        let before: SealStatus
        switch state {
        case .success(let s): before = s
        case .failure(let e): return fail(e)
        }
        guard before.initialized else {
            return fail(VaultError(.server, "\(client.address) is not initialised",
                                   hint: "run keyturn init; a new raft follower only learns it is initialised once its leader is unsealed, so unseal the leader first, then run again for the followers"), before)
        }
        guard let share else {
            do {
                let after = try await client.unseal(UnsealRequest(reset: true))
                return UnsealOutcome(address: client.address, result: .reset, status: after)
            } catch { return fail(error, before) }
        }
        guard before.sealed else {
            return UnsealOutcome(address: client.address, result: .alreadyUnsealed, status: before)
        }
        // A Shamir share of the 32-byte key is 33 bytes; a single-share key is the key itself.
        if before.type == nil || before.type == "shamir" {
            let expected = before.n == 1 ? 32 : 33
            if share.count != expected {
                let e = VaultError(.server, "the share from \(share.source) is \(share.count) bytes, but \(client.address)'s shares are \(expected) bytes: it is not a share of this cluster; nothing was sent to it")
                return UnsealOutcome(address: client.address, result: .mismatch(e), status: before)
            }
        }
        do {
            let after = try await client.unseal(share: share.bytes, migrate: migrate)
            if !after.sealed { return UnsealOutcome(address: client.address, result: .unsealed, status: after) }
            if after.progress == 0 && before.progress == before.t - 1 {
                return UnsealOutcome(address: client.address, result: .joining, status: after)
            }
            return UnsealOutcome(address: client.address, result: .accepted, status: after)
        } catch {
            if error.serverErrors.contains(where: { $0.contains("message authentication failed") }) {
                return fail(VaultError(
                    .server, "\(client.address) refused the shares: together they do not open its key, so one of them was wrong or belongs to another cluster; the node reset its unseal progress to 0",
                    hint: "every operator must submit their share again; keyturn verify checks a share file offline", httpStatus: error.httpStatus, serverErrors: error.serverErrors), before)
            }
            return fail(error, before)
        }
    }
}

/// Prints unseal outcomes and decides the exit code.
struct UnsealReport {
    let outcomes: [UnsealOutcome]

    /// 2 if a node refused or was unreachable; else 1 if the share fit no node's format (nothing
    /// was sent); else 0.
    var exitStatus: ExitStatus {
        if outcomes.contains(where: { if case .failed = $0.result { return true } else { return false } }) { return .serverFailure }
        if outcomes.contains(where: { !$0.succeeded }) { return .localFailure }
        return .success
    }

    func print(_ format: OutputFormat) {
        switch format {
        case .json: Terminal.stdoutLine(json())
        case .text:
            Terminal.stdoutLine(table())
            for o in outcomes {
                if let e = o.error { Terminal.report(CLIError(e.reason, hint: e.hint)) }
                if let note = o.note { Terminal.warn("\(o.address): \(note)") }
            }
            if outcomes.contains(where: { if case .joining = $0.result { return true } else { return false } }) {
                Terminal.stderrLine("keyturn: a node that received its last share joins its raft cluster before it reports unsealed; confirm with: keyturn status --wait 60")
            }
        }
    }

    private func word(_ r: UnsealOutcome.Result) -> String {
        switch r {
        case .accepted: return "accepted"
        case .unsealed: return "unsealed"
        case .joining: return "joining"
        case .alreadyUnsealed: return "already unsealed"
        case .reset: return "reset"
        case .failed, .mismatch: return "failed"
        }
    }

    func table() -> String {
        let header = ["ADDRESS", "RESULT", "PROGRESS", "NONCE", "ERROR"]
        let rows = outcomes.map { o -> [String] in
            let progress = o.status.map { $0.sealed && $0.initialized ? "\($0.progress)/\($0.t)" : "-" } ?? "-"
            let error = o.error.map { Output.shortReason($0.reason, address: o.address) } ?? ""
            return [o.address, word(o.result), progress, o.status.map { $0.nonce.isEmpty ? "-" : $0.nonce } ?? "-", error]
        }
        return Output.table(header, rows)
    }

    func json() -> String {
        let nodes: [JSONValue] = outcomes.map { o in
            var obj: [String: JSONValue] = ["address": .string(o.address), "result": .string(word(o.result))]
            if let s = o.status {
                obj["sealed"] = .bool(s.sealed)
                obj["progress"] = .number(Double(s.progress))
                obj["t"] = .number(Double(s.t))
                obj["n"] = .number(Double(s.n))
                obj["nonce"] = .string(s.nonce)
            }
            obj["error"] = o.error.map { .string($0.reason) } ?? .null
            obj["note"] = o.note.map(JSONValue.string) ?? .null
            return .object(obj)
        }
        return Output.nodesDocument(nodes)
    }
}
