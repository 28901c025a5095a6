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
