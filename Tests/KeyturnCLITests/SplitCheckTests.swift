import Foundation
import KeyturnTestSupport
import Testing

/// The k-subsets of 0..<n.
func subsets(_ n: Int, _ k: Int) -> [[Int]] {
    guard k > 0 else { return [[]] }
    guard n >= k else { return [] }
    return subsets(n - 1, k - 1).map { $0 + [n - 1] } + subsets(n - 1, k)
}

@Suite("shares that know when they are wrong: keyturn split's check line and digest")
struct SplitCheckTests {
    @Test(
        "2 of a 3-of-5 split, shares of two splits, a share with one changed hex digit: exit 1, nothing written",
        arguments: [1, 32, 4096])
    func wrongSharesAreRefused(_ length: Int) async throws {
        let dir = try TemporaryDirectory()
        let secret = try dir.write("secret", randomBytes(length))
        for out in ["a", "b"] {
            let r = try await Keyturn.launch(
                ["split", "--threshold", "3", "--shares", "5", "--no-pgp", "--out-dir", dir.file(out), secret])
            #expect(r.status == 0, "\(r.stderr)")
        }
        let a = (1...5).map { dir.file("a/share-\($0).share") }
        let b = (1...5).map { dir.file("b/share-\($0).share") }
        let text = String(decoding: try #require(readBytes(a[1])), as: UTF8.self)
        var changed = Array(text.utf8)
        changed[0] = changed[0] == UInt8(ascii: "0") ? UInt8(ascii: "1") : UInt8(ascii: "0")
        let corrupt = try dir.write("corrupt.share", changed)
        let cases: [([String], String)] = [
            ([a[0], a[1]], "this split needs 3 of its 5"),
            ([a[0], b[1], a[2]], "shares of two different splits"),
            ([a[0], corrupt, a[2]], length < 20 ? "was changed since it was split" : "do not recombine"),
        ]
        for (files, fragment) in cases {
            let toStdout = try await Keyturn.launch(["combine"] + files)
            #expect(toStdout.status == 1 && toStdout.stdout.isEmpty, "\(files): \(toStdout.stderr)")
            expectOneLineError(toStdout, mentioning: fragment)
            let toFile = try await Keyturn.launch(["combine", "--output", dir.file("out.bin")] + files)
            #expect(toFile.status == 1, "\(files): \(toFile.stderr)")
            #expect(!FileManager.default.fileExists(atPath: dir.file("out.bin")))
        }
        // Every 3-subset still recombines, to the secret.
        for s in subsets(5, 3) {
            let r = try await Keyturn.launch(["combine"] + s.map { a[$0] })
            #expect(r.status == 0 && r.stdout == readBytes(secret), "\(s): \(r.stderr)")
        }
    }

    @Test("a 64 MiB secret: three shares recombine it; two shares and a doctored threshold are refused")
    func largeSecret() async throws {
        let dir = try TemporaryDirectory()
        let random = try #require(FileHandle(forReadingAtPath: "/dev/urandom"))
        let secret = try dir.write("secret", [UInt8](random.readData(ofLength: 64 << 20)))
        var r = try await Keyturn.launch(
            ["split", "--threshold", "3", "--shares", "5", "--no-pgp", "--out-dir", dir.file("s"), secret])
        #expect(r.status == 0, "\(r.stderr)")
        let shares = (1...5).map { dir.file("s/share-\($0).share") }
        r = try await Keyturn.launch(["combine", "--output", dir.file("back"), shares[4], shares[0], shares[2]])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(readBytes(dir.file("back")) == readBytes(secret))
        // A check line edited to claim a threshold of 2 does not fool the digest.
        for i in [0, 1] {
            var text = try #require(readBytes(shares[i]))
            let tail = String(decoding: text.suffix(120), as: UTF8.self).replacingOccurrences(
                of: " k=3 ", with: " k=2 ")
            text.removeLast(120)
            text += Array(tail.utf8)
            _ = try dir.write("k2-\(i).share", text)
        }
        r = try await Keyturn.launch([
            "combine", "--output", dir.file("two"), dir.file("k2-0.share"), dir.file("k2-1.share"),
        ])
        #expect(r.status == 1 && r.stderr.contains("do not recombine"), "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir.file("two")))
    }
}
