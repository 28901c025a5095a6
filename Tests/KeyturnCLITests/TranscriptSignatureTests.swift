import Foundation
import KeyturnTestSupport
import Testing

@Suite("the signed, chained transcript and keyturn transcript verify (real gpg, real OpenBao)")
struct TranscriptSignatureTests {
    @Test(
        """
        init and two operators' unseal: verify passes and names each signer; a line edited, a line deleted, two \
        lines swapped, a signature line removed: each exit 2 naming the line
        """
    )
    func signedChain() async throws {
        let gpg = try TestGPG()
        let (alice, _, carol) = try gpg.makeOperators()
        let server = try await OpenBaoServer.start()
        defer { server.stop() }
        let dir = try TemporaryDirectory()
        let log = dir.file("ceremony.jsonl")
        let pass = try dir.write("alice.pass", text: "alice secret\n")
        let a = ["-a", server.address, "--transcript", log]
        var r = try await Keyturn.launch(
            ["init", "--out-dir", dir.file("gen1"), "--pgp-keys", "\(alice.armouredFile),\(carol.armouredFile)"] + a,
            environment: gpg.environment)
        #expect(r.status == 0, "\(r.stderr)")
        let token = try rootToken(printedBy: r)
        r = try await Keyturn.launch(
            ["unseal", dir.file("gen1/alice.asc.key"), "--passphrase-file", pass] + a, environment: gpg.environment)
        #expect(r.status == 0, "\(r.stderr)")
        r = try await Keyturn.launch(["unseal", dir.file("gen1/carol.asc.key")] + a, environment: gpg.environment)
        #expect(r.status == 0, "\(r.stderr)")

        r = try await Keyturn.launch(["transcript", "verify", log], environment: gpg.environment)
        #expect(r.status == 0, "\(r.stdoutText) \(r.stderr)")
        #expect(r.stdoutText.contains("the chain is intact"))
        #expect(r.stdoutText.contains("unseal  signed by \(alice.fingerprint): good"), "\(r.stdoutText)")
        #expect(r.stdoutText.contains("unseal  signed by \(carol.fingerprint): good"), "\(r.stdoutText)")
        #expect(r.stdoutText.contains("init  unsigned"), "\(r.stdoutText)")

        // init: line 1 and its closing line 2; alice: line 3 and its closing line 4; carol: lines 5 and 6.
        let lines = String(decoding: try #require(readBytes(log)), as: UTF8.self).split(separator: "\n").map(
            String.init)
        #expect(lines.count == 6, "\(lines.joined(separator: "\n"))")
        // The signature lines hold no secret either: no form of either share, not the root token.
        let secrets =
            try [token] + shareForms(gpg, dir.file("gen1/alice.asc.key"), passphrase: "alice secret")
            + shareForms(gpg, dir.file("gen1/carol.asc.key"))
        for secret in secrets { #expect(!lines.joined().contains(secret), "a secret is in the transcript") }
        var edited = lines
        edited[2] = edited[2].replacingOccurrences(of: "\"result\":\"", with: "\"result\":\"x")
        var swapped = lines
        swapped.swapAt(2, 3)
        let cases: [(String, [String], String)] = [
            ("edited", edited, "broken at line 3"),
            ("deleted", Array(lines[0..<2] + lines[3...]), "broken at line 3"),
            ("swapped", swapped, "broken at line 3"),
            ("signature removed", Array(lines.dropLast()), "broken at line 5"),
        ]
        // A transcript an older keyturn wrote (no prev, no closing lines) is read, not refused.
        let legacy = try dir.write(
            "legacy.jsonl",
            text: #"{"command":"status","result":"unsealed","time":"2026-01-01T00:00:00Z","version":"0.1.0"}"# + "\n")
        r = try await Keyturn.launch(["transcript", "verify", legacy], environment: gpg.environment)
        #expect(r.status == 0 && r.stdoutText.contains("1 older lines unchained"), "\(r.stdoutText)")

        for (name, text, expected) in cases {
            let file = try dir.write("\(name).jsonl", text: text.joined(separator: "\n") + "\n")
            r = try await Keyturn.launch(["transcript", "verify", file], environment: gpg.environment)
            #expect(r.status == 2, "\(name): \(r.stdoutText)")
            #expect(r.stdoutText.contains(expected), "\(name): \(r.stdoutText)")
        }
    }
}
