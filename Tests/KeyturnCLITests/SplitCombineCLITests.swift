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
    @Test("split writes n 0600 files of one hex line each; every 3 of 5 combine to the secret")
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
            let text = try #require(readBytes(f))
            #expect(text.count == 2 * 1001 + 1 && text.last == 0x0a)
            #expect(text.dropLast().allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) })
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
        let a = String(decoding: try #require(readBytes(dir.file("s/share-1.share"))), as: UTF8.self)
            .trimmingCharacters(in: .newlines)
        let b = String(decoding: try #require(readBytes(dir.file("s/share-2.share"))), as: UTF8.self)
            .trimmingCharacters(in: .newlines)
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
        #expect(v.stdoutText.range(of: #"^\d+\.\d+\.\d+\n$"#, options: .regularExpression) != nil)
    }
}

@Suite("keyturn split and combine on bad input")
struct SplitCombineBadInputTests {
    static let badCounts: [([String], String)] = [
        (["--threshold", "4", "--shares", "3"], "cannot be larger than the number of shares"),
        (["--threshold", "1", "--shares", "3"], "threshold must be at least 2"),
        (["--threshold", "0", "--shares", "3"], "threshold must be at least 2"),
        (["--threshold", "-1", "--shares", "3"], "threshold"),
        (["--threshold", "3", "--shares", "256"], "between 1 and 255"),
        (["--threshold", "256", "--shares", "256"], "between 1 and 255"),
        (["--threshold", "2", "--shares", "0"], "between 1 and 255"),
        (["--threshold", "x", "--shares", "3"], "threshold"),
        (["--shares", "3"], "threshold"),
        (["--threshold", "2"], "shares"),
    ]

    @Test("every invalid k/n exits 1 with one line and creates nothing", arguments: badCounts)
    func invalidCounts(_ args: [String], _ fragment: String) throws {
        let dir = try TemporaryDirectory()
        let r = try Keyturn.run(["split", "--no-pgp", "--out-dir", dir.file("out")] + args + ["-"], stdin: [1, 2, 3])
        expectOneLineError(r, mentioning: fragment)
        #expect(dir.listing().isEmpty)
    }

    @Test("split needs --pgp-keys or --no-pgp, and writes nothing without them")
    func needsAMode() throws {
        let dir = try TemporaryDirectory()
        let r = try Keyturn.run(
            ["split", "--threshold", "2", "--shares", "3", "--out-dir", dir.file("out"), "-"], stdin: [1])
        expectOneLineError(r, mentioning: "--pgp-keys")
        #expect(dir.listing().isEmpty)
    }

    @Test("a missing, empty, directory or unreachable input exits 1 and leaves no directory behind")
    func badSecretInputs() throws {
        let dir = try TemporaryDirectory()
        try dir.write("empty", [])
        try dir.write("plain", [1])
        let cases: [(String, String)] = [
            (dir.file("missing"), "does not exist"),
            (dir.file("empty"), "is empty"),
            (dir.path, "is a directory"),
            (dir.file("plain/x"), "cannot read"),
        ]
        for (input, fragment) in cases {
            let r = try Keyturn.run([
                "split", "--threshold", "2", "--shares", "3", "--no-pgp", "--out-dir", dir.file("out"), input,
            ])
            expectOneLineError(r, mentioning: fragment)
            #expect(dir.listing() == ["empty", "plain"], "after \(input)")
        }
        let r = try Keyturn.run(
            ["split", "--threshold", "2", "--shares", "3", "--no-pgp", "--out-dir", dir.file("out"), "-"], stdin: [])
        expectOneLineError(r, mentioning: "is empty")
        #expect(dir.listing() == ["empty", "plain"])
    }

    @Test("an out-dir that is a file, or a share file that exists, is refused and nothing is overwritten")
    func existingOutputs() throws {
        let dir = try TemporaryDirectory()
        let file = try dir.write("file", text: "keep")
        expectOneLineError(
            try Keyturn.run(
                ["split", "--threshold", "2", "--shares", "3", "--no-pgp", "--out-dir", file, "-"], stdin: [1]),
            mentioning: "is not a directory")
        try FileManager.default.createDirectory(atPath: dir.file("out"), withIntermediateDirectories: false)
        try dir.write("out/share-2.share", text: "precious")
        let r = try Keyturn.run(
            ["split", "--threshold", "2", "--shares", "3", "--no-pgp", "--out-dir", dir.file("out"), "-"], stdin: [1])
        expectOneLineError(r, mentioning: "share-2.share already exists")
        #expect(dir.listing() == ["file", "out", "out/share-2.share"])
        #expect(readBytes(dir.file("out/share-2.share")) == Array("precious".utf8))
    }

