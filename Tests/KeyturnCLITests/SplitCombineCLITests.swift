import Foundation
import KeyturnTestSupport
import Testing

/// Every error keyturn prints is one `keyturn: error:` line, maybe one `keyturn: hint:` line.
func expectOneLineError(
    _ r: ProcessResult, status: Int32 = 1, mentioning fragment: String,
    sourceLocation: SourceLocation = #_sourceLocation
) {
    #expect(r.status == status, "exit \(r.status), stderr: \(r.stderr)", sourceLocation: sourceLocation)
    let lines = r.stderrLines
    #expect(lines.first?.hasPrefix("keyturn: error: ") == true, "stderr: \(r.stderr)", sourceLocation: sourceLocation)
    #expect(lines.count <= 2, "stderr: \(r.stderr)", sourceLocation: sourceLocation)
    if lines.count == 2 { #expect(lines[1].hasPrefix("keyturn: hint: "), sourceLocation: sourceLocation) }
    #expect(
        lines.first?.contains(fragment) == true, "wanted '\(fragment)' in: \(r.stderr)", sourceLocation: sourceLocation)
    #expect(!r.stderr.contains("Fatal error") && !r.stderr.contains("Stack"), sourceLocation: sourceLocation)
}

func randomBytes(_ count: Int) -> [UInt8] {
    var g = SystemRandomNumberGenerator()
    return (0..<count).map { _ in UInt8.random(in: 0...255, using: &g) }
}

