import Foundation
import KeyturnTestSupport
import Testing

/// HashiCorp Vault 2.0 wants a token on `sys/rekey/*` and `sys/generate-root/*` and has no
/// OpenBao token API: a proxy in front of a real OpenBao node (old endpoints turned back on)
/// serves it that way.
@Suite("Vault 2.0: the token goes to the rekey and generate-root endpoints too")
struct Vault2TokenTests {
    @Test(
        """
        through a Vault-2.0-like listener, generate-root start and status with a token use sys/generate-root and \
        work; without a token they are refused and say so
        """
    )
    func tokenOnLegacyEndpoints() async throws {
        let (server, root) = try await unsealedNodeWithToken(
            .init(listenerExtra: OpenBaoServer.Options.legacyCeremonyEndpoints))
        defer { server.stop() }
        let proxy = try StubServer("vault2-proxy", ["127.0.0.1:\(server.port)"])
        let gpg = try TestGPG()
        let bob = try gpg.makeKey("bob")
        var r = try await Keyturn.launch(
            ["generate-root", "start", "-a", proxy.address, "--pgp-key", bob.armouredFile, "--format", "json"],
            environment: gpg.environment.merging(["VAULT_TOKEN": root]) { $1 })
        #expect(r.status == 0, "\(r.stderr)")
        #expect(try jsonObject(r)["api"] as? String == "sys/generate-root/attempt", "\(r.stdoutText)")
        r = try await Keyturn.launch(
            ["generate-root", "status", "-a", proxy.address], environment: ["VAULT_TOKEN": root])
        #expect(r.status == 0, "\(r.stderr)")
        r = try await Keyturn.launch(["generate-root", "status", "-a", proxy.address])
        #expect(r.status != 0 && r.stderr.contains("permission denied"), "\(r.stderr)")
    }
}
