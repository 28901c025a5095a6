import Foundation
import KeyturnTestSupport
import Testing

@Suite("CI in one line each: unseal --init-json and status --until, against real OpenBao")
struct CIOneLinerTests {
    @Test(
        """
        unseal --init-json unseals a node initialised by bao operator init -format=json and one by keyturn init \
        --no-pgp --format json; a file readable by others, not JSON, or with fewer keys than the threshold: exit 1, \
        nothing sent
        """
    )
    func initJSON() async throws {
        let dir = try TemporaryDirectory()
        let bao = try #require(OpenBaoServer.binary)
        let first = try await OpenBaoServer.start()
        defer { first.stop() }
        let init1 = try await Processes.launch(
            bao, ["operator", "init", "-format=json", "-key-shares=3", "-key-threshold=2"],
            environment: cleanEnvironment(["BAO_ADDR": first.address, "VAULT_ADDR": first.address]))
        #expect(init1.status == 0, "\(init1.stderr)")
        let baoJSON = try dir.write("bao-init.json", init1.stdout)

        // Refused before anything is sent: the node stays sealed with no progress.
        let open = try dir.write("open.json", init1.stdout, mode: 0o644)
        let notJSON = try dir.write("not.json", text: "keys: none\n")
        var parsed = try #require(try JSONSerialization.jsonObject(with: Data(init1.stdout)) as? [String: Any])
        parsed["unseal_keys_hex"] = Array((parsed["unseal_keys_hex"] as? [String] ?? []).prefix(1))
        parsed["unseal_keys_b64"] = nil
        let short = try dir.write("short.json", [UInt8](try JSONSerialization.data(withJSONObject: parsed)))
        for (file, fragment) in [
            (open, "readable by group or others"), (notJSON, "is not a JSON init answer"),
            (short, "holds 1 unseal key but the threshold is 2"),
        ] {
            let r = try await Keyturn.launch(["unseal", "--init-json", file, "-a", first.address])
            #expect(r.status == 1 && r.stderr.contains(fragment), "\(file): \(r.stderr)")
            #expect(try await first.sealStatus()["progress"] as? Int == 0)
        }
        var r = try await Keyturn.launch(["unseal", "--init-json", baoJSON, "-a", first.address])
        #expect(r.status == 0, "\(r.stdoutText) \(r.stderr)")
        #expect(try await first.sealStatus()["sealed"] as? Bool == false)

        let second = try await OpenBaoServer.start()
        defer { second.stop() }
        r = try await Keyturn.launch([
            "init", "--no-pgp", "--key-shares", "3", "--key-threshold", "2", "--format", "json", "-a", second.address,
        ])
        #expect(r.status == 0, "\(r.stderr)")
        let keyturnJSON = try dir.write("keyturn-init.json", r.stdout)
        r = try await Keyturn.launch(["unseal", "--init-json", keyturnJSON, "-a", second.address])
        #expect(r.status == 0, "\(r.stdoutText) \(r.stderr)")
        #expect(try await second.sealStatus()["sealed"] as? Bool == false)
    }

    @Test(
        """
        status --until: reachable returns as soon as a starting node answers; sealed after a seal; the deadline \
        gives exit 2 naming what was still waited for
        """
    )
    func until() async throws {
        // `dir` holds the share files: kept alive to the end.
        let (server, _, rootToken, dir, shares) = try await unsealedNode(legacyCeremonyEndpoints: false)
        defer { server.stop() }
        let a = ["-a", server.address]
        server.stop()
        let started = Date()
        async let waiting = Keyturn.launch(["status", "--wait", "120", "--until", "reachable"] + a)
        try await Task.sleep(nanoseconds: 2_000_000_000)
        try await server.restart()
        let r = try await waiting
        #expect(r.status == 0, "\(r.stdoutText) \(r.stderr)")
        #expect(Date().timeIntervalSince(started) < 90)
        // The restarted node is sealed: --until unsealed reaches its deadline, naming it.
        var s = try await Keyturn.launch(["status", "--wait", "2", "--until", "unsealed"] + a)
        #expect(s.status == 2, "\(s.stderr)")
        #expect(s.stderr.contains("\(server.address) is not unsealed after waiting 2 s"), "\(s.stderr)")
        // Unsealed, then sealed by keyturn seal: --until sealed.
        for share in shares.hex.prefix(2) { _ = try await Keyturn.launch(["unseal", share] + a) }
        s = try await Keyturn.launch(["status", "--wait", "30", "--until", "unsealed"] + a)
        #expect(s.status == 0, "\(s.stdoutText) \(s.stderr)")
        s = try await Keyturn.launch(["seal", "--yes"] + a, environment: cleanEnvironment(["VAULT_TOKEN": rootToken]))
        #expect(s.status == 0, "\(s.stdoutText) \(s.stderr)")
        s = try await Keyturn.launch(["status", "--wait", "30", "--until", "sealed"] + a)
        #expect(s.status == 0, "\(s.stdoutText) \(s.stderr)")
        withExtendedLifetime(dir) {}
    }
}
