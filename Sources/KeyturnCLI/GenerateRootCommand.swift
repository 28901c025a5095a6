import ArgumentParser
import Ceremony
import Foundation
import PGPShares
import Shamir
import VaultClient

/// `keyturn generate-root`: a new root token from a quorum of the unseal (or recovery) shares.
struct GenerateRoot: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate-root",
        abstract:
            "Make a new root token from a quorum of the shares: encrypted to a PGP key, or masked with a one-time pad.",
        discussion: """
            One operator starts it, preferably with --pgp-key (the token comes back encrypted to \
            that key, as root-token.asc); without, the server's one-time pad (OTP) goes to a \
            0600 file, never to the terminal, and 'decode' turns the encoded token into the \
            token. Each holder submits their share with the nonce; the submit that completes it \
            writes the result. OpenBao 2.5 and later disable these endpoints unless the listener \
            sets disable_unauthed_generate_root_endpoints = false, or a token is given for its \
            authenticated sys/generate-root-token endpoints.
            """,
        subcommands: [
            GenerateRootStart.self, GenerateRootSubmit.self, GenerateRootDecode.self, GenerateRootStatus.self,
            GenerateRootCancel.self,
        ])
}

private func generateRootCeremony(
    _ connection: ConnectionOptions, _ token: TokenOptions
) async throws -> (QuorumCeremony, Connection) {
    let conn = try connection.resolve().with(token: try token.resolve())
    let ceremony = try await QuorumCeremony.connect(conn.clients, kind: .generateRoot, target: .unseal)
    return (ceremony, conn)
}

/// The files of generate-root: the OTP (start), the encoded token or root-token.asc (submit).
enum GenerateRootFiles {
    static let otpName = "generate-root.otp"
    static let encodedName = "generate-root.encoded"
    static let pgpName = "root-token.asc"
}

struct GenerateRootStart: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "start", abstract: "Start a root token generation; prints its nonce.")

    @OptionGroup(title: "Connection options") var connection: ConnectionOptions
    @OptionGroup var token: TokenOptions
    @OptionGroup var transcript: TranscriptOptions

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

    func validate() throws {
        if pgpKey != nil && otpFile != nil { throw ValidationError("--otp-file is for a generation without --pgp-key") }
    }

    func run() async throws {
        let log = try transcript.open("generate-root start")
        let key = try pgpKey.map { try OperatorKey.inspect([$0])[0] }
        // The OTP's file is checked before anything is sent: the server shows the OTP once.
        var otp: PendingFile?
        var directory: OutputDirectory?
        let otpPath = otpFile ?? SecretFiles.join(outDir, GenerateRootFiles.otpName)
        if key == nil {
            directory = try OutputDirectory(SecretFiles.directory(of: otpPath))
            try SecretFiles.requireAbsent(otpPath)
        }
        let (ceremony, conn) = try await generateRootCeremony(connection, token)
        if key == nil {
            try directory?.create()
            otp = try PendingFile(path: otpPath)
        }
        let state = try await ceremony.start(
            GenerateRootRequest(pgpKey: key.map { Data($0.info.binary).base64EncodedString() }))
        if let otp {
            guard let pad = state.otp, !pad.isEmpty else {
                throw KeyturnError(
                    "\(ceremony.client.address) started the generation but sent no one-time pad", status: .serverFailure
                )
            }
            do {
                try Array((pad + "\n").utf8).withUnsafeBytes { try otp.write($0) }
                try FileBatch.publish([otp], directory: directory?.path ?? ".")
                directory?.keep()
            } catch {
                // The OTP is shown once: without it the token cannot be decoded. Cancel.
                try? await ceremony.cancel()
                throw KeyturnError(
                    "cannot write the one-time pad to \(otpPath) "
                        + "(\((error as? KeyturnError)?.message ?? "\(error)")); the generation was cancelled",
                    hint: "start again with a writable --otp-file")
            }
        }
        log?.record(
            node: ceremony.client.address, result: "started", progress: "0/\(state.required ?? 0)", nonce: state.nonce)
        var shown = state
        shown.otp = nil
        QuorumOutput.printQuorum(shown, ceremony: ceremony, format: conn.format)
        if otp != nil {
            Terminal.stderrLine(
                "keyturn: the one-time pad is in \(otpPath) (0600); keep it for keyturn generate-root decode")
        }
        Terminal.stderrLine(
            "keyturn: hand the nonce to the holders; each runs: keyturn generate-root submit --nonce "
                + "\(state.nonce ?? "NONCE") THEIR-KEY-FILE"
        )
    }
}

