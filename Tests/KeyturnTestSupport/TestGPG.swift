import Foundation

/// A throwaway GnuPG home with operator keys made by the real `gpg` (the README's test environment): loopback
/// pinentry allowed (keyturn uses it only with --passphrase-file/-fd), no passphrase caching
/// (so a wrong passphrase is really asked for), and its gpg-agent stopped when released.
public final class TestGPG: @unchecked Sendable {
    public let home: TemporaryDirectory
    public var path: String { home.path }
    /// The environment that points gpg (and keyturn's GPGME) at this home.
    public var environment: [String: String] { ["GNUPGHOME": home.path] }

    /// One operator's key.
    public struct Key: Sendable {
        public let name: String
        public let fingerprint: String
        /// Base64 of the binary public key, as Vault's `pgp_keys` takes it.
        public let vaultBase64: String
        /// An armoured public key file in the home's directory.
        public let armouredFile: String
        public let passphrase: String
    }

    public init() throws {
        home = try TemporaryDirectory("keyturn-gpg")
        try home.write("gpg-agent.conf", text: "allow-loopback-pinentry\ndefault-cache-ttl 0\nmax-cache-ttl 0\n")
    }

    @discardableResult
    public func gpg(_ args: [String], stdin: [UInt8]? = nil) throws -> ProcessResult {
        let r = try Processes.run(
            Processes.which("gpg") ?? "/usr/bin/gpg", ["--homedir", home.path, "--batch", "--yes"] + args, stdin: stdin)
        guard r.status == 0 else { throw HarnessError("gpg \(args.first ?? "") failed: \(r.stderr)") }
        return r
    }

    /// Makes an RSA key for `name` (encrypt and sign), with a passphrase ("" for none).
    public func makeKey(_ name: String, passphrase: String = "") throws -> Key {
        try gpg([
            "--pinentry-mode", "loopback", "--passphrase", passphrase, "--quick-generate-key",
            "\(name) <\(name)@keyturn.test>", "rsa2048", "sign,encrypt", "never",
        ])
        let listing = try gpg(["--with-colons", "--list-keys", "\(name)@keyturn.test"]).stdoutText
        let fpr =
            listing.split(separator: "\n").first { $0.hasPrefix("fpr:") }.map {
                String($0.split(separator: ":", omittingEmptySubsequences: false)[9])
            } ?? ""
        let binary = try gpg(["--export", fpr]).stdout
        let armoured = try gpg(["--armor", "--export", fpr]).stdout
        let file = try home.write("\(name).asc", armoured, mode: 0o644)
        return Key(
            name: name, fingerprint: fpr, vaultBase64: Data(binary).base64EncodedString(), armouredFile: file,
            passphrase: passphrase)
    }

    /// The three operators most tests use: Alice (passphrase "alice secret"), Bob and Carol.
    public func makeOperators() throws -> (alice: Key, bob: Key, carol: Key) {
        (try makeKey("alice", passphrase: "alice secret"), try makeKey("bob"), try makeKey("carol"))
    }

    /// Encrypts text to a key, armoured.
    public func encrypt(_ text: String, to key: Key) throws -> [UInt8] {
        try gpg(
            ["--armor", "--trust-model", "always", "--encrypt", "--recipient", key.fingerprint], stdin: Array(text.utf8)
        ).stdout
    }

    deinit {
        _ = try? Processes.run(
            Processes.which("gpgconf") ?? "/usr/bin/gpgconf", ["--homedir", home.path, "--kill", "all"])
    }
}
