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

    @Option(name: .customLong("pgp-keys"), parsing: .singleValue, help: ArgumentHelp("Operators' public key files, comma-separated or repeated; one share each.", valueName: "files"))
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

    @Option(name: .customLong("recovery-pgp-keys"), parsing: .singleValue, help: ArgumentHelp("Public key files for the recovery shares.", valueName: "files"))
    var recoveryPgpKeys: [String] = []

    @Option(help: ArgumentHelp("Directory for the share files and ceremony.json (created 0700).", valueName: "dir"))
    var outDir: String = "."

    @Flag(help: "No PGP (dev servers, CI): shares and root token go to stdout only, never to a file.")
    var noPgp = false

    @Flag(help: "Receive the shares over TLS and encrypt them here, recording a salted commitment of each in ceremony.json (enables keyturn verify).")
    var clientSideEncryption = false

    var keyFiles: [String] { pgpKeys.flatMap { $0.split(separator: ",").map(String.init) } }
    var recoveryKeyFiles: [String] { recoveryPgpKeys.flatMap { $0.split(separator: ",").map(String.init) } }

    func validate() throws {
        if noPgp && !keyFiles.isEmpty { throw ValidationError("--no-pgp and --pgp-keys cannot be combined") }
        if !noPgp && keyFiles.isEmpty {
            throw ValidationError("init needs --pgp-keys (one public key file per operator), or --no-pgp for a dev server")
        }
        if !noPgp, let n = keyShares, n != keyFiles.count {
            throw ValidationError("--key-shares is \(n) but \(keyFiles.count) PGP keys were given; each share needs one key")
        }
        if noPgp && keyShares == nil { throw ValidationError("--no-pgp needs --key-shares") }
        if noPgp && clientSideEncryption { throw ValidationError("--client-side-encryption needs --pgp-keys") }
        if !recoveryKeyFiles.isEmpty, let n = recoveryShares, n != recoveryKeyFiles.count {
            throw ValidationError("--recovery-shares is \(n) but \(recoveryKeyFiles.count) recovery PGP keys were given")
        }
    }

    var shares: Int { noPgp ? (keyShares ?? 1) : keyFiles.count }
    var threshold: Int { keyThreshold ?? (shares / 2 + 1) }

    func run() async throws {
        SecretHygiene.disableCoreDumps()
        let conn = try connection.resolve()
        guard conn.clients.count == 1, let client = conn.clients.first else {
            throw KeyturnError("init talks to one node, not \(conn.clients.count)", hint: "give the address of one node; the others join it")
        }
        if shares > 1 && threshold < 2 || threshold > shares || shares > 255 || threshold < 1 {
            throw KeyturnError("a threshold of \(threshold) does not fit \(shares) share\(shares == 1 ? "" : "s")", hint: "2 <= threshold <= shares <= 255, or 1 and 1")
        }
        // Everything local first: keys, paths, permissions.
        let operators = try OperatorKey.inspect(keyFiles)
        let recovery = try OperatorKey.inspect(recoveryKeyFiles)
        let rootKey = try rootTokenPgpKey.map { try OperatorKey.inspect([$0])[0] }
        let plan = try noPgp ? nil : InitFiles(directory: outDir, keyFiles: keyFiles, recoveryKeyFiles: recoveryKeyFiles, rootToken: rootKey != nil)

        let request = InitRequest(
            secretShares: shares, secretThreshold: threshold,
            pgpKeys: noPgp || clientSideEncryption ? nil : operators.map { Data($0.info.binary).base64EncodedString() },
            rootTokenPGPKey: rootKey.map { Data($0.info.binary).base64EncodedString() },
            recoveryShares: recoveryShares, recoveryThreshold: recoveryThreshold,
            recoveryPGPKeys: recovery.isEmpty ? nil : recovery.map { Data($0.info.binary).base64EncodedString() })
        if let already = try? await client.initStatus(), already.initialized {
            throw KeyturnError("\(client.address) is already initialised", hint: "its keys were handed out when it was initialised; keyturn status shows its state", status: .serverFailure)
        }
        let answer: InitResponse
        do { answer = try await client.initialize(request) } catch {
            if error.serverErrors.contains(where: { $0.lowercased().contains("already initialized") }) {
                throw KeyturnError("\(client.address) is already initialised", hint: "keyturn status shows its state", status: .serverFailure)
            }
            if error.isUnreachable && error.code != .unreachable {
                throw KeyturnError("\(error.reason); the request was sent, so the node may now be initialised",
                               hint: "check with keyturn status -a \(client.address) before trying again: Vault hands out the keys only once", status: .serverFailure)
            }
            throw KeyturnError(error.reason, hint: error.hint, status: .serverFailure)
        }
        guard let plan else {
            Terminal.stdoutLine(InitOutput.plaintext(answer, format: conn.format))
            return
        }
        do {
            try plan.write(answer, operators: operators, recovery: recovery, rootKey: rootKey, address: client.address, shares: shares, threshold: threshold, clientSide: clientSideEncryption)
        } catch {
            // The server will not give these keys again: nothing may be lost.
            // (With client-side encryption these are plaintext shares: there is no other copy.)
            Terminal.stdoutLine(InitOutput.json(answer))
            let message = (error as? KeyturnError)?.message ?? "\(error)"
            throw KeyturnError("the node is initialised but the share files could not be written (\(message)); its whole answer is on standard output above",
                           hint: "save that output now: it holds every encrypted share and the root token", status: .localFailure)
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
            Terminal.stderrLine("keyturn: the root token above is in plaintext; use it, then revoke it (or pass --root-token-pgp-key next time)")
        }
        Terminal.stderrLine("keyturn: \(client.address) is initialised: \(shares) shares, any \(threshold) unseal it; hand each operator their .key file")
    }
}

