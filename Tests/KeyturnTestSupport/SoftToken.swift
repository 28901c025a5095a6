import Foundation

/// A software token standing in for a YubiKey: SoftHSM2 holds an RSA key, gnupg-pkcs11-scd is
/// gpg-agent's scdaemon, and an OpenPGP key in `gpg`'s home has its secret part on the token
/// (`gpg -K` shows `sec>`). The token can be taken away and put back, as an operator unplugs a
/// YubiKey. Every process that may start gpg-agent needs `environment` (SoftHSM2 finds its
/// tokens through SOFTHSM2_CONF, which scdaemon inherits from the agent).
public final class SoftToken: @unchecked Sendable {
    public static let module = "/usr/lib/softhsm/libsofthsm2.so"
    public static let scdaemon = "/usr/bin/gnupg-pkcs11-scd"

    /// Whether the Debian packages it needs are installed (softhsm2, gnupg-pkcs11-scd, opensc).
    public static var available: Bool {
        FileManager.default.fileExists(atPath: module) && FileManager.default.fileExists(atPath: scdaemon)
            && Processes.which("softhsm2-util") != nil && Processes.which("pkcs11-tool") != nil
    }

    public let gpg: TestGPG
    /// The token's user PIN.
    public let pin: String
    private static let userPIN = "1234"
    /// The key whose secret lives on the token.
    public let key: TestGPG.Key
    let directory: TemporaryDirectory
    private var tokens: String { directory.file("tokens") }

    /// GNUPGHOME and SOFTHSM2_CONF, over this process's environment.
    public var environment: [String: String] {
        ProcessInfo.processInfo.environment.merging(
            gpg.environment.merging(["SOFTHSM2_CONF": directory.file("softhsm2.conf")]) { $1 }
        ) { $1 }
    }

    /// Makes the token and the key `name` on it, in `gpg`'s home (whose agent is restarted).
    public init(gpg: TestGPG, name: String = "tina") throws {
        self.gpg = gpg
        pin = Self.userPIN
        let pin = Self.userPIN
        let dir = try TemporaryDirectory("keyturn-token")
        directory = dir
        try FileManager.default.createDirectory(atPath: dir.file("tokens"), withIntermediateDirectories: false)
        try dir.write(
            "softhsm2.conf", text: "directories.tokendir = \(dir.file("tokens"))\nobjectstore.backend = file\n")
        var env = ProcessInfo.processInfo.environment
        env["GNUPGHOME"] = gpg.path
        env["SOFTHSM2_CONF"] = dir.file("softhsm2.conf")
        func run(_ tool: String, _ args: [String], stdin: [UInt8]? = nil) throws -> ProcessResult {
            let r = try Processes.run(
                Processes.which(tool) ?? "/usr/bin/\(tool)", args, stdin: stdin, environment: env,
                directory: dir.path)
            guard r.status == 0 else { throw HarnessError("\(tool) \(args.first ?? "") failed: \(r.stderr)") }
            return r
        }
        _ = try run("softhsm2-util", ["--init-token", "--free", "--label", "kt", "--pin", pin, "--so-pin", "5678"])
        _ = try run("openssl", ["genrsa", "-out", "key.pem", "2048"])
        _ = try run("openssl", ["pkcs8", "-topk8", "-nocrypt", "-in", "key.pem", "-outform", "DER", "-out", "key.der"])
        _ = try run(
            "openssl",
            [
                "req", "-new", "-x509", "-key", "key.pem", "-subj", "/CN=\(name)", "-days", "30", "-outform", "DER",
                "-out", "cert.der",
            ])
        for (file, type) in [("key.der", "privkey"), ("cert.der", "cert")] {
            _ = try run(
                "pkcs11-tool",
                [
                    "--module", Self.module, "--login", "--pin", pin, "--write-object", file, "--type", type, "--id",
                    "01", "--label", name,
                ])
        }
        for file in ["key.pem", "key.der"] { try FileManager.default.removeItem(atPath: dir.file(file)) }
        let agentConf = gpg.home.file("gpg-agent.conf")
        let conf = (try? String(contentsOfFile: agentConf, encoding: .utf8)) ?? ""
        _ = try gpg.home.write("gpg-agent.conf", text: conf + "scdaemon-program \(Self.scdaemon)\n")
        _ = try gpg.home.write("gnupg-pkcs11-scd.conf", text: "providers p1\nprovider-p1-library \(Self.module)\n")
        _ = try run("gpgconf", ["--kill", "all"])
        let learned = try run("gpg-connect-agent", ["SCD LEARN --force", "/bye"]).stdoutText
        guard
            let grip = learned.split(separator: "\n").first(where: { $0.hasPrefix("S KEYPAIRINFO ") })?
                .split(separator: " ").dropFirst(2).first
        else { throw HarnessError("the token shows no key: \(learned)") }
        _ = try run("gpg-connect-agent", ["learn --force", "/bye"])
        let spec = """
            Key-Type: RSA
            Key-Grip: \(grip)
            Key-Usage: sign,encrypt
            Name-Real: \(name)
            Name-Email: \(name)@keyturn.test
            Expire-Date: 0
            %commit

            """
        _ = try dir.write("gen.txt", text: spec)
        _ = try run(
            "gpg", ["--batch", "--pinentry-mode", "loopback", "--passphrase", pin, "--generate-key", "gen.txt"])
        let listing = try run("gpg", ["--with-colons", "--list-secret-keys", "\(name)@keyturn.test"]).stdoutText
        let fpr =
            listing.split(separator: "\n").first { $0.hasPrefix("fpr:") }.map {
                String($0.split(separator: ":", omittingEmptySubsequences: false)[9])
            } ?? ""
        let binary = try run("gpg", ["--export", fpr]).stdout
        let armoured = try run("gpg", ["--armor", "--export", fpr]).stdout
        let file = try gpg.home.write("\(name).asc", armoured, mode: 0o644)
        key = TestGPG.Key(
            name: name, fingerprint: fpr, vaultBase64: Data(binary).base64EncodedString(), armouredFile: file,
            passphrase: pin)
    }

    /// The token unplugged: its store moved away, the agent (and scdaemon) stopped.
    public func remove() throws {
        stopAgent()
        try FileManager.default.moveItem(atPath: tokens, toPath: tokens + ".away")
        try FileManager.default.createDirectory(atPath: tokens, withIntermediateDirectories: false)
    }

    /// The token plugged in again.
    public func insert() throws {
        stopAgent()
        try FileManager.default.removeItem(atPath: tokens)
        try FileManager.default.moveItem(atPath: tokens + ".away", toPath: tokens)
    }

    /// Stops gpg-agent and scdaemon, so that the next use logs in to the token again.
    public func stopAgent() {
        _ = try? Processes.run(
            Processes.which("gpgconf") ?? "/usr/bin/gpgconf", ["--kill", "all"], environment: environment)
    }

    deinit { stopAgent() }
}
