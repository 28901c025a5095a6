import Foundation
import KeyturnTestSupport
import Testing
import VaultClient

@Suite("VaultClient against a real OpenBao node and a slow one")
struct VaultClientTests {
    @Test("seal status, init and unseal of a real node, with Vault's field names")
    func realNode() async throws {
        let server = try await OpenBaoServer.start()
        defer { server.stop() }
        let client = try VaultClient(address: server.address, transport: VaultTransport(timeout: 60))
        let (before, raw) = try await client.sealStatus()
        #expect(!before.initialized && before.sealed)
        #expect(raw["initialized"] != nil)
        let answer = try await client.initialize(InitRequest(secretShares: 1, secretThreshold: 1))
        #expect(answer.keys.count == 1 && answer.rootToken.hasPrefix("s."))
        let after = try await client.unseal(UnsealRequest(key: answer.keys[0]))
        #expect(!after.sealed)
    }

    @Test("each rekey family's backup path is one the server serves (no backup yet: a refusal, not 'unsupported path')")
    func backupPaths() async throws {
        let server = try await OpenBaoServer.start()
        defer { server.stop() }
        let (keys, rootToken) = try await server.initialize(shares: 1, threshold: 1)
        try await server.unseal(with: keys)
        // Unsealed is not yet active: until raft elects it, every request is "local node not active".
        try await server.waitUntil(timeout: 120) { try await $0.call("GET", "sys/health").0 == 200 }
        var client = try VaultClient(address: server.address, transport: VaultTransport(timeout: 60))
        client.token = rootToken
        let families = QuorumEndpoints.Target.allCases.flatMap { [QuorumEndpoints.legacyRekey($0), .rotate($0)] }
        for family in families {
            do {
                _ = try await client.rekeyBackup(family)
                Issue.record("\(family.backupPath): a backup where none was made")
            } catch {
                #expect(error.reason.contains("no backed-up keys"), "\(family.backupPath): \(error.reason)")
            }
        }
    }

    @Test("the one-shot sys/init answer is waited for past the transport's timeout, which still bounds other requests")
    func oneShotAnswerOutlivesTimeout() async throws {
        let scratch = try TemporaryDirectory("keyturn-slow")
        let slow = try StubServer("slow-init", [scratch.file("request"), "3"])
        let client = try VaultClient(address: slow.address, transport: VaultTransport(timeout: 1))
        // A repeatable request is bounded by the timeout: the same slowness on GET would fail.
        #expect(try await client.initStatus().initialized == false)
        let answer = try await client.initialize(InitRequest(secretShares: 1, secretThreshold: 1))
        #expect(answer.rootToken == "s.stub")
        #expect(VaultTransport.oneShotReplyTimeout >= 600)
    }

    @Test("every node's status comes back in the order given; an unreachable one is reported, not fatal")
    func fetchAllKeepsOrder() async throws {
        let server = try await OpenBaoServer.start()
        defer { server.stop() }
        let transport = VaultTransport(timeout: 5)
        let dead = "http://127.0.0.1:\(try freeLoopbackPort())"
        let clients = try [dead, server.address, dead].map { try VaultClient(address: $0, transport: transport) }
        let statuses = await NodeStatus.fetchAll(clients)
        #expect(statuses.map(\.address) == [dead, server.address, dead])
        #expect(statuses[1].seal?.initialized == false)
        #expect(statuses[0].error?.code == .unreachable && statuses[2].error?.code == .unreachable)
    }

    @Test("concurrentMap keeps each result in its element's slot, with throwing work awaited inside")
    func concurrentMapKeepsOrder() async {
        struct Failure: Error {}
        @Sendable func work(_ i: Int) async throws -> Bool {
            if i % 3 == 2 { throw Failure() }
            await Task.yield()
            return i % 2 == 0
        }
        let results = await concurrentMap(Array(0..<50)) { i, element -> (Int, Bool?) in
            let value = try? await work(element)
            return (i, value)
        }
        #expect(results.map(\.0) == Array(0..<50))
        #expect(results.map(\.1) == (0..<50).map { $0 % 3 == 2 ? nil : $0 % 2 == 0 })
    }

    @Test("an address that is not an http(s) URL is refused before anything is sent")
    func invalidAddress() {
        let error = #expect(throws: VaultError.self) {
            try VaultClient(address: "ftp://x", transport: VaultTransport())
        }
        #expect(error?.code == .invalidAddress)
    }
}