struct GenerateRootSubmit: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "submit",
        abstract: "Submit your share to the running generation with this nonce; the last one writes the token's file.")

    @OptionGroup(title: "Connection options") var connection: ConnectionOptions
    @OptionGroup var token: TokenOptions
    @OptionGroup var transcript: TranscriptOptions

    @Option(help: ArgumentHelp("The nonce of the generation you were asked to join.", valueName: "nonce"))
    var nonce: String

    @Argument(
        help: ArgumentHelp(
            "The file holding your share, or '-' for standard input (default: asked on the terminal).",
            valueName: "keyfile"))
    var keyFile: String?

    @OptionGroup(title: "Passphrase options") var passphrase: PassphraseOptions

    @Option(
        help: ArgumentHelp(
            "A ceremony.json with share commitments to check the share against (default: the one beside KEYFILE).",
            valueName: "file"))
    var manifest: String?

    @Option(
        help: ArgumentHelp(
            "Where the completing submit writes \(GenerateRootFiles.encodedName) or \(GenerateRootFiles.pgpName) "
                + "(0600).",
            valueName: "dir"))
    var outDir: String = "."

    @Flag(help: "Do not ask for confirmation (scripts).")
    var yes = false

    func run() async throws {
        SecretHygiene.disableCoreDumps()
        let record = try CeremonyRecord.find(explicit: manifest, beside: keyFile)
        let log = try transcript.open("generate-root submit", share: keyFile, manifest: record)
        let (ceremony, conn) = try await generateRootCeremony(connection, token)
        let state = try await ceremony.expect(nonce: nonce)
        let completes = state.nextShareCompletes
        let pgp = !(state.pgpFingerprint ?? "").isEmpty
        let path = SecretFiles.join(outDir, pgp ? GenerateRootFiles.pgpName : GenerateRootFiles.encodedName)
        let directory = completes ? try OutputDirectory(outDir) : nil
        if completes { try SecretFiles.requireAbsent(path) }
        let yours = completes ? " (yours completes it)" : ""
        let returned =
            pgp
            ? "encrypted to PGP key \(state.pgpFingerprint ?? "")" : "masked with the one-time pad its starter holds"
        try Terminal.confirmSubmit(
            """
            Root token generation on \(ceremony.client.address), nonce \(state.nonce ?? "-"):
              progress: \(state.progress ?? 0) of \(state.required ?? 0) shares\(yours)
              the token comes back: \(returned)
            """, yes: yes, status: "keyturn generate-root status")
        let share = try ShareInput.read(keyFile, passphrase: passphrase.source, checkedAgainst: record)
        // The submit that completes it gets the only copy of the result: signals wait until
        // it is saved.
        func submitAndSave() async throws {
            switch try await ceremony.submit(share, nonce: nonce) {
            case .progressed(let s):
                log?.record(node: ceremony.client.address, result: "accepted", progress: s.progressText, nonce: nonce)
                QuorumOutput.printQuorum(s, ceremony: ceremony, format: conn.format)
                Terminal.stderrLine("keyturn: share accepted: \(s.progress ?? 0) of \(s.required ?? 0)")
            case .completed(let s):
                let encoded = (s.encodedToken ?? "").isEmpty ? (s.encodedRootToken ?? "") : (s.encodedToken ?? "")
                var text: [UInt8]
                if pgp {
                    guard let binary = Data(base64Encoded: encoded) else {
                        throw KeyturnError(
                            "\(ceremony.client.address) sent an encrypted token that is not base64",
                            status: .serverFailure)
                    }
                    text = Array(Armor.encode([UInt8](binary)).utf8)
                } else {
                    text = Array((encoded + "\n").utf8)
                }
                do {
                    try directory?.create()
                    let file = try PendingFile(path: path)
                    try text.withUnsafeBytes { try file.write($0) }
                    try FileBatch.publish([file], directory: outDir)
                    directory?.keep()
                } catch {
                    // Harmless without the OTP (or the PGP key), and given only once: print it.
                    Terminal.stdoutLine(encoded)
                    throw KeyturnError(
                        "the generation is complete but \(path) could not be written "
                            + "(\((error as? KeyturnError)?.message ?? "\(error)")); the "
                            + "\(pgp ? "encrypted" : "encoded") token is on standard output above",
                        hint: "save that output now", status: .localFailure)
                }
                log?.record(
                    node: ceremony.client.address, result: "completed",
                    progress: "\(state.required ?? 0)/\(state.required ?? 0)", nonce: nonce)
                Terminal.stdoutLine(path)
                Terminal.stderrLine(
                    pgp
                        ? "keyturn: the new root token is in \(path), encrypted to "
                            + "\(state.pgpFingerprint ?? "the key"): gpg -d \(path)"
                        : "keyturn: the encoded token is in \(path); the holder of the one-time pad runs: keyturn "
                            + "generate-root decode --otp-file OTP-FILE \(path)"
                )
            }
        }
        if completes {
            try await SignalHold.around(
                "the new root token was being saved",
                notice: .oneShot(
                    "the share that completes the generate-root", node: ceremony.client.address,
                    after: conn.transport.timeout)
            ) { try await submitAndSave() }
        } else {
            try await submitAndSave()
        }
    }
}

