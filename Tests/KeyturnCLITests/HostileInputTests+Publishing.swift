import Foundation
import KeyturnTestSupport
import Testing

// A signal while a batch of files is put in place, and a one-shot answer that is not what a
// server may send: nothing half-written either way.
extension HostileInputTests {
    @Test("SIGTERM the moment split's first share file is in place: all five shares or none, never some")
    func signalWhilePublishing() async throws {
        let dir = try TemporaryDirectory()
        let secret = try dir.write("big", [UInt8](repeating: 0x5a, count: 16 << 20))
        let script = """
            import os, signal, subprocess, sys
            out = sys.argv[3]
            p = subprocess.Popen([sys.argv[1], "split", "--no-pgp", "--threshold", "2", "--shares", "5", "--out-dir", out,
                                  sys.argv[2]], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            while not os.path.exists(out + "/share-1.share") and p.poll() is None:
                pass
            p.send_signal(signal.SIGTERM)
            p.wait()
            left = sorted(os.listdir(out)) if os.path.isdir(out) else []
            print(p.returncode, len(left), p.stderr.read().decode().strip())
            """
        let r = try Processes.run("/usr/bin/python3", ["-c", script, Keyturn.path, secret, dir.file("out")])
        // The signal came before the first link (killed: nothing), while linking (held: every file
        // removed again, exit 143), or after the last (all five; exit 0, or killed when the signal
        // lands once the handlers are given back, as a loaded CI machine once saw): never some.
        let outcome = r.stdoutText.split(separator: " ").prefix(2).joined(separator: " ")
        #expect(["-15 0", "143 0", "0 5", "-15 5"].contains(outcome), "\(r.stdoutText) \(r.stderr)")
    }

    @Test("init --client-side-encryption against a server answering the same share three times: nothing written")
    func hostileInitAnswer() async throws {
        let gpg = try TestGPG()
        let (alice, bob, carol) = try gpg.makeOperators()
        let dir = try TemporaryDirectory()
        let stub = try StubServer("init-same", [dir.file("asked")])
        let r = try await Keyturn.launch(
            [
                "init", "-a", stub.address, "--client-side-encryption", "--out-dir", dir.file("out"), "--pgp-keys",
                [alice, bob, carol].map(\.armouredFile).joined(separator: ","),
            ], environment: gpg.environment)
        #expect(r.status != 0 && r.stderr.contains("the same share twice"), "\(r.stderr)")
        #expect((try? FileManager.default.contentsOfDirectory(atPath: dir.file("out")))?.isEmpty ?? true)
        withExtendedLifetime(stub) {}
    }
}
