import Foundation
import KeyturnTestSupport
import Testing

/// An initialised node's shares written as 0600 files, hex (`k0.key`...) and base64 (`b0.key`...).
func writeShareFiles(
    _ dir: TemporaryDirectory, hex: [String], base64: [String] = []
) throws -> (hex: [String], base64: [String]) {
    let h = try hex.enumerated().map { try dir.write("k\($0.offset).key", text: $0.element + "\n") }
    let b = try base64.enumerated().map { try dir.write("b\($0.offset).key", text: $0.element + "\n") }
    return (h, b)
}

/// A three-node cluster initialised with 3 shares (threshold 2), then restarted: every node
/// sealed, initialised. Returns it with the shares as 0600 files and `-a` arguments for all.
func restartedSealedCluster(
    _ dir: TemporaryDirectory
) async throws -> (cluster: OpenBaoCluster, files: [String], all: [String]) {
    let cluster = try await OpenBaoCluster.start(3)
    let keys = try await cluster.initializeAndUnseal(shares: 3, threshold: 2)
    for node in cluster.nodes { try await node.restart() }
    let files = try writeShareFiles(dir, hex: keys).hex
    return (cluster, files, cluster.addresses.flatMap { ["-a", $0] })
}

/// `keyturn unseal --format json`'s nodes.
func unsealNodes(_ r: ProcessResult) throws -> [[String: Any]] {
    try statusNodes(r)
}

/// Runs `keyturn unseal -a address` on a terminal (python's pty gives it a controlling
/// terminal) and types `share` at its prompt; stdout is everything the terminal showed.
func unsealOnTerminal(
    _ address: String, typing share: String, environment: [String: String] = [:], binary: String = Keyturn.path
) async throws -> ProcessResult {
    let script = """
        import os, pty, signal, sys, time
        signal.alarm(30)  # never hang the suite
        pid, fd = pty.fork()
        if pid == 0:
            os.execv(sys.argv[1], [sys.argv[1], "unseal", "-a", sys.argv[2]])
        out = b""
        while b"hidden" not in out:
            out += os.read(fd, 1024)
        os.write(fd, sys.argv[3].encode() + b"\\n")
        while True:
            try:
                chunk = os.read(fd, 1024)
            except OSError:
                break
            if not chunk:
                break
            out += chunk
        _, status = os.waitpid(pid, 0)
        sys.stdout.write(out.decode(errors="replace"))
        sys.exit(os.waitstatus_to_exitcode(status))
        """
    var env = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("VAULT_") && !$0.key.hasPrefix("BAO_") }
    env.merge(environment) { $1 }
    return try await Processes.launch(
        try #require(Processes.which("python3")), ["-c", script, binary, address, share], environment: env)
}

@Suite("keyturn unseal against one real OpenBao node")
struct UnsealSingleNodeTests {
    /// A node initialised with 3 shares, threshold 2; returns its keys (hex and base64).
    func initialised() async throws -> (OpenBaoServer, [String], [String]) {
        let server = try await OpenBaoServer.start()
        let (status, json) = try await server.call("PUT", "sys/init", ["secret_shares": 3, "secret_threshold": 2])
        #expect(status == 200)
        return (server, json["keys"] as? [String] ?? [], json["keys_base64"] as? [String] ?? [])
    }

    @Test("a hex file, then base64 on stdin, unseal the node; a third run skips it; progress and nonce are shown")
    func unsealsWithFilesAndStdin() async throws {
        let (server, keys, keys64) = try await initialised()
        defer { server.stop() }
        let dir = try TemporaryDirectory()
        let files = try writeShareFiles(dir, hex: keys, base64: keys64)

        var r = try await Keyturn.launch(["unseal", "-a", server.address, files.hex[0], "--format", "json"])
        #expect(r.status == 0, "\(r.stderr)")
        let node = try unsealNodes(r)[0]
        #expect(node["result"] as? String == "accepted")
        #expect(node["progress"] as? Int == 1 && node["t"] as? Int == 2)
        #expect((node["nonce"] as? String)?.isEmpty == false)

        r = try await Keyturn.launch(["unseal", "-a", server.address, "-"], stdin: Array((keys64[2] + "\n").utf8))
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdoutText.contains("unsealed"))
        #expect(try await server.sealStatus()["sealed"] as? Bool == false)

