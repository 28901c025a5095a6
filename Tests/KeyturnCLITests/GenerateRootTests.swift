import Foundation
import KeyturnTestSupport
import Testing

@Suite("keyturn generate-root against real OpenBao (real gpg)")
struct GenerateRootTests {
    /// Whether `token` works on `server` (auth/token/lookup-self answers 200).
    static func tokenWorks(_ server: OpenBaoServer, _ token: String) async throws -> Bool {
        try await server.call("GET", "auth/token/lookup-self", token: token).0 == 200
    }

    @Test("--pgp-key: root-token.asc decrypts with gpg -d to a token that works; the OTP never shows")
    func pgpKey() async throws {
        let gpg = try TestGPG()
        let bob = try gpg.makeKey("bob")
        let (server, _, _, dir, files) = try await unsealedNode(legacyCeremonyEndpoints: true)
        defer { server.stop() }
        let out = dir.file("out")

        var r = try await Keyturn.launch(
            ["generate-root", "start", "-a", server.address, "--pgp-key", bob.armouredFile, "--format", "json"],
            environment: gpg.environment)
        #expect(r.status == 0, "\(r.stderr)")
        let started = try jsonObject(r)
        let nonce = try #require(started["nonce"] as? String)
        #expect(started["api"] as? String == "sys/generate-root/attempt")
        #expect((started["pgp_fingerprint"] as? String)?.uppercased() == bob.fingerprint.uppercased())
        for file in [files.hex[2], files.hex[0]] {
            r = try await Keyturn.launch([
                "generate-root", "submit", "-a", server.address, "--nonce", nonce, file, "--yes", "--out-dir", out,
            ])
            #expect(r.status == 0, "\(r.stderr)")
        }
        #expect(r.stdoutText.contains("\(out)/root-token.asc"))
        #expect(
            try FileManager.default.attributesOfItem(atPath: "\(out)/root-token.asc")[.posixPermissions] as? Int
                == 0o600)
        let token = try gpg.gpg(["--decrypt", "\(out)/root-token.asc"]).stdoutText.trimmingCharacters(
            in: .whitespacesAndNewlines)
        #expect(token.hasPrefix("s."))
        #expect(try await Self.tokenWorks(server, token))
    }

    @Test(
        """
        one-time pad: the OTP goes to a 0600 file only, decode gives the same token as bao operator generate-root \
        -decode, and it works
        """
    )
    func oneTimePad() async throws {
        let (server, _, rootToken, dir, files) = try await unsealedNode(legacyCeremonyEndpoints: true)
        defer { server.stop() }
        let out = dir.file("ceremony")

        var r = try await Keyturn.launch([
            "generate-root", "start", "-a", server.address, "--out-dir", out, "--format", "json",
        ])
        #expect(r.status == 0, "\(r.stderr)")
        let nonce = try #require(try jsonObject(r)["nonce"] as? String)
        let otpFile = "\(out)/generate-root.otp"
        let otp = String(decoding: readBytes(otpFile) ?? [], as: UTF8.self).trimmingCharacters(
            in: .whitespacesAndNewlines)
        #expect(otp.count == 26)
        #expect(try FileManager.default.attributesOfItem(atPath: otpFile)[.posixPermissions] as? Int == 0o600)
        #expect(!r.stdoutText.contains(otp) && !r.stderr.contains(otp), "the OTP is never printed")
        // A second start while one runs: refused; the OTP file is not touched.
        r = try await Keyturn.launch([
            "generate-root", "start", "-a", server.address, "--otp-file", dir.file("other.otp"),
        ])
        expectOneLineError(r, status: 2, mentioning: "already running")
        #expect(!FileManager.default.fileExists(atPath: dir.file("other.otp")), "a refused start wrote an OTP file")
        #expect(
            String(decoding: readBytes(otpFile) ?? [], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
                == otp, "the running OTP file changed")

        for file in files.hex.prefix(2) {
            r = try await Keyturn.launch([
                "generate-root", "submit", "-a", server.address, "--nonce", nonce, file, "--yes", "--out-dir", out,
            ])
            #expect(r.status == 0, "\(r.stderr)")
        }
        let encodedFile = "\(out)/generate-root.encoded"
        let encoded = String(decoding: readBytes(encodedFile) ?? [], as: UTF8.self).trimmingCharacters(
            in: .whitespacesAndNewlines)
        #expect(!encoded.isEmpty)

        r = try await Keyturn.launch(["generate-root", "decode", "--otp-file", otpFile, encodedFile])
        #expect(r.status == 0, "\(r.stderr)")
        let token = r.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
        // OpenBao's own CLI decodes the same (it reads the OTP length from the server, with a token).
        let bao = try await Processes.launch(
            try #require(OpenBaoServer.binary), ["operator", "generate-root", "-decode=\(encoded)", "-otp=\(otp)"],
            environment: [
                "BAO_ADDR": server.address, "BAO_TOKEN": rootToken, "HOME": dir.path, "PATH": "/usr/bin:/bin",
            ])
        #expect(bao.status == 0, "\(bao.stderr)")
        #expect(token == bao.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines))
        #expect(try await Self.tokenWorks(server, token))
        // To a file instead: 0600, never over an existing one.
        r = try await Keyturn.launch([
            "generate-root", "decode", "--otp-file", otpFile, encodedFile, "--output", dir.file("token"),
        ])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(String(decoding: readBytes(dir.file("token")) ?? [], as: UTF8.self) == token + "\n")
        r = try await Keyturn.launch([
            "generate-root", "decode", "--otp-file", otpFile, encodedFile, "--output", dir.file("token"),
        ])
        expectOneLineError(r, mentioning: "already exists")
        // An OTP others can read is refused.
        let loose = try dir.write("loose.otp", text: otp + "\n", mode: 0o644)
        r = try await Keyturn.launch(["generate-root", "decode", "--otp-file", loose, encodedFile])
        expectOneLineError(r, mentioning: "readable by group or others")
    }

    @Test(
        """
        OpenBao's default listener: the refusal names disable_unauthed_generate_root_endpoints; status and cancel \
        work where enabled
        """
    )
    func disabledEndpoints() async throws {
        let server = try await OpenBaoServer.start()
        defer { server.stop() }
        let (keys, _) = try await server.initialize(shares: 3, threshold: 2)
        try await server.unseal(with: Array(keys.prefix(2)))
        let r = try await Keyturn.launch(["generate-root", "status", "-a", server.address])
        expectOneLineError(r, status: 2, mentioning: "without a token")
        #expect(r.stderr.contains("disable_unauthed_generate_root_endpoints = false"))

        let enabled = try await OpenBaoServer.start(.init(listenerExtra: OpenBaoServer.Options.legacyCeremonyEndpoints))
        defer { enabled.stop() }
        let (k2, _) = try await enabled.initialize(shares: 3, threshold: 2)
        try await enabled.unseal(with: Array(k2.prefix(2)))
        let dir = try TemporaryDirectory()
        var s = try await Keyturn.launch(["generate-root", "start", "-a", enabled.address, "--out-dir", dir.path])
        #expect(s.status == 0, "\(s.stderr)")
        s = try await Keyturn.launch(["generate-root", "status", "-a", enabled.address, "--format", "json"])
        #expect(try jsonObject(s)["started"] as? Bool == true)
        s = try await Keyturn.launch(["generate-root", "cancel", "-a", enabled.address])
        #expect(s.status == 0, "\(s.stderr)")
        s = try await Keyturn.launch(["generate-root", "status", "-a", enabled.address, "--format", "json"])
        #expect(try jsonObject(s)["started"] as? Bool == false)
    }
}