    /// Three good shares of a 16-byte secret in `dir/s`.
    func makeShares(_ dir: TemporaryDirectory) throws -> [String] {
        let r = try Keyturn.run(
            ["split", "--threshold", "2", "--shares", "3", "--no-pgp", "--out-dir", dir.file("s"), "-"],
            stdin: randomBytes(16))
        #expect(r.status == 0)
        return (1...3).map { dir.file("s/share-\($0).share") }
    }

    @Test("combine refuses bad share files with exit 1, one line, no output and no file")
    func badShareFiles() throws {
        let dir = try TemporaryDirectory()
        let good = try makeShares(dir)
        let text = String(decoding: try #require(readBytes(good[1])), as: UTF8.self).trimmingCharacters(in: .newlines)
        let short = try dir.write("short", text: String(text.dropFirst(2)) + "\n")
        let odd = try dir.write("odd", text: String(text.dropFirst()) + "\n")
        let tiny = try dir.write("tiny", text: "ab\n")
        let empty = try dir.write("empty", [])
        var chars = Array(text)
        chars[5] = "z"
        let nonHex = try dir.write("nonhex", text: String(chars) + "\n")
        let copy = try dir.write("copy", text: text + "\n")
        let open = try dir.write("open", text: text + "\n", mode: 0o644)
        let pgp = try dir.write("pgp", text: "-----BEGIN PGP MESSAGE-----\n\nhQ==\n-----END PGP MESSAGE-----\n")
        var zeroX = Array(text)
        zeroX[zeroX.count - 2] = "0"; zeroX[zeroX.count - 1] = "0"
        let zero = try dir.write("zero", text: String(zeroX) + "\n")
        let cases: [([String], String)] = [
            ([good[0], short], "lengths differ"),
            ([good[0], odd], "is not a share"),
            ([good[0], tiny], "is not a share"),
            ([good[0], empty], "is not a share"),
            ([good[0], nonHex], "not hex"),
            ([good[0], good[0]], "same share"),
            ([good[1], copy], "same share"),
            ([good[0], open], "readable by group or others"),
            ([good[0], pgp], "cannot decrypt"),
            ([good[0], zero], "x-coordinate 0"),
            ([good[0], dir.file("missing")], "does not exist"),
            ([good[0], dir.path], "is a directory"),
            ([good[0]], "at least two share files"),
            ([], "at least two share files"),
        ]
        let before = dir.listing()
        for (files, fragment) in cases {
            let r = try Keyturn.run(["combine", "--output", dir.file("secret.out")] + files)
            expectOneLineError(r, mentioning: fragment)
            let s = try Keyturn.run(["combine"] + files)
            expectOneLineError(s, mentioning: fragment)
            #expect(s.stdout.isEmpty, "stdout written for \(fragment)")
            #expect(dir.listing() == before, "files left behind for \(fragment)")
        }
    }

    @Test("combine never overwrites --output")
    func combineKeepsExistingOutput() throws {
        let dir = try TemporaryDirectory()
        let good = try makeShares(dir)
        let existing = try dir.write("secret.out", text: "keep")
        let r = try Keyturn.run(["combine", "--output", existing, good[0], good[1]])
        expectOneLineError(r, mentioning: "already exists")
        #expect(readBytes(existing) == Array("keep".utf8))
    }

    @Test("an unknown option or subcommand is a one-line usage error with exit 1")
    func usageErrors() throws {
        expectOneLineError(
            try Keyturn.run(["split", "--threshold", "2", "--shares", "3", "--no-pgp", "--out-dir", "x", "--bogus"]),
            mentioning: "bogus")
        expectOneLineError(try Keyturn.run(["frobnicate"]), mentioning: "frobnicate")
    }
}
