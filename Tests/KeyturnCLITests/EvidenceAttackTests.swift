import Foundation
import KeyturnTestSupport
import Testing

/// Fixtures/tamper_transcript.py: rewrites a signed transcript as someone who handles it would,
/// with the chain recomputed (its top says how).
private let tamperScript = Bundle.module.path(forResource: "tamper_transcript", ofType: "py", inDirectory: "Fixtures")

@Suite("the evidence against one holder, the coordinator and whoever handles the files (real gpg, real OpenBao)")
struct EvidenceAttackTests {
    /// A 2-of-3 ceremony with commitments (init on a real OpenBao, which is stopped again).
    struct Ceremony {
        let gpg: TestGPG
        let dir: TemporaryDirectory
        let alice: TestGPG.Key, bob: TestGPG.Key, carol: TestGPG.Key
        let gen1: String
        /// The root token init printed.
        let rootToken: String
        var manifest: String { "\(gen1)/ceremony.json" }
    }

    static func ceremony() async throws -> Ceremony {
        let gpg = try TestGPG()
        let (alice, bob, carol) = try gpg.makeOperators()
        let server = try await OpenBaoServer.start()
        defer { server.stop() }
        let dir = try TemporaryDirectory()
        let gen1 = dir.file("gen1")
        let r = try await DrillTests.initialise(server, to: [alice, bob, carol], into: gen1, gpg)
        #expect(r.status == 0, "\(r.stderr)")
        return Ceremony(
            gpg: gpg, dir: dir, alice: alice, bob: bob, carol: carol, gen1: gen1, rootToken: try rootToken(printedBy: r)
        )
    }

    func tamper(_ c: Ceremony, _ file: String, _ op: String, _ extra: [String] = []) throws -> String {
        let copy = c.dir.file("\(op)-\(URL(fileURLWithPath: file).lastPathComponent)")
        try? FileManager.default.removeItem(atPath: copy)
        try FileManager.default.copyItem(atPath: file, toPath: copy)
        let r = try Processes.run(
            "/usr/bin/python3", [try #require(tamperScript), op, copy] + extra,
            environment: c.gpg.environment.merging(["PATH": "/usr/bin:/bin"]) { $1 })
        #expect(r.status == 0, "\(r.stderr)")
        return copy
    }

    /// Bob checks his share offline, writing `file` as `flag` says (a transcript, an attestation).
    func bobVerifies(_ c: Ceremony, _ flag: String, _ file: String) async throws {
        let r = try await Keyturn.launch(
            ["verify", "\(c.gen1)/bob.asc.key", flag, file], environment: c.gpg.environment)
        #expect(r.status == 0, "\(r.stderr)")
    }

    func verify(_ c: Ceremony, _ files: [String], _ extra: [String] = []) async throws -> ProcessResult {
        try await Keyturn.launch(["transcript", "verify"] + extra + files, environment: c.gpg.environment)
    }

    @Test(
        """
        transcript verify: a line edited under an intact chain is a bad signature; lines naming Bob's key signed \
        by Alice are named; a closing line with event fields is malformed and no event in the report; unsigned \
        lines after signed ones are an anomaly; a cut end is caught by --head; every one of them exits 2
        """
    )
    func transcriptAttacks() async throws {
        let c = try await Self.ceremony()
        let bobs = c.dir.file("bob.jsonl")
        try await bobVerifies(c, "--transcript", bobs)
        // A second command, so that one can be cut off the end.
        try await bobVerifies(c, "--transcript", bobs)
        var r = try await verify(c, [bobs])
        #expect(r.status == 0 && r.stdoutText.contains("signed by \(c.bob.fingerprint): good"), "\(r.stdoutText)")
        let head = try #require(
            r.stdoutText.split(separator: "\n").first { $0.contains("head: ") }?.split(separator: " ")
                .dropFirst().first.map(String.init))

        // Edited, chain recomputed: only the signature can tell.
        r = try await verify(c, [try tamper(c, bobs, "edit")])
        #expect(r.status == 2 && r.stdoutText.contains("NOT GOOD"), "\(r.stdoutText)")
        #expect(!r.stdoutText.contains("broken at"), "the chain was recomputed: \(r.stdoutText)")

        // Re-signed by Carol (whose key has no passphrase), the signer field still naming Bob.
        let byCarol = try tamper(c, bobs, "resign", [c.carol.fingerprint])
        r = try await verify(c, [byCarol])
        #expect(r.status == 2, "\(r.stdoutText)")
        #expect(
            r.stdoutText.contains("name key \(c.bob.fingerprint) but are signed by \(c.carol.fingerprint)"),
            "\(r.stdoutText)")

