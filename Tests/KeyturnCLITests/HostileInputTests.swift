import Foundation
import KeyturnTestSupport
import Testing

@testable import KeyturnCLI

@Suite("one holder at combine, a crafted file, a hostile server, a signal mid-write")
struct HostileInputTests {
    /// A 2-of-3 `split --no-pgp` of `secret` into `dir/out`.
    static func split(_ dir: TemporaryDirectory, _ secret: [UInt8]) async throws -> [String] {
        let input = try dir.write("secret", secret)
        let r = try await Keyturn.launch(
            ["split", "--no-pgp", "--threshold", "2", "--shares", "3", "--out-dir", dir.file("out"), input])
        #expect(r.status == 0, "\(r.stderr)")
        return (1...3).map { dir.file("out/share-\($0).share") }
    }

    @Test(
        """
        combine: a holder who changes a byte of their share and writes check=none, another kind of check, or \
        another k on its line, listed first, gets exit 1 and nothing on stdout; a share on argv is refused
        """
    )
    func forgedCheckLine() async throws {
        let dir = try TemporaryDirectory()
        let secret = (0..<64).map { UInt8($0) }
        let shares = try await Self.split(dir, secret)
        let text = String(decoding: try #require(readBytes(shares[0])), as: UTF8.self)
        var lines = text.split(separator: "\n").map(String.init)
        let first = lines[0]
        lines[0] = (first.first == "0" ? "1" : "0") + first.dropFirst()
        let checkLine = lines[1]
        let base = String(checkLine[..<(try #require(checkLine.range(of: " check=")).lowerBound)])
        for (name, line) in [
            ("none", base + " check=none"), ("sha256", base + " check=sha256:0011223344556677"),
            ("k", base.replacingOccurrences(of: " k=2", with: " k=3") + " check=digest"),
        ] {
            let forged = try dir.write("forged-\(name).share", text: [lines[0], line].joined(separator: "\n") + "\n")
            let r = try await Keyturn.launch(["combine", forged, shares[1]])
            #expect(r.status == 1 && r.stdout.isEmpty, "\(name): exit \(r.status), \(r.stdout.count) bytes out")
            #expect(r.stderrLines.first?.hasPrefix("keyturn: error: ") == true, "\(name): \(r.stderr)")
        }
        // A line removed from one share, the others keeping theirs.
        let bare = try dir.write("bare.share", text: lines[0] + "\n")
        var r = try await Keyturn.launch(["combine", bare, shares[1]])
        #expect(r.status == 1 && r.stdout.isEmpty && r.stderr.contains("no check line"), "\(r.stderr)")
        // Untouched shares still combine.
        r = try await Keyturn.launch(["combine", shares[0], shares[2]])
        #expect(r.status == 0 && r.stdout == secret, "\(r.stderr)")
        // A share typed as an argument (alone, with spaces, or with its check line): refused, not echoed.
        let hex = String(first.prefix(40))
        let colons = stride(from: 0, to: 40, by: 2).map { String(Array(hex)[$0..<($0 + 2)]) }.joined(separator: ":")
        let forms = [
            hex, " \(hex) ", lines[0] + "\n" + checkLine, String(hex.prefix(20)) + " " + String(hex.dropFirst(20)),
            "0x" + hex, colons,
        ]
        for argument in forms {
            r = try await Keyturn.launch(["combine", argument, shares[1]])
            #expect(r.status == 1 && r.stderr.contains("refusing a share given on the command line"), "\(r.stderr)")
            #expect(!r.stderr.contains(hex))
        }
    }

    @Test(
        """
        SIGTERM and SIGKILL while split --no-pgp waits on a slow pipe leave no file under any name; a directory \
        others can write to, and one that is a symbolic link, are refused
        """,
        arguments: ["TERM", "KILL"])
    func signalMidWrite(_ signal: String) async throws {
        let dir = try TemporaryDirectory()
        // More than one read's worth, so the share files are open when the signal comes.
        let script = """
            (head -c 3000000 /dev/urandom; sleep 20) | "$0" split --no-pgp --threshold 2 --shares 3 --out-dir "$1" - &
            sleep 2
            pkill -\(signal) -f -- "--out-dir $1"
            wait
            find "$1" -mindepth 1 2>/dev/null
            exit 0
            """
        let r = try Processes.run("/bin/bash", ["-c", script, Keyturn.path, dir.file("out")])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdoutText.isEmpty, "left behind after SIG\(signal): \(r.stdoutText)")

        let secret = try dir.write("s", (0..<32).map { UInt8($0) })
        var run = try await Keyturn.launch(["--version"])
        // Others, or the group: either can swap or remove what keyturn writes.
        for mode: mode_t in [0o777, 0o770] {
            let open = dir.file("open-\(String(mode, radix: 8))")
            mkdir(open, mode)
            chmod(open, mode)
            run = try await Keyturn.launch(
                ["split", "--no-pgp", "--threshold", "2", "--shares", "3", "--out-dir", open, secret])
            #expect(run.status == 1 && run.stderr.contains("can be written by others"), "\(run.stderr)")
        }
        let real = dir.file("real")
        mkdir(real, 0o700)
        symlink(real, dir.file("link"))
        run = try await Keyturn.launch(
            ["split", "--no-pgp", "--threshold", "2", "--shares", "3", "--out-dir", dir.file("link"), secret])
        #expect(run.status == 1 && run.stderr.contains("is a symbolic link"), "\(run.stderr)")
        #expect((try? FileManager.default.contentsOfDirectory(atPath: real))?.isEmpty == true)
    }

    @Test("a server answering t = Int.min to an unseal: one line naming the field, exit 2, no trap")
    func hostileServerNumbers() async throws {
        let dir = try TemporaryDirectory()
        let stub = try StubServer("hostile", [dir.file("asked")])
        let share = try dir.write("share", text: String(repeating: "6b", count: 33) + "\n")
        let r = try await Keyturn.launch(["unseal", "-a", stub.address, share])
        #expect(r.status == 2, "exit \(r.status): \(r.stderr)")
        #expect(r.stderr.contains("'t' is out of range"), "\(r.stderr)")
        withExtendedLifetime(stub) {}
    }

    @Test("a server's error holding terminal escapes and a newline reaches the terminal escaped, on one line")
    func hostileServerText() async throws {
        let stub = try StubServer("error-escape")
        let r = try await Keyturn.launch(["status", "-a", stub.address])
        let shown = r.stdoutText + r.stderr
        let bytes = [UInt8](shown.utf8)
        #expect(!bytes.contains(0x1B) && !bytes.contains(0x07) && !bytes.contains(0x0D), "\(shown)")
        #expect(!shown.split(separator: "\n").contains { $0.hasPrefix("keyturn: transcript signed by") }, "\(shown)")
        #expect(shown.contains("\\x1b]52"), "\(shown)")
        withExtendedLifetime(stub) {}
    }

    @Test("a server's version holding a newline and a fake row: status prints one row for the one node")
    func forgedRow() async throws {
        let stub = try StubServer("forged-row")
        let r = try await Keyturn.launch(["status", "-a", stub.address])
        let rows = r.stdoutText.split(separator: "\n")
        #expect(rows.count == 2 && !r.stdoutText.contains("\n127.0.0.1:8201"), "\(r.stdoutText)")
        #expect(!rows.contains { $0.hasPrefix("http://127.0.0.1:8201") }, "\(r.stdoutText)")
        withExtendedLifetime(stub) {}
    }

    @Test(
        """
        combine to stdout: a holder who changes their share file while the secret is written (after it was \
        checked) changes nothing: what was checked is what is written
        """
    )
    func combineCheckThenWrite() async throws {
        let dir = try TemporaryDirectory()
        var generator = SystemRandomNumberGenerator()
        let secret = (0..<(16 << 20)).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let shares = try await Self.split(dir, secret)
        let script = """
            import subprocess, sys
            p = subprocess.Popen(sys.argv[1:5], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
            first = p.stdout.read(1)
            with open(sys.argv[4], "r+b") as f:
                f.seek(2 * 10 * 1024 * 1024); c = f.read(1); f.seek(2 * 10 * 1024 * 1024)
                f.write(b"0" if c != b"0" else b"1")
            out = first + p.stdout.read()
            p.wait()
            print(p.returncode, out == open(sys.argv[5], "rb").read())
            """
        let r = try Processes.run(
            "/usr/bin/python3", ["-c", script, Keyturn.path, "combine", shares[0], shares[1], dir.file("secret")])
        // Either refused (exit 1: the change came before the check) or the secret itself: never another.
        #expect(r.stdoutText.hasPrefix("0 True") || r.stdoutText.hasPrefix("1 "), "\(r.stdoutText) \(r.stderr)")
    }

    @Test("ceremony records with generation Int.min: report refuses them in one line, exit 1, no trap")
    func hostileRecordNumbers() async throws {
        let dir = try TemporaryDirectory()
        let record: [String: Any] = [
            "address": "http://127.0.0.1:1", "time": "2026-01-01T00:00:00Z", "shares": 3, "threshold": 2,
            "encryption": "server", "share_files": [[String: Any]](), "generation": Int.min,
        ]
        let data = try JSONSerialization.data(withJSONObject: record)
        let a = try dir.write("a.json", [UInt8](data))
        let b = try dir.write("b.json", [UInt8](data))
        let r = try await Keyturn.launch(["report", "--manifest", a, "--manifest", b])
        #expect(r.status == 1, "exit \(r.status): \(r.stderr)")
        #expect(r.stderr.contains("out of range"), "\(r.stderr)")
    }

    @Test("keyturn status, which reads no share, cannot be traced or read by another process of its user either")
    func statusNotDumpable() async throws {
        let dir = try TemporaryDirectory()
        let asked = dir.file("stub-requests")
        let stub = try StubServer("silent", [asked])
        chmod(dir.path, 0o777)
        let keyturn = dir.file("keyturn")
        try FileManager.default.copyItem(atPath: Keyturn.path, toPath: keyturn)
        chmod(keyturn, 0o755)
        let (probed, run) = try await DumpabilityTests.probe(
            [keyturn, "status", "-a", stub.address, "--timeout", "20"], readyFile: asked, then: "kill")
        #expect(probed.alive, "keyturn had ended before the probe: \(run.stdoutText) \(run.stderr)")
        #expect(!probed.attach && !probed.environ, "status could be traced or read: \(run.stdoutText)")
        withExtendedLifetime(stub) {}
    }

    @Test("a share or a token for plain http at an address that is not loopback gets a warning; loopback does not")
    func plaintextHTTP() async throws {
        for remote in ["http://10.0.0.5:8200", "http://vault.example.org:8200", "HTTP://[2001:db8::1]:8200"] {
            #expect(Connection.isRemotePlaintext(remote), "\(remote)")
        }
        for local in [
            "http://127.0.0.1:8200", "http://127.3.4.5:1", "http://localhost:8200", "http://[::1]:8200",
            "https://vault.example.org:8200",
        ] {
            #expect(!Connection.isRemotePlaintext(local), "\(local)")
        }
        // End to end, on loopback only (this test sends nothing elsewhere): silent.
        let dir = try TemporaryDirectory()
        let stub = try StubServer("init", [dir.file("asked")])
        let share = try dir.write("share", text: String(repeating: "6b", count: 33) + "\n")
        let r = try await Keyturn.launch(["unseal", "-a", stub.address, share])
        #expect(!r.stderr.contains("plain http"), "\(r.stderr)")
        withExtendedLifetime(stub) {}
    }
}
