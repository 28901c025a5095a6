import Foundation
import KeyturnTestSupport
import Testing

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
        // Paths in messages are quoted, as age and Go's %q quote them.
        expectOneLineError(r, mentioning: "\"\(dir.file("out/share-2.share"))\" already exists")
        #expect(dir.listing() == ["file", "out", "out/share-2.share"])
        #expect(readBytes(dir.file("out/share-2.share")) == Array("precious".utf8))
    }

    /// Three good shares of a 16-byte secret in `dir/s`, in Vault's form (the share line alone,
    /// without keyturn-split's check line), so that each bad file below meets the check it is
    /// about rather than the check line's.
    func makeShares(_ dir: TemporaryDirectory) throws -> [String] {
        let r = try Keyturn.run(
            ["split", "--threshold", "2", "--shares", "3", "--no-pgp", "--out-dir", dir.file("s"), "-"],
            stdin: randomBytes(16))
        #expect(r.status == 0)
        return try (1...3).map { n in
            let text = String(decoding: try #require(readBytes(dir.file("s/share-\(n).share"))), as: UTF8.self)
            return try dir.write("vault-\(n).share", text: text.split(separator: "\n").map(String.init)[0] + "\n")
        }
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