        // A closing line dressed as an event.
        let dressed = try tamper(c, bobs, "close-fields")
        r = try await verify(c, [dressed])
        #expect(r.status == 2 && r.stdoutText.contains("closing line with fields"), "\(r.stdoutText)")
        r = try await Keyturn.launch(["report", dressed, "--manifest", c.manifest], environment: c.gpg.environment)
        #expect(!r.stdoutText.contains("http://127.0.0.1:1"), "the report drew a closing line as an event")

        // Unsigned lines appended after signed ones.
        let appended = try tamper(c, bobs, "append-unsigned")
        r = try await verify(c, [appended])
        #expect(r.status == 2 && r.stdoutText.contains("unsigned, after signed lines"), "\(r.stdoutText)")
        r = try await verify(c, [appended], ["--no-strict"])
        #expect(r.status == 0, "--no-strict: \(r.stdoutText)")
        r = try await Keyturn.launch(
            ["report", appended, "--manifest", c.manifest, "--strict"], environment: c.gpg.environment)
        #expect(r.status == 2 && r.stdoutText.contains("(not vouched for)"), "\(r.stdoutText)")

        // The last command cut off: the chain holds; the published head does not.
        let cut = try tamper(c, bobs, "cut-last")
        r = try await verify(c, [cut])
        #expect(r.status == 0, "a cut transcript is an intact chain: \(r.stdoutText)")
        r = try await verify(c, [cut], ["--head", head])
        #expect(r.status == 2 && r.stdoutText.contains("is not in the transcript"), "\(r.stdoutText)")
        r = try await verify(c, [bobs], ["--head", head])
        #expect(r.status == 0 && r.stdoutText.contains("ends there, as published"), "\(r.stdoutText)")
        r = try await Keyturn.launch(["report", bobs, "--manifest", c.manifest], environment: c.gpg.environment)
        #expect(r.stdoutText.contains(head), "the report lists each transcript's head: \(r.stdoutText)")
    }

    @Test(
        """
        drill: Bob re-signing his attestation with his fingerprint in lower case, or under another user id, \
        counts once or not at all; one dated a year ahead is not counted
        """
    )
    func drillAttacks() async throws {
        let c = try await Self.ceremony()
        let bobs = c.dir.file("bob.att")
        try await bobVerifies(c, "--attest", bobs)
        /// Bob's attestation with `change` applied to its statement, signed again by Bob.
        func resigned(_ name: String, _ change: (inout [String: Any]) -> Void) throws -> String {
            let original = try #require(readBytes(bobs))
            var whole = try #require(try JSONSerialization.jsonObject(with: Data(original)) as? [String: Any])
            var statement = try #require(whole["statement"] as? [String: Any])
            change(&statement)
            let bytes = try JSONSerialization.data(
                withJSONObject: statement, options: [.sortedKeys, .withoutEscapingSlashes])
            let signature = try c.gpg.gpg(
                [
                    "--pinentry-mode", "loopback", "--passphrase", "", "--local-user", c.bob.fingerprint, "--armor",
                    "--detach-sign",
                ], stdin: [UInt8](bytes)
            ).stdoutText
            whole["statement"] = statement
            whole["signature"] = signature
            return try c.dir.write(name, [UInt8](try JSONSerialization.data(withJSONObject: whole)))
        }
        let lower = try resigned("lower.att") { $0["fingerprint"] = c.bob.fingerprint.lowercased() }
        let otherID = try resigned("other-id.att") { $0["user_id"] = "Robert <robert@keyturn.test>" }
        let ahead = try resigned("ahead.att") {
            $0["time"] = ISO8601DateFormatter().string(from: Date().addingTimeInterval(365 * 86_400))
        }
        let drill = { (files: [String]) async throws -> ProcessResult in
            try await Keyturn.launch(["drill", "--manifest", c.manifest] + files, environment: c.gpg.environment)
        }
        var r = try await drill([bobs, lower])
        #expect(r.status == 2 && r.stdoutText.contains("quorum NOT proven: 1 of 3"), "\(r.stdoutText)")
        r = try await drill([bobs, otherID])
        #expect(r.status == 2 && r.stdoutText.contains("quorum NOT proven: 1 of 3"), "\(r.stdoutText)")
        #expect(r.stdoutText.contains("but the record lists the key"), "\(r.stdoutText)")
        r = try await drill([ahead])
        #expect(r.status == 2 && r.stdoutText.contains("in the future"), "\(r.stdoutText)")
    }

    @Test(
        """
        the Markdown report: a node name that opens an HTML comment, a table cell or a heading stays text, and the \
        Anomalies section is still there; terminal escapes in a transcript reach neither verify's output nor \
        the report raw
        """
    )
    func markdownAndTerminalInjection() async throws {
        let dir = try TemporaryDirectory()
        let now = ISO8601DateFormatter().string(from: Date())
        let evil = "http://x <!-- | # None found. \u{1B}]52;c;ZXZpbA==\u{07}\u{1B}[2J\r"
        // An unchained, unsigned transcript (as one written before chaining existed).
        let line = try JSONSerialization.data(
            withJSONObject: [
                "time": now, "version": "x", "command": "unseal", "node": evil, "result": "failed",
                "error": "refused \u{1B}[31m", "key_fingerprint": "0000000000000000000000000000000000000000",
            ], options: [.sortedKeys])
        let transcript = try dir.write("t.jsonl", [UInt8](line) + [0x0A])
        var r = try await Keyturn.launch(["report", transcript])
        #expect(r.status == 0, "\(r.stderr)")
        let md = r.stdoutText
        #expect(
            !md.replacingOccurrences(of: "\\<", with: "").contains("<!--"),
            "an HTML comment opened in the Markdown: \(md)")
        #expect(!r.stdout.contains(0x1B) && !r.stdout.contains(0x07), "a raw escape reached the report")
        #expect(md.contains("## Anomalies") && md.contains("\\<!--"), "\(md)")
        #expect(md.contains("x1b\\]52"), "the escape is shown, escaped: \(md)")
        #expect(md.contains("\\| \\# None found"), "a cell or a heading opened: \(md)")

        // The same through transcript verify, whose output is read on a terminal.
        let unsigned = try JSONSerialization.data(
            withJSONObject: [
                "close": "unseal", "time": now, "version": "x", "line_sha256": [String](), "prev": "",
                "unsigned": "\u{1B}]52;c;ZXZpbA==\u{07}\nkeyturn: signed by ALICE: good",
            ], options: [.sortedKeys])
        let forged = try dir.write("u.jsonl", [UInt8](unsigned) + [0x0A])
        r = try await Keyturn.launch(["transcript", "verify", forged])
        #expect(!r.stdout.contains(0x1B) && !r.stdout.contains(0x07), "a raw escape reached the terminal")
        #expect(
            !r.stdoutText.split(separator: "\n").contains { $0.hasPrefix("keyturn: signed by") },
            "a line was forged: \(r.stdoutText)")
    }
}