        r = try await Keyturn.launch(["unseal", "-a", server.address, files.hex[1]])
        #expect(r.status == 0)
        #expect(r.stdoutText.contains("already unsealed"))
    }

    @Test("--reset discards the progress of an unfinished unseal")
    func reset() async throws {
        let (server, keys, _) = try await initialised()
        defer { server.stop() }
        let dir = try TemporaryDirectory()
        let files = try writeShareFiles(dir, hex: keys)
        _ = try await Keyturn.launch(["unseal", "-a", server.address, files.hex[0]])
        #expect(try await server.sealStatus()["progress"] as? Int == 1)
        let r = try await Keyturn.launch(["unseal", "-a", server.address, "--reset"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdoutText.contains("reset"))
        #expect(try await server.sealStatus()["progress"] as? Int == 0)
        // On an unsealed node there is nothing to discard: "already unsealed", exit 0 (the soak
        // found Vault's refusal, "vault is unsealed", reported as a failure, exit 2).
        for share in [files.hex[1], files.hex[2]] {
            _ = try await Keyturn.launch(["unseal", "-a", server.address, share])
        }
        let unsealed = try await Keyturn.launch(["unseal", "-a", server.address, "--reset"])
        #expect(unsealed.status == 0, "\(unsealed.stderr)")
        #expect(unsealed.stdoutText.contains("already unsealed"), "\(unsealed.stdoutText)")
    }

    @Test("a wrong share at the threshold: exit 2, and the message says the progress was reset")
    func wrongShareResetsProgress() async throws {
        let (server, keys, _) = try await initialised()
        defer { server.stop() }
        let dir = try TemporaryDirectory()
        let files = try writeShareFiles(dir, hex: keys)
        let forged = try dir.write("forged.key", text: String(repeating: "ab", count: 32) + "01\n")
        _ = try await Keyturn.launch(["unseal", "-a", server.address, files.hex[0]])
        let r = try await Keyturn.launch(["unseal", "-a", server.address, forged])
        #expect(r.status == 2)
        #expect(r.stderrLines.first?.contains("reset its unseal progress") == true, "\(r.stderr)")
        #expect(r.stderr.contains("submit their share again"))
        #expect(try await server.sealStatus()["progress"] as? Int == 0)
    }

    @Test(
        "local refusals send nothing: a share on argv, wrong length, open permissions, garbage, empty, PGP, no terminal"
    )
    func localRefusals() async throws {
        let (server, keys, keys64) = try await initialised()
        defer { server.stop() }
        let dir = try TemporaryDirectory()
        let files = try writeShareFiles(dir, hex: keys)
        _ = try await Keyturn.launch(["unseal", "-a", server.address, files.hex[0]])
        let nonce = try await server.sealStatus()["nonce"] as? String

        let cases: [([String], [UInt8]?, String, Int32)] = [
            ([keys[1]], nil, "refusing a share given on the command line", 1),
            ([keys64[1]], nil, "refusing a share given on the command line", 1),
            ([try dir.write("short.key", text: String(repeating: "ab", count: 20) + "\n")], nil, "is 20 bytes, but", 1),
            ([try dir.write("long.key", text: String(repeating: "ab", count: 40) + "\n")], nil, "is 40 bytes long", 1),
            ([try dir.write("raw.key", text: String(repeating: "ab", count: 32) + "\n")], nil, "is 32 bytes, but", 1),
            ([try dir.write("open.key", text: keys[1] + "\n", mode: 0o644)], nil, "readable by group or others", 1),
            ([try dir.write("garbage.key", text: "this is not a share\n")], nil, "does not hold a share", 1),
            ([try dir.write("empty.key", text: "\n")], nil, "holds no share", 1),
            (
                [try dir.write("pgp.key", text: "-----BEGIN PGP MESSAGE-----\n\nwcBMA\n-----END PGP MESSAGE-----\n")],
                nil, "cannot decrypt", 1
            ),
            ([dir.file("missing.key")], nil, "does not exist", 1),
            (["-"], [], "holds no share", 1),
            ([], nil, "no share given and no terminal", 1),
        ]
        for (args, stdin, fragment, status) in cases {
            // setsid -w: a new session without a controlling terminal, so /dev/tty cannot be opened.
            let r = try await Processes.launch(
                "/usr/bin/setsid", ["-w", Keyturn.path, "unseal", "-a", server.address] + args, stdin: stdin ?? [])
            expectOneLineError(r, status: status, mentioning: fragment)
        }
        let after = try await server.sealStatus()
        #expect(after["progress"] as? Int == 1, "a refused share must not reach the server")
        #expect(after["nonce"] as? String == nonce)
    }

    @Test("on a terminal the share is read without echo and never shows on screen")
    func promptWithoutEcho() async throws {
        let (server, keys, _) = try await initialised()
        defer { server.stop() }
        let r = try await unsealOnTerminal(server.address, typing: keys[0])
        #expect(r.status == 0, "\(r.stdoutText)")
        #expect(r.stdoutText.contains("Unseal key share (will be hidden):"))
        #expect(r.stdoutText.contains("accepted"))
        #expect(!r.stdoutText.contains(keys[0]), "the share was echoed")
        #expect(try await server.sealStatus()["progress"] as? Int == 1)
    }
}

