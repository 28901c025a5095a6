import Foundation
import KeyturnTestSupport
import Testing

/// Whether every node of `cluster` reports `sealed`.
func sealedStates(_ cluster: OpenBaoCluster) async throws -> [Bool] {
    var states: [Bool] = []
    for node in cluster.nodes { states.append(try await node.sealStatus()["sealed"] as? Bool ?? false) }
    return states
}

@Suite("incidents on a three-node raft cluster: seal, step-down and Examples/incident.sh")
struct IncidentTests {
    @Test(
        """
        seal without a token sends nothing; --dry-run lists three requests and seals nothing; step-down makes the \
        active node resign; incident.sh seals every node, a quorum unseals, a rekey and a new root token follow, \
        and the \
        old root token is revoked
        """
    )
    func incident() async throws {
        let gpg = try TestGPG()
        let (alice, bob, carol) = try gpg.makeOperators()
        let dave = try gpg.makeKey("dave")
        let cluster = try await OpenBaoCluster.start(3)
        defer { cluster.stop() }
        let keys = try await cluster.initializeAndUnseal(shares: 3, threshold: 2)
        let oldRoot = try #require(cluster.rootToken)
        let dir = try TemporaryDirectory()
        let shares = try writeShareFiles(dir, hex: keys).hex
        let all = cluster.addresses.flatMap { ["-a", $0] }
        let tokenEnv = cleanEnvironment(["VAULT_TOKEN": oldRoot])

        var r = try await Keyturn.launch(["seal", "--yes"] + all, environment: cleanEnvironment([:]))
        #expect(r.status == 1 && r.stderr.contains("token") && r.stdout.isEmpty, "\(r.stderr)")
        // A real node would answer 403 to a request without a token anyway; a recording stub
        // tells sent from not sent.
        let recorded = dir.file("seal-requests")
        let stub = try StubServer("silent", [recorded])
        r = try await Keyturn.launch(["seal", "--yes", "-a", stub.address], environment: cleanEnvironment([:]))
        #expect(r.status == 1 && readBytes(recorded) == nil, "seal without a token sent: \(readBytes(recorded) ?? [])")
        withExtendedLifetime(stub) {}
        r = try await Keyturn.launch(["seal", "--dry-run"] + all, environment: tokenEnv)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdoutText.split(separator: "\n").filter { $0.hasPrefix("would send: PUT /v1/sys/seal") }.count == 3)
        #expect(try await sealedStates(cluster) == [false, false, false])

        // The server's own word on the active node: a step-down gives up the active role, so the
        // active node's active_time (when it became active) changes, whoever is active next.
        let activeSince = try await cluster.nodes[0].call("GET", "sys/leader").1["active_time"] as? String
        #expect(activeSince != nil)
        r = try await Keyturn.launch(["step-down", "--format", "json"] + all, environment: tokenEnv)
        #expect(r.status == 0, "\(r.stdoutText) \(r.stderr)")
        var resigned = false
        var seen: [String] = []
        // Resigned: it says it is not the active node, or its active_time is new (it took the
        // role back, as raft's leader does about ten seconds later). Up to 90 s under load.
        for _ in 0..<360 where !resigned {
            let reply = try? await cluster.nodes[0].call("GET", "sys/leader")
            seen.append("\(reply?.0 ?? 0) \(reply?.1 ?? [:])")
            let now = reply?.1["active_time"] as? String
            resigned = (now != nil && now != activeSince) || reply?.1["is_self"] as? Bool == false
            if !resigned { try await Task.sleep(nanoseconds: 250_000_000) }
        }
        #expect(resigned, "active_time still \(activeSince ?? "?"): \(Set(seen))")
        // OpenBao 2.7.2 with raft: the active node resigns, no standby can take over while it
        // leads raft, and it is active again about ten seconds later (the README says so).
        let moved = try jsonObject(r)
        #expect(moved["before"] as? String == cluster.addresses[0])
        #expect((moved["after"] as? String).map(cluster.addresses.contains) == true, "\(moved)")
        if moved["after"] as? String == cluster.addresses[0] { #expect(r.stderr.contains("is active again")) }

        // The runbook, step by step, as automation runs it (no terminal: --yes).
        let env = cleanEnvironment(
            [
                "KEYTURN": Keyturn.path, "BAO": try #require(OpenBaoServer.binary),
                "VAULT_ADDR": cluster.addresses.joined(separator: ","), "VAULT_TOKEN": oldRoot,
            ].merging(gpg.environment) { $1 })
        let runbook = "\(examplesDirectory)/incident.sh"
        func step(_ args: [String]) async throws -> ProcessResult {
            let r = try await Processes.launch("/bin/bash", [runbook] + args, environment: env)
            #expect(r.status == 0, "\(args): \(r.stdoutText) \(r.stderr)")
            return r
        }
        _ = try await step(["seal"])
        #expect(try await sealedStates(cluster) == [true, true, true])
        _ = try await step(["unseal", shares[0]])
        _ = try await step(["unseal", shares[1]])
        #expect(try await sealedStates(cluster) == [false, false, false])

        let gen2 = dir.file("gen2")
        let newKeys = [bob, carol, dave].map(\.armouredFile).joined(separator: ",")
        r = try await step(["rekey-start", newKeys, gen2, "2"])
        let nonce = try #require(nonceLine(r.stdoutText), "\(r.stdoutText)")
        _ = try await step(["rekey-submit", nonce, shares[0], gen2])
        r = try await step(["rekey-submit", nonce, shares[2], gen2])
        // Verified by default: the new shares take over once a threshold of their holders verified them.
        let verification = try #require(
            r.stderr.split(separator: " ").drop { $0 != "--nonce" }.dropFirst().first.map(String.init), "\(r.stderr)")
        _ = try await step(["rekey-verify", verification, "\(gen2)/bob.asc.key"])
        _ = try await step(["rekey-verify", verification, "\(gen2)/dave.asc.key"])
        // Named after the key files by the rekey's plan, with no list of keys on the submit.
        for who in ["bob", "carol", "dave"] { #expect(fileMode("\(gen2)/\(who).asc.key") == 0o600) }

        r = try await step(["root-start", alice.armouredFile])
        let rootNonce = try #require(nonceLine(r.stdoutText), "\(r.stdoutText)")
        _ = try await step(["root-submit", rootNonce, "\(gen2)/bob.asc.key", dir.file("token")])
        _ = try await step(["root-submit", rootNonce, "\(gen2)/dave.asc.key", dir.file("token")])
        let decrypted = try await Processes.launch(
            "/usr/bin/gpg",
            [
                "--batch", "--pinentry-mode", "loopback", "--passphrase", "alice secret", "-d",
                dir.file("token/root-token.asc"),
            ], environment: gpg.environment)
        let newRoot = decrypted.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(newRoot.hasPrefix("s.") && newRoot != oldRoot, "\(newRoot) (old \(oldRoot)) \(decrypted.stderr)")

        _ = try await step(["revoke-old"])
        let leader = cluster.nodes[0]
        #expect(try await leader.call("GET", "auth/token/lookup-self", token: oldRoot).0 == 403)
        #expect(try await leader.call("GET", "auth/token/lookup-self", token: newRoot).0 == 200)
    }
}

/// The nonce from a start's table ("nonce  VALUE").
func nonceLine(_ table: String) -> String? {
    table.split(separator: "\n").first { $0.hasPrefix("nonce") }?.split(separator: " ").last.map(String.init)
}
