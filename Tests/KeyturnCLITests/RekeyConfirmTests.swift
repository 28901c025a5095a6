import Foundation
import KeyturnTestSupport
import Testing

@Suite("rekey submit on a terminal: what the operator signs off")
struct RekeyConfirmTests {
    /// Runs keyturn with `args` on a pty, answers `answer` to its question, returns the screen.
    static func onTerminal(
        _ args: [String], answer: String, environment: [String: String]
    ) async throws -> ProcessResult {
        let script = """
            import os, pty, signal, sys
            signal.alarm(60)
            pid, fd = pty.fork()
            if pid == 0:
                os.execv(sys.argv[1], sys.argv[1:-1])
            out = b""
            while b"[y/N]" not in out:
                out += os.read(fd, 4096)
            os.write(fd, sys.argv[-1].encode() + b"\\n")
            while True:
                try:
                    chunk = os.read(fd, 4096)
                except OSError:
                    break
                if not chunk:
                    break
                out += chunk
            _, status = os.waitpid(pid, 0)
            sys.stdout.write(out.decode(errors="replace"))
            sys.exit(os.waitstatus_to_exitcode(status))
            """
        return try await Processes.launch(
            try #require(Processes.which("python3")), ["-c", script, Keyturn.path] + args + [answer],
            environment: cleanEnvironment(environment))
    }

    @Test(
        """
        the operation is shown (new shares, threshold, the new keys' fingerprints, progress) and only 'y' sends \
        the share
        """
    )
    func confirmOnTerminal() async throws {
        let gpg = try TestGPG()
        let dave = try gpg.makeKey("dave"), erin = try gpg.makeKey("erin")
        let (server, _, _, dir, files) = try await unsealedNode(legacyCeremonyEndpoints: true)
        defer { server.stop() }
        var r = try await Keyturn.launch(
            [
                "rekey", "start", "--no-verify", "-a", server.address, "--pgp-keys",
                "\(dave.armouredFile),\(erin.armouredFile)",
                "--key-threshold", "2", "--format", "json",
            ], environment: gpg.environment)
        let nonce = try #require(try jsonObject(r)["nonce"] as? String)
        let submit = [
            "rekey", "submit", "-a", server.address, "--nonce", nonce, files.hex[0], "--out-dir", dir.file("new"),
        ]
        r = try await Self.onTerminal(submit, answer: "n", environment: gpg.environment)
        #expect(r.status == 1, "\(r.stdoutText)")
        #expect(r.stdoutText.contains("new shares: 2, of which 2 unseal"), "\(r.stdoutText)")
        #expect(
            r.stdoutText.lowercased().contains(dave.fingerprint.lowercased())
                && r.stdoutText.lowercased().contains(erin.fingerprint.lowercased()), "\(r.stdoutText)")
        #expect(r.stdoutText.contains("progress: 0 of 2"))
        #expect(r.stdoutText.contains("not confirmed; nothing was sent"))
        r = try await Keyturn.launch(["rekey", "status", "-a", server.address, "--format", "json"])
        #expect(try jsonObject(r)["progress"] as? Int == 0)
        r = try await Self.onTerminal(submit, answer: "y", environment: gpg.environment)
        #expect(r.status == 0, "\(r.stdoutText)")
        r = try await Keyturn.launch(["rekey", "status", "-a", server.address, "--format", "json"])
        #expect(try jsonObject(r)["progress"] as? Int == 1)
    }
}
