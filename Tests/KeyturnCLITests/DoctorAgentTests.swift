import Foundation
import KeyturnTestSupport
import Testing

/// `keyturn doctor` and the gpg-agent that is running: the one gpg starts, and one of another
/// version left running across an upgrade (a stub on the agent's socket: no old agent is
/// installed here).
@Suite("doctor: the running gpg-agent's version (real gpg; a stub stands in for an old agent)")
struct DoctorAgentTests {
    @Test(
        """
        the agent gpg starts is an ok line with its version; an agent of another version on the socket is a warning \
        with the restart hint
        """
    )
    func agentVersion() async throws {
        let gpg = try TestGPG()
        let env = gpg.environment
        let dead = "http://127.0.0.1:\(try freeLoopbackPort())"
        let version = try gpg.gpg(["--version"]).stdoutText.split(separator: "\n").first?.split(separator: " ").last
        let tools = ["gpgconf", "gpg-connect-agent"].map { Processes.which($0) ?? "/usr/bin/\($0)" }
        _ = try Processes.run(tools[1], ["/bye"], environment: env)
        var r = try await Keyturn.launch(["doctor", "-a", dead, "--for", "unseal"], environment: env)
        let agentLine = { (r: ProcessResult) in r.stdoutText.split(separator: "\n").first { $0.contains(" gpg-agent ") }
        }
        #expect(agentLine(r)?.hasPrefix("ok ") == true, "\(r.stdoutText)")
        #expect(agentLine(r)?.contains("gpg-agent \(version ?? "?") running") == true, "\(r.stdoutText)")

        _ = try Processes.run(tools[0], ["--kill", "gpg-agent"], environment: env)
        let socket = try Processes.run(tools[0], ["--list-dirs", "agent-socket"], environment: env).stdoutText
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let old = try StubServer("old-agent", [socket, "2.1.11"])
        r = try await Keyturn.launch(["doctor", "-a", dead, "--for", "unseal"], environment: env)
        #expect(agentLine(r)?.hasPrefix("warn ") == true, "\(r.stdoutText)")
        #expect(
            agentLine(r)?.contains("gpg-agent 2.1.11 is running, gpg is \(version ?? "?")") == true, "\(r.stdoutText)")
        #expect(r.stdoutText.contains("hint: restart it (gpgconf --kill gpg-agent)"), "\(r.stdoutText)")
        withExtendedLifetime(old) {}
    }

    @Test(
        "something on the agent's socket that accepts and never answers: doctor ends (a fail line, exit 1), not hangs")
    func agentHangs() async throws {
        let gpg = try TestGPG()
        let env = gpg.environment
        let bob = try gpg.makeKey("bob")  // before the stub takes the socket: gpg would wait on it
        let gpgconf = Processes.which("gpgconf") ?? "/usr/bin/gpgconf"
        _ = try Processes.run(gpgconf, ["--kill", "gpg-agent"], environment: env)
        let socket = try Processes.run(gpgconf, ["--list-dirs", "agent-socket"], environment: env).stdoutText
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let silent = try StubServer("old-agent", [socket, "silent"])
        let dead = "http://127.0.0.1:\(try freeLoopbackPort())"
        let r = try await Keyturn.launch(
            ["doctor", "-a", dead, "--for", "unseal", "--pgp-keys", bob.armouredFile],
            environment: env)
        #expect(r.status == 2, "\(r.stdoutText)\(r.stderr)")  // the dead node; the agent alone would be 1
        #expect(
            r.stdoutText.contains("fail gpg") && r.stdoutText.contains("does not answer as an agent"), "\(r.stdoutText)"
        )
        withExtendedLifetime(silent) {}
    }
}

/// What lies where doctor looks without an agent: a FIFO where gpg-agent files a key, a socket
/// whose backlog is full (an agent frozen with callers queued).
@Suite("doctor: nothing on this machine makes it wait (a FIFO key file, a full agent socket)")
struct DoctorNoWaitTests {
    @Test(
        """
        a FIFO named as the key's file under private-keys-v1.d (no agent running): doctor reads only regular files \
        and ends; an agent socket whose backlog is full is a fail line, not 'not running'
        """
    )
    func noWait() async throws {
        let gpg = try TestGPG()
        let env = gpg.environment
        let bob = try gpg.makeKey("bob")
        let gpgconf = Processes.which("gpgconf") ?? "/usr/bin/gpgconf"
        _ = try Processes.run(gpgconf, ["--kill", "gpg-agent"], environment: env)
        let grips = try gpg.gpg(["--with-colons", "--with-keygrip", "-k", bob.fingerprint]).stdoutText
            .split(separator: "\n").filter { $0.hasPrefix("grp:") }.map {
                $0.split(separator: ":").last.map(String.init) ?? ""
            }
        for grip in grips {
            let file = "\(gpg.path)/private-keys-v1.d/\(grip).key"
            try? FileManager.default.removeItem(atPath: file)
            #expect(mkfifo(file, 0o600) == 0)
        }
        let dead = "http://127.0.0.1:\(try freeLoopbackPort())"
        let doctor = ["doctor", "-a", dead, "--for", "unseal", "--pgp-keys", bob.armouredFile]
        var r = try await Keyturn.launch(doctor, environment: env, killAfter: 60)
        #expect(r.status == 2, "\(r.stdoutText)\(r.stderr)")  // the dead node; nothing about the FIFO
        #expect(!r.stdoutText.contains(" token "), "\(r.stdoutText)")

        let socket = try Processes.run(gpgconf, ["--list-dirs", "agent-socket"], environment: env).stdoutText
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let full = try StubServer("old-agent", [socket, "full"])
        r = try await Keyturn.launch(doctor, environment: env, killAfter: 60)
        #expect(
            r.stdoutText.contains("fail gpg") && r.stdoutText.contains("does not answer as an agent"), "\(r.stdoutText)"
        )
        withExtendedLifetime(full) {}
    }
}
