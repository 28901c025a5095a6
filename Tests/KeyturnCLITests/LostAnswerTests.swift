import Foundation
import KeyturnTestSupport
import Testing

/// A share submitted to a rekey or generate-root whose answer is lost: a proxy in front of a real
/// OpenBao forwards the submit and closes the connection before the reply (the server acted, the
/// answer is gone, as when the active node is killed after committing), or closes it before
/// forwarding (nothing happened). keyturn asks the node again and says what became of it.
@Suite("lost answers of rekey and generate-root submits (real OpenBao behind a cutting proxy)")
struct LostAnswerTests {
    /// A node (3 shares, threshold 2, token API), two new holders, and a proxy that cuts (or
    /// drops) every PUT .../update.
    struct Setup {
        let server: OpenBaoServer
        let proxy: StubServer
        let gpg: TestGPG
        let dave: TestGPG.Key
        let erin: TestGPG.Key
        let dir: TemporaryDirectory
        let shares: [String]
        let env: [String: String]
        let token: String

        init(_ mode: String) async throws {
            gpg = try TestGPG()
            dave = try gpg.makeKey("dave")
            erin = try gpg.makeKey("erin")
            let files: (hex: [String], base64: [String])
            (server, _, token, dir, files) = try await unsealedNode(legacyCeremonyEndpoints: false)
            shares = files.hex
            proxy = try StubServer(mode, [String(server.address.dropFirst("http://".count)), "/update"])
            env = cleanEnvironment(gpg.environment.merging(["VAULT_TOKEN": token]) { $1 })
        }

        func keyturn(_ arguments: [String], via address: String? = nil) async throws -> ProcessResult {
            try await Keyturn.launch(arguments + ["-a", address ?? server.address], environment: env, killAfter: 300)
        }

        /// Starts a rekey to dave and erin (threshold 2) with `extra`; returns its nonce.
        func startRekey(_ extra: [String]) async throws -> String {
            let r = try await keyturn(
                ["rekey", "start", "--key-threshold", "2", "--format", "json", "--pgp-keys"]
                    + ["\(dave.armouredFile),\(erin.armouredFile)"] + extra)
            #expect(r.status == 0, "\(r.stderr)")
            return try #require(try jsonObject(r)["nonce"] as? String)
        }

        /// The first share straight to the node, the completing one through the proxy.
        func submitBoth(_ operation: String, nonce: String, out: String) async throws -> ProcessResult {
            let first = try await keyturn([operation, "submit", "--yes", "--nonce", nonce, "--out-dir", out, shares[0]])
            #expect(first.status == 0, "\(first.stderr)")
            return try await keyturn(
                [operation, "submit", "--yes", "--nonce", nonce, "--out-dir", out, shares[1]], via: proxy.address)
        }

        /// Whether the node, restarted (sealed), unseals with these share files.
        func unsealsAfterRestart(with files: [String]) async throws -> Bool {
            try await server.restart()
            var last: ProcessResult?
            for f in files { last = try await keyturn(["unseal", f]) }
            if last?.status != 0 { print("unseal after restart: \(last?.stdoutText ?? "") \(last?.stderr ?? "")") }
            return last?.status == 0 && last?.stdoutText.contains("unsealed") == true
        }
    }

    @Test(
        """
        rekey (verified by default), completing answer lost: keyturn says it reached its verification stage and \
        the old shares still unseal; cancelled, the old shares do unseal
        """
    )
    func rekeyVerifiedLost() async throws {
        let s = try await Setup("cut-proxy")
        defer { s.server.stop() }
        let nonce = try await s.startRekey([])
        let r = try await s.submitBoth("rekey", nonce: nonce, out: s.dir.file("gen2"))
        // Before: "closed the connection before its reply was complete", and nothing else.
        expectOneLineError(r, status: 2, mentioning: "reached its verification stage")
        #expect(r.stderr.contains("the old shares are still in force"), "\(r.stderr)")
        #expect(r.stderr.contains("hint: cancel it (keyturn rekey cancel) and start it again"), "\(r.stderr)")
        #expect(try await s.keyturn(["rekey", "cancel"]).status == 0)
        #expect(try await s.unsealsAfterRestart(with: Array(s.shares.prefix(2))))
    }

    @Test(
        """
        rekey --no-verify --backup, completing answer lost: 'probably completed', rekey status says so too, and \
        backup retrieve writes files it calls unproven, which unseal after a restart
        """
    )
    func rekeyBackupLost() async throws {
        let s = try await Setup("cut-proxy")
        defer { s.server.stop() }
        let nonce = try await s.startRekey(["--no-verify", "--backup"])
        let r = try await s.submitBoth("rekey", nonce: nonce, out: s.dir.file("gen2"))
        expectOneLineError(r, status: 2, mentioning: "no rekey with that nonce runs now: it has probably completed")
        #expect(r.stderr.contains("hint: the server kept a backup: keyturn rekey backup retrieve"), "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: s.dir.file("gen2/dave.asc.key")))
        let status = try await s.keyturn(["rekey", "status"])
        #expect(status.stderr.contains("one whose completing answer was lost looks the same"), "\(status.stderr)")
        let gen2 = s.dir.file("gen2b")
        let retrieved = try await s.keyturn(["rekey", "backup", "retrieve", "--out-dir", gen2])
        #expect(retrieved.status == 0, "\(retrieved.stderr)")
        #expect(retrieved.stderr.contains("warning: these files are unproven"), "\(retrieved.stderr)")
        // Named after the keys' fingerprints: rekey start wrote no plan.
        let files = try FileManager.default.contentsOfDirectory(atPath: gen2).filter { $0.hasSuffix(".key") }
        #expect(files.count == 2, "\(files)")
        #expect(try await s.unsealsAfterRestart(with: files.map { "\(gen2)/\($0)" }))
    }