struct GenerateRootDecode: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "decode",
        abstract: "Turn the encoded token into the root token with the one-time pad (to stdout or a 0600 file).")

    @Option(help: ArgumentHelp("The one-time pad's file, as generate-root start wrote it.", valueName: "file"))
    var otpFile: String

    @Argument(
        help: ArgumentHelp(
            "The encoded token's file (generate-root.encoded), or '-' for standard input.", valueName: "encoded-file"))
    var encodedFile: String

    @Option(
        name: .shortAndLong,
        help: ArgumentHelp(
            "Write the token to this file (created 0600, never overwriting) instead of standard output.",
            valueName: "file"))
    var output: String?

    @OptionGroup var transcript: TranscriptOptions

    func run() throws {
        SecretHygiene.disableCoreDumps()
        let log = try transcript.open("generate-root decode")
        if let output { try SecretFiles.requireAbsent(output) }
        let otp = try Self.firstLine(otpFile, what: "one-time pad", secret: true)
        let encoded = try Self.firstLine(encodedFile, what: "encoded token", secret: false)
        var token = try OneTimePad.decode(encoded: encoded, otp: otp)
        defer { secureZero(&token) }
        if let output {
            let file = try PendingFile(path: output)
            try (token + [0x0a]).withUnsafeBytes { try file.write($0) }
            try FileBatch.publish([file], directory: SecretFiles.directory(of: output))
            Terminal.stderrLine("keyturn: wrote the root token to \(output)")
        } else {
            var line = token + [0x0a]
            defer { secureZero(&line) }
            guard line.withUnsafeBytes({ Terminal.write(STDOUT_FILENO, $0) }) else {
                throw KeyturnError("cannot write the token to standard output")
            }
        }
        log?.record(result: "decoded")
    }

    /// The first line of a small file (or stdin for '-'); a file holding a secret must be 0600.
    static func firstLine(_ path: String, what: String, secret: Bool) throws -> [UInt8] {
        let fd = try SecretFiles.openInput(path)
        defer { if path != "-" { close(fd) } }
        var st = stat()
        if secret, path != "-", fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG, st.st_mode & 0o077 != 0 {
            throw KeyturnError(
                "\(path) holds the \(what) but is readable by group or others", hint: "chmod 600 \(path)")
        }
        let buffer = SecretBuffer(count: 4096)
        let n = try SecretFiles.readFully(fd, into: buffer.bytes, name: path)
        let line = buffer.bytes[0..<n].prefix { $0 != 0x0a && $0 != 0x0d }
        let trimmed = Array(line).filter { $0 != 0x20 && $0 != 0x09 }
        guard !trimmed.isEmpty else { throw KeyturnError("\(path) holds no \(what)") }
        return trimmed
    }
}

/// Vault's one-time pad: the encoded token is base64 (without padding) of token XOR OTP.
enum OneTimePad {
    static func decode(encoded: [UInt8], otp: [UInt8]) throws -> [UInt8] {
        var text = String(decoding: encoded, as: UTF8.self)
        while text.count % 4 != 0 { text += "=" }
        guard let masked = Data(base64Encoded: text) else { throw KeyturnError("the encoded token is not base64") }
        guard masked.count == otp.count else {
            throw KeyturnError(
                "the encoded token is \(masked.count) bytes but the one-time pad is \(otp.count): they do not "
                    + "belong together",
                hint: "use the OTP file that generate-root start wrote for this generation")
        }
        return zip(masked, otp).map { $0 ^ $1 }
    }
}

struct GenerateRootStatus: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status", abstract: "Show the running root token generation.")

    @OptionGroup(title: "Connection options") var connection: ConnectionOptions
    @OptionGroup var token: TokenOptions
    @OptionGroup var transcript: TranscriptOptions

    func run() async throws {
        let log = try transcript.open("generate-root status")
        let (ceremony, conn) = try await generateRootCeremony(connection, token)
        var state = try await ceremony.state()
        state.otp = nil
        log?.record(
            node: ceremony.client.address, result: state.started == true ? "running" : "none running",
            progress: state.progressText, nonce: state.runningNonce)
        QuorumOutput.printQuorum(state, ceremony: ceremony, format: conn.format)
    }
}

struct GenerateRootCancel: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cancel", abstract: "Cancel the running root token generation.")

    @OptionGroup(title: "Connection options") var connection: ConnectionOptions
    @OptionGroup var token: TokenOptions
    @OptionGroup var transcript: TranscriptOptions

    func run() async throws {
        let log = try transcript.open("generate-root cancel")
        let (ceremony, _) = try await generateRootCeremony(connection, token)
        try await ceremony.cancel()
        log?.record(node: ceremony.client.address, result: "cancelled")
        Terminal.stderrLine(
            "keyturn: the root token generation on \(ceremony.client.address) is cancelled (if one was running)")
    }
}