/// A key file and what it holds.
struct OperatorKey {
    let file: String
    let info: PublicKeyInfo

    /// Checks each key file (one usable public key each, no key twice).
    static func inspect(_ files: [String]) throws -> [OperatorKey] {
        guard !files.isEmpty else { return [] }
        let scratch = try ScratchGnuPGHome()
        var seen: [String: String] = [:]
        return try files.map { file in
            let fd = try SecretFiles.openInput(file)
            let buffer = [UInt8](unsafeUninitializedCapacity: 1 << 20) { b, n in
                n = (try? SecretFiles.readFully(fd, into: UnsafeMutableRawBufferPointer(b), name: file)) ?? 0
            }
            close(fd)
            let info: PublicKeyInfo
            do throws(PGPError) { info = try PGPShares.inspectPublicKey(buffer, name: file, scratchHome: scratch.path) } catch {
                throw KeyturnError(error.reason, hint: error.hint)
            }
            if let other = seen[info.fingerprint] {
                throw KeyturnError("\(file) and \(other) hold the same key (\(info.fingerprint))", hint: "each operator needs their own key")
            }
            seen[info.fingerprint] = file
            return OperatorKey(file: file, info: info)
        }
    }
}

/// An empty, private GnuPG home for listing key files without touching the user's keyring.
final class ScratchGnuPGHome {
    let path: String
    init() throws {
        var template = Array(SecretFiles.join(NSTemporaryDirectory(), "keyturn-gpg.XXXXXX").utf8CString)
        guard let made = mkdtemp(&template) else { throw KeyturnError("cannot create a temporary directory") }
        path = String(cString: made)
    }
    deinit { try? FileManager.default.removeItem(atPath: path) }
}

/// The files `init` writes, planned and checked before the server is called.
struct InitFiles {
    let directory: OutputDirectory
    let shareFiles: [String]
    let recoveryFiles: [String]
    let rootTokenFile: String?
    let manifest: String

    init(directory path: String, keyFiles: [String], recoveryKeyFiles: [String], rootToken: Bool) throws {
        directory = try OutputDirectory(path)
        shareFiles = keyFiles.map { SecretFiles.join(path, URL(fileURLWithPath: $0).lastPathComponent + ".key") }
        recoveryFiles = recoveryKeyFiles.map { SecretFiles.join(path, URL(fileURLWithPath: $0).lastPathComponent + ".recovery.key") }
        rootTokenFile = rootToken ? SecretFiles.join(path, "root-token.asc") : nil
        manifest = SecretFiles.join(path, "ceremony.json")
        let all = shareFiles + recoveryFiles + [rootTokenFile, manifest].compactMap { $0 }
        if let dup = Dictionary(grouping: all, by: { $0 }).first(where: { $0.value.count > 1 }) {
            throw KeyturnError("two key files would both write \(dup.key)", hint: "give the key files distinct names")
        }
        for f in all { try SecretFiles.requireAbsent(f) }
    }