    @Test(
        """
        rekey --no-verify --snapshot, completing answer lost with no backup: the hint names the snapshot, and the \
        README's runbook (bao operator raft snapshot restore -force) brings the old shares back
        """
    )
    func rekeySnapshotRunbook() async throws {
        let s = try await Setup("cut-proxy")
        defer { s.server.stop() }
        let snapshot = s.dir.file("before-rekey.snap")
        let nonce = try await s.startRekey(["--no-verify", "--snapshot", snapshot])
        #expect(fileMode(snapshot) == 0o600)
        #expect(readBytes(snapshot)?.prefix(2) == [0x1f, 0x8b], "a gzip stream")
        let r = try await s.submitBoth("rekey", nonce: nonce, out: s.dir.file("gen2"))
        expectOneLineError(r, status: 2, mentioning: "its answer, the new shares, is lost")
        #expect(r.stderr.contains("only the raft snapshot (rekey start --snapshot)"), "\(r.stderr)")
        // The old shares no longer count: the rekey did complete.
        let bao = try #require(OpenBaoServer.binary)
        let env = ["BAO_ADDR": s.server.address, "BAO_TOKEN": s.token, "PATH": "/usr/bin:/bin", "HOME": s.dir.path]
        let restore = try await Processes.launch(
            bao, ["operator", "raft", "snapshot", "restore", "-force", snapshot], environment: env)
        #expect(restore.status == 0, "\(restore.stderr)")
        #expect(try await s.unsealsAfterRestart(with: Array(s.shares.prefix(2))))
        // A snapshot never goes over a file.
        let again = try await s.keyturn(["rekey", "start", "--snapshot", snapshot, "--pgp-keys", s.dave.armouredFile])
        expectOneLineError(again, status: 1, mentioning: snapshot)
    }

    @Test(
        """
        a rekey commit that fails half-way (OpenBao's 500 when leadership is lost inside it; the soak lost a \
        cluster so): keyturn says neither generation may unseal once sealed, and to restore the snapshot now
        """
    )
    func rekeyCommitFailedHalfWay() async throws {
        let s = try await Setup("fail-proxy")
        defer { s.server.stop() }
        let nonce = try await s.startRekey(["--no-verify"])
        let r = try await s.submitBoth("rekey", nonce: nonce, out: s.dir.file("gen2"))
        expectOneLineError(r, status: 2, mentioning: "failed while it committed the rekey")
        #expect(r.stderr.contains("neither the old shares nor the new ones"), "\(r.stderr)")
        #expect(r.stderr.contains("hint: keep every node running and unsealed"), "\(r.stderr)")
    }

    @Test("generate-root, completing answer lost: a root token may now exist that no one holds, and how to find it")
    func generateRootLost() async throws {
        let s = try await Setup("cut-proxy")
        defer { s.server.stop() }
        var r = try await s.keyturn(["generate-root", "start", "--pgp-key", s.dave.armouredFile, "--format", "json"])
        let nonce = try #require(try jsonObject(r)["nonce"] as? String)
        r = try await s.submitBoth("generate-root", nonce: nonce, out: s.dir.file("token"))
        expectOneLineError(r, status: 2, mentioning: "a root token may now exist that no one holds")
        #expect(r.stderr.contains("hint: with a token, find the root token no one holds"), "\(r.stderr)")
    }

    @Test("a submit cut before the node saw it: the share did not count, submit it again")
    func droppedSubmit() async throws {
        let s = try await Setup("drop-proxy")
        defer { s.server.stop() }
        var r = try await s.keyturn(["generate-root", "start", "--pgp-key", s.dave.armouredFile, "--format", "json"])
        let nonce = try #require(try jsonObject(r)["nonce"] as? String)
        r = try await s.keyturn(
            ["generate-root", "submit", "--yes", "--nonce", nonce, s.shares[0]], via: s.proxy.address)
        expectOneLineError(r, status: 2, mentioning: "still runs at 0/2: the share did not count")
        #expect(r.stderr.contains("hint: submit the same share again"), "\(r.stderr)")
        r = try await s.keyturn(["generate-root", "submit", "--yes", "--nonce", nonce, s.shares[0]])
        #expect(r.status == 0 && r.stderr.contains("share accepted: 1 of 2"), "\(r.stderr)")
    }
}
