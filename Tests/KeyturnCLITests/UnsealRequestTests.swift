import Foundation
import KeyturnTestSupport
import Testing

@Suite("secrets stay off argv and out of dumps")
struct SecretHygieneTests {
    // That keyturn is not dumpable is shown from outside by DumpabilityTests (ptrace and
    // /proc/PID/environ refused to a process of its user): a core-size limit of 0 read here
    // would prove nothing, since many systems set it anyway.
    @Test("while unseal waits on a silent node, no process's cmdline holds the share")
    func noShareInProcessList() async throws {
        let stub = try StubServer("silent")
        let dir = try TemporaryDirectory()
        let share = String(repeating: "5a", count: 33)
        let file = try dir.write("k.key", text: share + "\n")
        async let running = Keyturn.launch(["unseal", "-a", stub.address, "--timeout", "4", file])
        try await Task.sleep(nanoseconds: 1_500_000_000)
        var seen = 0
        var keyturnPIDs: [String] = []
        for (pid, text) in processCommandLines() {
            seen += 1
            #expect(!text.contains(share), "process \(pid) has the share on its command line")
            if text.hasPrefix(Keyturn.path + " unseal") { keyturnPIDs.append(pid) }
        }
        #expect(seen > 5)
        #expect(!keyturnPIDs.isEmpty, "keyturn unseal was not running")
        let r = try await running
        #expect(r.status == 2)
        withExtendedLifetime(stub) {}
    }
}

@Suite("keyturn unseal request body")
struct UnsealRequestTests {
    @Test("--migrate reaches sys/unseal with the share; --passphrase-fd reads the passphrase from an open descriptor")
    func migrateAndPassphraseFD() async throws {
        let dir = try TemporaryDirectory()
        let stub = try StubServer("init", [dir.file("body.json")])
        let share = String(repeating: "3c", count: 33)
        let file = try dir.write("k.key", text: share + "\n")
        let r = try await Keyturn.launch(["unseal", "-a", stub.address, "--migrate", file])
        #expect(r.status == 0, "\(r.stderr)")
        let body = try #require(
            try JSONSerialization.jsonObject(with: Data(readBytes(dir.file("body.json")) ?? [])) as? [String: Any])
        #expect(body["key"] as? String == share)
        #expect(body["migrate"] as? Bool == true)

        // The same share encrypted to a key with a passphrase, the passphrase on descriptor 3.
        let gpg = try TestGPG()
        let alice = try gpg.makeKey("alice", passphrase: "fd secret")
        let encrypted = try dir.write("k.asc", try gpg.encrypt(share, to: alice))
        let pass = try dir.write("pass", text: "fd secret\n")
        var env = ProcessInfo.processInfo.environment.filter {
            !$0.key.hasPrefix("VAULT_") && !$0.key.hasPrefix("BAO_")
        }
        env.merge(gpg.environment) { $1 }
        try FileManager.default.removeItem(atPath: dir.file("body.json"))
        let viaFD = try await Processes.launch(
            "/bin/sh",
            [
                "-c", "exec \"$0\" unseal -a \"$1\" --passphrase-fd 3 \"$2\" 3< \"$3\"", Keyturn.path, stub.address,
                encrypted, pass,
            ], environment: env)
        #expect(viaFD.status == 0, "\(viaFD.stderr)")
        // The share sent is the one decrypted with the passphrase from descriptor 3.
        let fdBody = try #require(
            try JSONSerialization.jsonObject(with: Data(readBytes(dir.file("body.json")) ?? [])) as? [String: Any])
        #expect(fdBody["key"] as? String == share)
        #expect(fdBody["migrate"] == nil)
        withExtendedLifetime(stub) {}
    }
}
