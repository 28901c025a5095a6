import Foundation
import KeyturnTestSupport
import Testing

@Suite("rekey and generate-root: interop with OpenBao's own CLI, and no secret where it does not belong")
struct CeremonyInteropTests {
    /// Runs OpenBao's CLI against `server` (with the root token, as an operator would have it).
    static func bao(
        _ server: OpenBaoServer, _ args: [String], token: String, home: String, gnupg: [String: String] = [:]
    ) async throws -> ProcessResult {
        try await Processes.launch(
            try #require(OpenBaoServer.binary), args,
            environment: ["BAO_ADDR": server.address, "BAO_TOKEN": token, "HOME": home, "PATH": "/usr/bin:/bin"]
                .merging(gnupg) { $1 })
    }

    @Test(
        """
        a rekey started by bao operator rekey -init is completed by keyturn submits; one started by keyturn is \
        completed by bao submits
        """
    )
    func interopBothWays() async throws {
        let gpg = try TestGPG()
        let dave = try gpg.makeKey("dave"), erin = try gpg.makeKey("erin")
        let (server, _, rootToken, dir, files) = try await unsealedNode(legacyCeremonyEndpoints: true)
        defer { server.stop() }
        let env = gpg.environment
        let b64Keys = try [dave, erin].map { try dir.write("\($0.name).b64", text: $0.vaultBase64, mode: 0o644) }

        // 1. bao starts, keyturn completes.
        var b = try await Self.bao(
            server,
            [
                "operator", "rekey", "-init", "-key-shares=2", "-key-threshold=2",
                "-pgp-keys=\(b64Keys.joined(separator: ","))", "-format=json",
            ],
            token: rootToken, home: dir.path)
        #expect(b.status == 0, "\(b.stderr)")
        let nonce =
            try #require(try JSONSerialization.jsonObject(with: Data(b.stdout)) as? [String: Any])["nonce"] as? String
        let out = dir.file("by-keyturn")
        var r = try await Keyturn.launch(["--version"])
        for file in files.hex.prefix(2) {
            r = try await Keyturn.launch(
                [
                    "rekey", "submit", "-a", server.address, "--nonce", try #require(nonce), file, "--yes",
                    "--pgp-keys", "\(dave.armouredFile),\(erin.armouredFile)", "--out-dir", out,
                ], environment: env)
            #expect(r.status == 0, "\(r.stderr)")
        }
        #expect(try await server.sealStatus()["n"] as? Int == 2)
        let newHex = try ["dave", "erin"].map {
            try gpg.gpg(["--decrypt", "\(out)/\($0).asc.key"]).stdoutText.trimmingCharacters(
                in: .whitespacesAndNewlines)
        }

        // 2. keyturn starts, bao completes (its submits take the share on argv: bao's way, not ours).
        r = try await Keyturn.launch(
            [
                "rekey", "start", "--no-verify", "-a", server.address, "--pgp-keys",
                "\(dave.armouredFile),\(erin.armouredFile)",
                "--key-threshold", "2", "--format", "json",
            ], environment: env)
        #expect(r.status == 0, "\(r.stderr)")
        let nonce2 = try #require(try jsonObject(r)["nonce"] as? String)
        for key in newHex {
            b = try await Self.bao(
                server, ["operator", "rekey", "-nonce=\(nonce2)", "-format=json", key], token: rootToken, home: dir.path
            )
            #expect(b.status == 0, "\(b.stderr)")
        }
        let answer = try #require(try JSONSerialization.jsonObject(with: Data(b.stdout)) as? [String: Any])
        let issued = try #require(answer["keys_base64"] as? [String])
        #expect(issued.count == 2)
        // bao's answer is Vault's base64 of PGP messages: keyturn unseal reads it as it is.
        try await server.restart()
        for (i, key) in issued.enumerated() {
            let f = try dir.write("bao-\(i).key", text: key + "\n", mode: 0o644)
            r = try await Keyturn.launch(["unseal", "-a", server.address, f], environment: env)
            #expect(r.status == 0, "\(r.stderr)")
        }
        #expect(try await server.sealStatus()["sealed"] as? Bool == false)
    }

