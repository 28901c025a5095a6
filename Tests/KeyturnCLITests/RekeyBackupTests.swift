import Foundation
import KeyturnTestSupport
import Testing

@Suite("rekey backup and plan, and --dry-run, against real OpenBao (authenticated API, real gpg)")
struct RekeyBackupTests {
    @Test(
        """
        a plan with other keys is refused before anything is sent; the completing submit names the files from the \
        plan; with those files lost, backup retrieve writes files that unseal after a restart; after delete, \
        retrieve exits 2
        """
    )
    func backupAndPlan() async throws {
        let gpg = try TestGPG()
        let (_, bob, carol) = try gpg.makeOperators()
        let dave = try gpg.makeKey("dave")
        let (server, _, rootToken, dir, shares) = try await unsealedNode(legacyCeremonyEndpoints: false)
        defer { server.stop() }
        let env = cleanEnvironment(["VAULT_TOKEN": rootToken].merging(gpg.environment) { $1 })
        let a = ["-a", server.address]
        let gen2 = dir.file("gen2")
        var r = try await Keyturn.launch(
            [
                "rekey", "start", "--no-verify", "--backup", "--key-threshold", "2", "--out-dir", gen2, "--pgp-keys",
                [bob, carol, dave].map(\.armouredFile).joined(separator: ","),
            ] + a, environment: env)
        #expect(r.status == 0, "\(r.stderr)")
        let nonce = try #require(nonceLine(r.stdoutText))
        let planText = try #require(readBytes("\(gen2)/rekey-plan.json"))
        #expect(fileMode("\(gen2)/rekey-plan.json") == 0o600)
        let saved = try dir.write("plan-copy.json", planText)

        // A plan whose keys are not the server's: refused, nothing sent (the progress stays 0).
        var doctored = try #require(try JSONSerialization.jsonObject(with: Data(planText)) as? [String: Any])
        var holders = try #require(doctored["holders"] as? [[String: Any]])
        holders.swapAt(0, 2)
        doctored["holders"] = holders
        let wrongPlan = try dir.write("wrong-plan.json", [UInt8](try JSONSerialization.data(withJSONObject: doctored)))
        r = try await Keyturn.launch(
            ["rekey", "submit", "--yes", "--nonce", nonce, "--plan", wrongPlan, "--out-dir", gen2, shares.hex[0]] + a,
            environment: env)
        #expect(r.status == 1 && r.stderr.contains("not the ones the server encrypts"), "\(r.stderr)")
        let (_, state) = try await server.call("GET", "sys/rotate/root/init", token: rootToken)
        #expect((state["data"] as? [String: Any])?["progress"] as? Int == 0)

        for share in [shares.hex[0], shares.hex[1]] {
            r = try await Keyturn.launch(
                ["rekey", "submit", "--yes", "--nonce", nonce, "--out-dir", gen2, share] + a, environment: env)
            #expect(r.status == 0, "\(r.stderr)")
        }
        for who in ["bob", "carol", "dave"] { #expect(fileMode("\(gen2)/\(who).asc.key") == 0o600, "\(who)") }

        // The completing submitter's files are lost.
        try FileManager.default.removeItem(atPath: gen2)
        let gen2b = dir.file("gen2b")
        r = try await Keyturn.launch(
            ["rekey", "backup", "retrieve", "--plan", saved, "--out-dir", gen2b] + a, environment: env)
        #expect(r.status == 0, "\(r.stderr)")
        for who in ["bob", "carol", "dave"] { #expect(fileMode("\(gen2b)/\(who).asc.key") == 0o600, "\(who)") }
        try await server.restart()
        for who in ["bob", "dave"] {
            r = try await Keyturn.launch(["unseal"] + a + ["\(gen2b)/\(who).asc.key"], environment: env)
        }
        #expect(r.status == 0, "\(r.stdoutText) \(r.stderr)")
        #expect(try await server.sealStatus()["sealed"] as? Bool == false)

        r = try await Keyturn.launch(["rekey", "backup", "delete"] + a, environment: env)
        #expect(r.status == 0, "\(r.stderr)")
        r = try await Keyturn.launch(
            ["rekey", "backup", "retrieve", "--out-dir", dir.file("gen2c")] + a, environment: env)
        expectOneLineError(r, status: 2, mentioning: "keeps no backup of a rekey's new shares")
        #expect(r.stderr.contains("hint: the server keeps the new shares only of a rekey started with"), "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir.file("gen2c/ceremony.json")))
    }

    @Test(
        """
        --dry-run: init leaves the node uninitialised and writes nothing (a missing key file: exit 1); rekey start \
        and generate-root start leave no operation running
        """
    )
    func dryRun() async throws {
        let gpg = try TestGPG()
        let (alice, bob, carol) = try gpg.makeOperators()
        let server = try await OpenBaoServer.start()
        defer { server.stop() }
        let dir = try TemporaryDirectory()
        let a = ["-a", server.address]
        let keys = [alice, bob, carol].map(\.armouredFile).joined(separator: ",")
        var r = try await Keyturn.launch(
            ["init", "--dry-run", "--pgp-keys", keys, "--out-dir", dir.file("out")] + a, environment: gpg.environment)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdoutText.contains("would send: PUT /v1/sys/init to \(server.address)"))
        #expect(try await server.sealStatus()["initialized"] as? Bool == false)
        #expect(!FileManager.default.fileExists(atPath: dir.file("out")))
        r = try await Keyturn.launch(
            ["init", "--dry-run", "--pgp-keys", keys + "," + dir.file("missing.asc"), "--out-dir", dir.file("out")]
                + a, environment: gpg.environment)
        #expect(r.status == 1 && r.stderr.contains("missing.asc"), "\(r.stderr)")

        let (initKeys, rootToken) = try await server.initialize(shares: 1, threshold: 1)
        try await server.unseal(with: initKeys)
        let env = cleanEnvironment(["VAULT_TOKEN": rootToken].merging(gpg.environment) { $1 })
        r = try await Keyturn.launch(
            ["rekey", "start", "--dry-run", "--pgp-keys", keys, "--out-dir", dir.file("gen2")] + a, environment: env)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdoutText.contains("would send: PUT /v1/sys/rotate/root/init"))
        r = try await Keyturn.launch(
            ["generate-root", "start", "--dry-run", "--out-dir", dir.path] + a, environment: env)
        #expect(r.status == 0, "\(r.stderr)")
        let rekey = try await server.call("GET", "sys/rotate/root/init", token: rootToken).1
        #expect((rekey["data"] as? [String: Any])?["started"] as? Bool == false)
        let root = try await server.call("GET", "sys/generate-root-token/attempt", token: rootToken).1
        #expect((root["data"] as? [String: Any])?["started"] as? Bool == false)
        #expect(!FileManager.default.fileExists(atPath: dir.file("gen2")))
        #expect(!FileManager.default.fileExists(atPath: dir.file("generate-root.otp")))
    }
}