@Suite("keyturn unseal against a three-node raft cluster")
struct UnsealClusterTests {
    @Test("after a restart, two operators unseal all three nodes at once; status --wait then exits 0")
    func unsealAfterRestart() async throws {
        let dir = try TemporaryDirectory()
        let (cluster, files, addresses) = try await restartedSealedCluster(dir)
        defer { cluster.stop() }

        var r = try await Keyturn.launch(["unseal", "--format", "json"] + addresses + [files[2]])
        #expect(r.status == 0, "\(r.stdoutText) \(r.stderr)")
        #expect(try unsealNodes(r).map { $0["result"] as? String } == ["accepted", "accepted", "accepted"])
        r = try await Keyturn.launch(["unseal", "--format", "json"] + addresses + [files[0]])
        #expect(r.status == 0, "\(r.stdoutText) \(r.stderr)")
        let results = try unsealNodes(r).compactMap { $0["result"] as? String }
        #expect(results.allSatisfy { $0 == "unsealed" || $0 == "joining" }, "\(results)")
        let s = try await Keyturn.launch(["status", "--wait", "60"] + addresses)
        #expect(s.status == 0, "\(s.stdoutText) \(s.stderr)")
    }

    @Test("an unreachable node among three: the others take the share, exit 2")
    func unreachableNode() async throws {
        let cluster = try await OpenBaoCluster.start(3)
        defer { cluster.stop() }
        let keys = try await cluster.initializeAndUnseal(shares: 3, threshold: 2)
        for node in cluster.nodes.prefix(2) { try await node.restart() }
        cluster.nodes[2].stop()
        let dir = try TemporaryDirectory()
        let files = try writeShareFiles(dir, hex: keys)
        let r = try await Keyturn.launch(
            ["unseal", "--format", "json", "--timeout", "2"] + cluster.addresses.flatMap { ["-a", $0] } + [files.hex[1]]
        )
        #expect(r.status == 2)
        let nodes = try unsealNodes(r)
        #expect(nodes[0]["result"] as? String == "accepted" && nodes[1]["result"] as? String == "accepted")
        #expect((nodes[2]["error"] as? String)?.contains("unreachable") == true)
    }
}