    /// Writes every file, all or none. With `clientSide`, the answer holds plaintext shares:
    /// each is encrypted here to its operator and committed to in ceremony.json.
    func write(_ answer: InitResponse, operators: [OperatorKey], recovery: [OperatorKey], rootKey: OperatorKey?, address: String, shares: Int, threshold: Int, clientSide: Bool) throws {
        if let action = ProcessInfo.processInfo.environment["KEYTURN_TEST_BEFORE_WRITE"], action == "remove-out-dir" {
            // Test hook: the directory vanishes between validation and writing.
            try? FileManager.default.removeItem(atPath: directory.path)
        }
        try directory.create()
        let scratch = clientSide ? try ScratchGnuPGHome() : nil
        var salt = [UInt8](repeating: 0, count: 16)
        if clientSide { try salt.withUnsafeMutableBytes { try SecureRandom.fill($0) } }
        var pending: [PendingFile] = []
        var record = CeremonyRecord(
            address: address, time: ISO8601DateFormatter().string(from: Date()), shares: shares, threshold: threshold,
            encryption: clientSide ? "client" : "server", commitmentSalt: clientSide ? ShareHex.encode(salt) : nil,
            shareFiles: [], recoveryFiles: nil, rootToken: nil)
        for (i, op) in operators.enumerated() {
            let armoured: [UInt8]
            var commitment: String?
            if let scratch {
                guard i < answer.keys.count else { throw KeyturnError("the server's answer holds fewer shares than keys") }
                var hex = Array(answer.keys[i].utf8)
                defer { secureZero(&hex) }
                guard var bytes = ShareHex.decode(answer.keys[i]) else { throw KeyturnError("the server sent a share that is not hex") }
                defer { secureZero(&bytes) }
                commitment = bytes.withUnsafeBytes { CeremonyRecord.commitment(salt: salt, share: $0) }
                do { armoured = try hex.withUnsafeBytes { try PGPShares.encrypt($0, to: op.info, scratchHome: scratch.path) } } catch {
                    throw KeyturnError("cannot encrypt the share for \(op.file): \((error as? PGPError)?.reason ?? "\(error)")")
                }
            } else {
                guard i < answer.keysBase64.count, let binary = Data(base64Encoded: answer.keysBase64[i]) else {
                    throw KeyturnError("the server's answer holds fewer shares than keys")
                }
                armoured = Array(Armor.encode([UInt8](binary)).utf8)
            }
            let file = try PendingFile(path: shareFiles[i])
            try armoured.withUnsafeBytes { try file.write($0) }
            pending.append(file)
            record.shareFiles.append(.init(
                file: URL(fileURLWithPath: shareFiles[i]).lastPathComponent, keyFile: op.file, fingerprint: op.info.fingerprint,
                userID: op.info.userID, sha256: Digest.sha256Hex(armoured), commitment: commitment))
        }
        // Recovery keys encrypted by the server to the recovery operators' keys.
        for (i, op) in recovery.enumerated() {
            guard let encoded = answer.recoveryKeysBase64, i < encoded.count, let binary = Data(base64Encoded: encoded[i]) else {
                throw KeyturnError("the server's answer holds fewer recovery keys than recovery PGP keys")
            }
            let armoured = Array(Armor.encode([UInt8](binary)).utf8)
            let file = try PendingFile(path: recoveryFiles[i])
            try armoured.withUnsafeBytes { try file.write($0) }
            pending.append(file)
            record.recoveryFiles = (record.recoveryFiles ?? []) + [.init(
                file: URL(fileURLWithPath: recoveryFiles[i]).lastPathComponent, keyFile: op.file, fingerprint: op.info.fingerprint,
                userID: op.info.userID, sha256: Digest.sha256Hex(armoured), commitment: nil)]
        }
        if let rootKey, let path = rootTokenFile, let binary = Data(base64Encoded: answer.rootToken) {
            let armoured = Array(Armor.encode([UInt8](binary)).utf8)
            let file = try PendingFile(path: path)
            try armoured.withUnsafeBytes { try file.write($0) }
            pending.append(file)
            record.rootToken = .init(file: "root-token.asc", fingerprint: rootKey.info.fingerprint, userID: rootKey.info.userID, sha256: Digest.sha256Hex(armoured))
        }
        let manifestFile = try PendingFile(path: manifest)
        try record.encoded().withUnsafeBytes { try manifestFile.write($0) }
        pending.append(manifestFile)
        try FileBatch.publish(pending, directory: directory.path)
        directory.keep()
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