    @Test(
        """
        no share, OTP or token in any output or file but the ones meant for it (rekey with client-side \
        encryption, generate-root with an OTP)
        """
    )
    func noSecretLeaks() async throws {
        let gpg = try TestGPG()
        let dave = try gpg.makeKey("dave"), erin = try gpg.makeKey("erin")
        let (server, keys, rootToken, dir, files) = try await unsealedNode(legacyCeremonyEndpoints: true)
        defer { server.stop() }
        let env = gpg.environment
        var outputs: [(String, [UInt8])] = []
        func run(_ args: [String], environment: [String: String] = [:]) async throws -> ProcessResult {
            let r = try await Keyturn.launch(args, environment: env.merging(environment) { $1 })
            outputs.append(("keyturn \(args.prefix(2).joined(separator: " ")) stdout", r.stdout))
            outputs.append(("keyturn \(args.prefix(2).joined(separator: " ")) stderr", Array(r.stderr.utf8)))
            return r
        }
        let newKeys = ["--pgp-keys", "\(dave.armouredFile),\(erin.armouredFile)"]

        // A rekey whose new shares come back in plaintext and are encrypted here.
        var r = try await run(
            [
                "rekey", "start", "--no-verify", "-a", server.address, "--client-side-encryption", "--key-threshold",
                "2", "--format",
                "json",
            ] + newKeys)
        #expect(r.status == 0, "\(r.stderr)")
        let nonce = try #require(try jsonObject(r)["nonce"] as? String)
        let out = dir.file("gen2")
        // Without --pgp-keys the completing submit would have to print plaintext shares: refused.
        _ = try await run([
            "rekey", "submit", "-a", server.address, "--nonce", nonce, files.hex[0], "--yes", "--out-dir", out,
        ])
        r = try await run([
            "rekey", "submit", "-a", server.address, "--nonce", nonce, files.hex[1], "--yes", "--out-dir", out,
        ])
        expectOneLineError(r, mentioning: "unencrypted")
        r = try await run(
            ["rekey", "submit", "-a", server.address, "--nonce", nonce, files.hex[1], "--yes", "--out-dir", out]
                + newKeys)
        #expect(r.status == 0, "\(r.stderr)")
        let record = try #require(
            try JSONSerialization.jsonObject(with: Data(readBytes("\(out)/ceremony.json") ?? [])) as? [String: Any])
        #expect(record["encryption"] as? String == "client")
        #expect((record["share_files"] as? [[String: Any]])?.allSatisfy { $0["commitment"] is String } == true)
        let newShares = try ["dave", "erin"].map {
            try gpg.gpg(["--decrypt", "\(out)/\($0).asc.key"]).stdoutText.trimmingCharacters(
                in: .whitespacesAndNewlines)
        }
        // keyturn verify checks a new file against its commitment, offline.
        r = try await run(["verify", "\(out)/erin.asc.key"])
        #expect(r.status == 0, "\(r.stderr)")

        // generate-root with a one-time pad, with the new shares.
        let grDir = dir.file("gr")
        r = try await run(["generate-root", "start", "-a", server.address, "--out-dir", grDir, "--format", "json"])
        let grNonce = try #require(try jsonObject(r)["nonce"] as? String)
        for who in ["dave", "erin"] {
            r = try await run([
                "generate-root", "submit", "-a", server.address, "--nonce", grNonce, "\(out)/\(who).asc.key", "--yes",
                "--out-dir", grDir,
            ])
            #expect(r.status == 0, "\(r.stderr)")
        }
        r = try await Keyturn.launch([
            "generate-root", "decode", "--otp-file", "\(grDir)/generate-root.otp", "\(grDir)/generate-root.encoded",
        ])
        let newToken = r.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(newToken.hasPrefix("s."))
        outputs.append(("decode stderr", Array(r.stderr.utf8)))
        let otp = String(decoding: readBytes("\(grDir)/generate-root.otp") ?? [], as: UTF8.self).trimmingCharacters(
            in: .whitespacesAndNewlines)

        // Every file keyturn wrote, but the OTP's own file (meant for it).
        for path in try FileManager.default.subpathsOfDirectory(atPath: dir.path) where !path.hasSuffix(".otp") {
            let full = dir.file(path)
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: full, isDirectory: &isDir), !isDir.boolValue,
                full.hasPrefix(out) || full.hasPrefix(grDir)
            else { continue }
            outputs.append((path, readBytes(full) ?? []))
        }
        // Every form of every secret of the ceremony.
        var secrets: [(String, String)] = [("root token", rootToken), ("new root token", newToken), ("OTP", otp)]
        for (i, k) in (keys + newShares).enumerated() {
            secrets.append(("share \(i) hex", k))
            secrets.append(("share \(i) HEX", k.uppercased()))
            if let bytes = hexBytes(k) {
                secrets.append(("share \(i) base64", Data(bytes).base64EncodedString()))
            }
        }
        #expect(outputs.count > 20)
        for (name, bytes) in outputs {
            let text = String(decoding: bytes, as: UTF8.self)
            for (what, secret) in secrets where secret.count >= 16 {
                #expect(!text.contains(secret), "\(what) appears in \(name)")
            }
        }
    }
}

/// The bytes of a hex string.
func hexBytes(_ hex: String) -> [UInt8]? {
    guard hex.count % 2 == 0 else { return nil }
    var out: [UInt8] = []
    var i = hex.startIndex
    while i < hex.endIndex {
        let j = hex.index(i, offsetBy: 2)
        guard let b = UInt8(hex[i..<j], radix: 16) else { return nil }
        out.append(b)
        i = j
    }
    return out
}
