import Foundation
import KeyturnTestSupport
import Testing

/// `keyturn doctor` and a holder whose key is on a token (SoftHSM2 behind gnupg-pkcs11-scd as
/// gpg-agent's scdaemon, standing in for a YubiKey): the token plugged in, and unplugged.
@Suite("doctor: a token-held key's card (SoftHSM2, real gpg-agent, real OpenBao)")
struct DoctorTokenTests {
    func lines(_ r: ProcessResult, _ level: String) -> [String] {
        r.stdoutText.split(separator: "\n").map(String.init).filter { $0.hasPrefix(level + " ") }
    }

    @Test(
        """
        before an unseal: the token that holds a holder's key plugged in is an ok line; unplugged, a fail line with \
        a hint for the key given with --pgp-keys (exit 1, a local problem) and a warning for a key of the keyring \
        not given; the PIN is never asked for; the node is unchanged
        """,
        .enabled(if: SoftToken.available, "needs softhsm2, gnupg-pkcs11-scd and opensc (Scripts/test installs them)"))
    func tokenPlugged() async throws {
        let gpg = try TestGPG()
        let token = try SoftToken(gpg: gpg)
        let env = token.environment
        let (server, root) = try await unsealedNodeWithToken()
        defer { server.stop() }
        try await sealNode(server, token: root)
        let logins = try token.countLogins()
        let doctor = ["doctor", "-a", server.address, "--for", "unseal"]

        var r = try await Keyturn.launch(doctor + ["--pgp-keys", token.key.armouredFile], environment: env)
        #expect(r.status == 0, "\(r.stdoutText)\(r.stderr)")
        #expect(
            lines(r, "ok").contains { $0.contains(" token ") && $0.contains("\(token.key.fingerprint) is plugged in") },
            "\(r.stdoutText)")

        try token.remove()
        r = try await Keyturn.launch(doctor + ["--pgp-keys", token.key.armouredFile], environment: env)
        #expect(r.status == 1, "\(r.stdoutText)\(r.stderr)")
        let fails = lines(r, "fail")
        #expect(fails.count == 1, "\(r.stdoutText)")
        #expect(
            fails.contains { $0.contains("tina <tina@keyturn.test>") && $0.contains("is not plugged in") },
            "\(r.stdoutText)")
        #expect(r.stdoutText.contains("hint: plug in the YubiKey or smartcard that holds it"), "\(r.stdoutText)")

        // Not given: a key of this keyring that a share here may not be encrypted to.
        r = try await Keyturn.launch(doctor, environment: env)
        #expect(r.status == 0, "\(r.stdoutText)\(r.stderr)")
        #expect(lines(r, "warn").contains { $0.contains(" token ") && $0.contains("not plugged in") }, "\(r.stdoutText)")

        // Before init nobody decrypts here: no token line.
        r = try await Keyturn.launch(
            ["doctor", "-a", server.address, "--for", "init", "--pgp-keys", token.key.armouredFile], environment: env)
        #expect(!r.stdoutText.contains(" token "), "\(r.stdoutText)")
        try token.insert()
        let tried = String(decoding: readBytes(logins) ?? [], as: UTF8.self).split(separator: "\n").count
        #expect(tried == 0, "doctor logged in to the token \(tried) times")
        #expect(try await server.sealStatus()["sealed"] as? Bool == true)
    }
}