@Suite("keyturn split and combine (no PGP)")
struct SplitCombineCLITests {
    @Test("split writes n 0600 files of a hex line and a check line each; every 3 of 5 combine to the secret")
    func roundTripEverySubset() throws {
        let dir = try TemporaryDirectory()
        let secret = randomBytes(1000)
        let r = try Keyturn.run(
            ["split", "--threshold", "3", "--shares", "5", "--no-pgp", "--out-dir", dir.file("out"), "-"], stdin: secret
        )
        #expect(r.status == 0, "\(r.stderr)")
        let files = (1...5).map { dir.file("out/share-\($0).share") }
        #expect(r.stdoutText == files.joined(separator: "\n") + "\n")
        #expect(fileMode(dir.file("out")) == 0o700)
        for f in files {
            #expect(fileMode(f) == 0o600)
            // The share's hex line (Vault's form), then keyturn-split's check line.
            let lines = String(decoding: try #require(readBytes(f)), as: UTF8.self).split(separator: "\n")
            #expect(lines.count == 2 && lines[0].count == 2 * 1001)
            #expect(lines[0].utf8.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) })
            #expect(lines[1].hasPrefix("keyturn-split v1 id=") && lines[1].hasSuffix(" k=3 n=5 check=digest"))
        }
        #expect(dir.listing().filter { $0.contains(".tmp") }.isEmpty)
        for subset in subsets(of: 5, size: 3) {
            let c = try Keyturn.run(["combine"] + subset.map { files[$0] })
            #expect(c.status == 0, "\(c.stderr)")
            #expect(c.stdout == secret, "subset \(subset)")
        }
    }

    @Test("a multi-megabyte secret from a file streams through and comes back via --output (0600)")
    func largeSecretWithOutputFile() throws {
        let dir = try TemporaryDirectory()
        let secret = randomBytes(3 << 20 + 12345)
        let input = try dir.write("secret.bin", secret)
        let r = try Keyturn.run([
            "split", "--threshold", "2", "--shares", "3", "--no-pgp", "--out-dir", dir.file("s"), input,
        ])
        #expect(r.status == 0, "\(r.stderr)")
        let c = try Keyturn.run([
            "combine", "--output", dir.file("back.bin"), dir.file("s/share-3.share"), dir.file("s/share-1.share"),
        ])
        #expect(c.status == 0, "\(c.stderr)")
        #expect(c.stdout.isEmpty)
        #expect(readBytes(dir.file("back.bin")) == secret)
        #expect(fileMode(dir.file("back.bin")) == 0o600)
    }

    @Test("memory stays flat: a 64 MiB split peaks within 16 MiB of a 1 MiB split")
    func memoryStaysFlat() throws {
        let dir = try TemporaryDirectory()
        func peakKiB(_ size: Int, _ name: String) throws -> Int {
            let input = try dir.write("\(name).bin", [UInt8](repeating: 0x5a, count: size))
            // Python's getrusage(RUSAGE_CHILDREN) sees only the keyturn process it ran.
            let script =
                "import resource,subprocess,sys; r=subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL); "
                + "print(r.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
            let r = try Processes.run(
                try #require(Processes.which("python3")),
                [
                    "-c", script, Keyturn.path, "split", "--threshold", "3", "--shares", "5", "--no-pgp", "--out-dir",
                    dir.file(name), input,
                ])
            let fields = r.stdoutText.split(separator: " ").compactMap {
                Int($0.trimmingCharacters(in: .whitespacesAndNewlines))
            }
            #expect(fields.first == 0, "\(r.stdoutText) \(r.stderr)")
            return fields.last ?? .max
        }
        let small = try peakKiB(1 << 20, "small"), large = try peakKiB(64 << 20, "large")
        #expect(large - small < 16 * 1024, "1 MiB: \(small) KiB, 64 MiB: \(large) KiB")
    }

    @Test("a 1-of-1 split writes the secret itself as hex, as Vault's 1-share init does")
    func oneOfOne() throws {
        let dir = try TemporaryDirectory()
        let r = try Keyturn.run(
            ["split", "--threshold", "1", "--shares", "1", "--no-pgp", "--out-dir", dir.path, "-"], stdin: [0xde, 0xad])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(readBytes(dir.file("share-1.share")) == Array("dead\n".utf8))
    }

    @Test("share files are numbered with zero padding so they sort")
    func zeroPaddedNames() throws {
        let dir = try TemporaryDirectory()
        let r = try Keyturn.run(
            ["split", "--threshold", "2", "--shares", "12", "--no-pgp", "--out-dir", dir.path, "-"], stdin: [1])
        #expect(r.status == 0)
        #expect(dir.listing() == (1...12).map { String(format: "share-%02d.share", $0) })
    }

    @Test("combine accepts Vault's upper-case or CRLF-terminated hex lines")
    func toleratesLineEndings() throws {
        let dir = try TemporaryDirectory()
        _ = try Keyturn.run(
            ["split", "--threshold", "2", "--shares", "2", "--no-pgp", "--out-dir", dir.file("s"), "-"],
            stdin: [7, 8, 9])
        // The share lines alone, as Vault gives its keys (no keyturn-split line).
        let a = String(decoding: try #require(readBytes(dir.file("s/share-1.share"))), as: UTF8.self)
            .split(separator: "\n").map(String.init)[0]
        let b = String(decoding: try #require(readBytes(dir.file("s/share-2.share"))), as: UTF8.self)
            .split(separator: "\n").map(String.init)[0]
        let c = try Keyturn.run([
            "combine", try dir.write("a", text: a.uppercased() + "\r\n"), try dir.write("b", text: b),
        ])
        #expect(c.status == 0, "\(c.stderr)")
        #expect(c.stdout == [7, 8, 9])
    }

    @Test("--help lists every subcommand with a summary; --version prints the version")
    func helpAndVersion() throws {
        let h = try Keyturn.run(["--help"])
        #expect(h.status == 0)
        #expect(h.stdoutText.contains("split") && h.stdoutText.contains("combine"))
        let v = try Keyturn.run(["--version"])
        #expect(v.status == 0)
        // The version and the commit it was built from (ShippedBinaryTests checks which).
        #expect(v.stdoutText.range(of: #"^\d+\.\d+\.\d+ \(.+\)\n$"#, options: .regularExpression) != nil)
    }
}
