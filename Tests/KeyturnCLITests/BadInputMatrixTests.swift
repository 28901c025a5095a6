import Foundation
import KeyturnTestSupport
import Testing

@Suite("the bad-input matrix")
struct BadInputMatrixTests {
    struct Case {
        let name: String
        let args: [String]
        var stdin: [UInt8] = []
        var env: [String: String] = [:]
        let status: Int32
        let fragment: String
    }

    @Test("every bad input the specification names ends in its exit code, one clear line, and no file left behind")
    func matrix() async throws {
        let gpg = try TestGPG()
        let alice = try gpg.makeKey("alice", passphrase: "right")
        let bob = try gpg.makeKey("bob")
        let server = try await OpenBaoServer.start()
        defer { server.stop() }
        let (keys, _) = try await server.initialize(shares: 3, threshold: 2)
        let stub = try StubServer("garbage")
        let dir = try TemporaryDirectory()
        let work = dir.file("work")
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        func file(_ name: String, _ text: String, mode: Int = 0o600) throws -> String {
            try dir.write(name, text: text, mode: mode)
        }
        let good = try file("good.key", keys[0] + "\n")
        let forAlice = try dir.write("alice.key", try gpg.encrypt(keys[1], to: alice))
        let forBob = try dir.write("bob.key", try gpg.encrypt(keys[1], to: bob))
        let wrongPass = try file("wrong.pass", "wrong\n")
        let pki = try TestPKI()
        let tls = try await OpenBaoServer.start(.init(tlsCertFile: pki.serverCert, tlsKeyFile: pki.serverKey))
        defer { tls.stop() }
        let otherCA = try TestPKI()
        let strangerHome = try TestGPG()  // a keyring without Bob's key
        _ = try strangerHome.makeKey("mallory")
        let dead = "http://127.0.0.1:\(try freeLoopbackPort())"
        let a = server.address
        let split = ["split", "--no-pgp", "--out-dir", "\(work)/shares"]

        let cases: [Case] = [
            Case(
                name: "corrupt share file",
                args: ["unseal", "-a", a, try file("corrupt.key", String(keys[1].dropLast(4)) + "zz!!\n")], status: 1,
                fragment: "does not hold a share"),
            Case(
                name: "empty share file", args: ["unseal", "-a", a, try file("empty.key", "")], status: 1,
                fragment: "holds no share"),
            Case(
                name: "huge share file",
                args: ["unseal", "-a", a, try file("huge.key", String(repeating: "ab", count: 40_000))], status: 1,
                fragment: "too large"),
            Case(
                name: "truncated share",
                args: ["unseal", "-a", a, try file("short.key", String(keys[1].prefix(40)) + "\n")], status: 1,
                fragment: "is 20 bytes, but"),
            Case(
                name: "share of the wrong length", args: ["unseal", "-a", a, try file("long.key", keys[1] + "abab\n")],
                status: 1, fragment: "35 bytes long"),
            Case(
                name: "share on the command line", args: ["unseal", "-a", a, keys[1]], status: 1,
                fragment: "command line"),
            Case(
                name: "share readable by others",
                args: ["unseal", "-a", a, try file("open.key", keys[1] + "\n", mode: 0o644)], status: 1,
                fragment: "readable by group or others"),
            Case(
                name: "wrong PGP key (another operator's share)", args: ["unseal", "-a", a, forBob],
                env: strangerHome.environment, status: 1, fragment: "not for you"),
            Case(
                name: "wrong passphrase", args: ["unseal", "-a", a, forAlice, "--passphrase-file", wrongPass],
                env: gpg.environment, status: 1, fragment: "wrong passphrase"),
            Case(
                name: "garbage instead of a PGP message",
                args: [
                    "unseal", "-a", a,
                    try file("garbage.asc", "-----BEGIN PGP MESSAGE-----\n\nnope\n-----END PGP MESSAGE-----\n"),
                ], env: gpg.environment, status: 1, fragment: "cannot decrypt"),
            Case(name: "duplicate shares", args: ["combine", good, good], status: 1, fragment: "same share"),
            Case(
                name: "shares of different lengths", args: ["combine", good, try file("other.key", keys[1] + "00\n")],
                status: 1, fragment: "lengths differ"),
            Case(name: "one share to combine", args: ["combine", good], status: 1, fragment: "at least two"),
            Case(
                name: "threshold > shares (split)", args: split + ["--threshold", "4", "--shares", "3", "-"],
                stdin: [1], status: 1, fragment: "cannot be larger"),
            Case(
                name: "256 shares", args: split + ["--threshold", "2", "--shares", "256", "-"], stdin: [1], status: 1,
                fragment: "between 1 and 255"),
            Case(
                name: "threshold 1 of several shares", args: split + ["--threshold", "1", "--shares", "3", "-"],
                stdin: [1], status: 1, fragment: "at least 2"),
            Case(
                name: "empty secret", args: split + ["--threshold", "2", "--shares", "3", "-"], stdin: [], status: 1,
                fragment: "is empty"),
            Case(
                name: "threshold > shares (init)",
                args: [
                    "init", "-a", a, "--pgp-keys", alice.armouredFile, "--key-threshold", "2", "--out-dir",
                    "\(work)/init",
                ], env: gpg.environment, status: 1, fragment: "does not fit"),
            Case(
                name: "the same PGP key twice",
                args: [
                    "init", "-a", a, "--pgp-keys", "\(alice.armouredFile),\(alice.armouredFile)", "--out-dir",
                    "\(work)/init",
                ], env: gpg.environment, status: 1, fragment: "same key"),
            Case(
                name: "a secret-key file as a public key",
                args: [
                    "init", "-a", a, "--pgp-keys",
                    try dir.write(
                        "secret.asc",
                        try gpg.gpg([
                            "--armor", "--export-secret-keys", "--pinentry-mode", "loopback", "--passphrase", "",
                            bob.fingerprint,
                        ]).stdout), "--out-dir", "\(work)/init",
                ], env: gpg.environment, status: 1, fragment: "private key"),
            Case(
                name: "already initialised",
                args: ["init", "-a", a, "--pgp-keys", alice.armouredFile, "--out-dir", "\(work)/init"],
                env: gpg.environment, status: 2, fragment: "already initialised"),
            Case(name: "unreachable node (status)", args: ["status", "-a", dead], status: 1, fragment: "unreachable"),
            Case(
                name: "unreachable node (unseal)", args: ["unseal", "-a", dead, good], status: 2,
                fragment: "unreachable"),
            Case(
                name: "server answering garbage", args: ["status", "-a", stub.address], status: 1,
                fragment: "not JSON"),
            Case(
                name: "wrong CA", args: ["status", "-a", tls.address, "--ca-cert", otherCA.caCert], status: 1,
                fragment: "not signed by a trusted CA"),
            Case(
                name: "wrong CA (secure check)",
                args: ["secure", "check", "-a", tls.address, "--ca-cert", otherCA.caCert], status: 2,
                fragment: "not signed by a trusted CA"),
            Case(
                name: "missing CA file", args: ["status", "-a", tls.address, "--ca-cert", dir.file("nope.pem")],
                status: 1, fragment: "does not exist"),
            Case(
                name: "output file exists (combine)",
                args: ["combine", "--output", good, good, try file("k2.key", keys[2] + "\n")], status: 1,
                fragment: "already exists"),
            Case(name: "unknown option", args: ["status", "--bogus"], status: 1, fragment: "bogus"),
            Case(name: "unknown command", args: ["frobnicate"], status: 1, fragment: "frobnicate"),
        ]
        var handled = 0
        for c in cases {
            let before = dir.listing()
            let r = try await Keyturn.launch(c.args, stdin: c.stdin, environment: c.env)
            let lines = r.stderrLines.filter { !$0.hasPrefix("keyturn: warning:") }
            let errorLine = lines.first { $0.hasPrefix("keyturn: error: ") } ?? ""
            let ok =
                r.status == c.status && errorLine.contains(c.fragment) && !r.stderr.contains("Fatal error")
                && dir.listing().filter { !$0.contains("gnupg") } == before.filter { !$0.contains("gnupg") }
            #expect(ok, "\(c.name): exit \(r.status) (want \(c.status)), stderr: \(r.stderr)")
            if ok { handled += 1 }
        }
        print("bad-input matrix: \(cases.count) bad inputs, \(handled) handled")
        #expect(handled == cases.count)
        #expect(try await server.sealStatus()["progress"] as? Int == 0, "no bad input may count as a share")
        withExtendedLifetime(stub) {}
    }
}
