import Ceremony
import Foundation
import KeyturnFailure
import KeyturnTestSupport
import Shamir
import TLSMaterial
import Testing

@Suite("the Ceremony module's engines, without the CLI")
struct CeremonyTests {
    @Test("SplitRun writes n 0600 hex share files; CombineRun rebuilds the secret from any threshold of them")
    func splitAndCombine() throws {
        let dir = try TemporaryDirectory()
        let secret = (0..<5000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
        let input = try dir.write("secret", secret)
        let paths = try SplitRun(
            input: .file(input), outDir: dir.file("out"), threshold: 2, shares: 3, keyFiles: [],
            random: OpenSSLRandom()
        ).execute()
        #expect(
            paths.map { URL(fileURLWithPath: $0).lastPathComponent } == [
                "share-1.share", "share-2.share", "share-3.share",
            ])
        for p in paths { #expect(fileMode(p) == 0o600) }
        for pair in [[0, 1], [0, 2], [1, 2]] {
            var out: [UInt8] = []
            let length = try CombineRun(files: pair.map { paths[$0] }, output: nil, passphrase: .agent).execute {
                out += $0
                return true
            }
            #expect(length == secret.count && out == secret)
        }
    }

    @Test("the digest: a share changed in its middle makes CombineRun refuse the result, and hand out no byte of it")
    func digestRefusesChangedShare() throws {
        let dir = try TemporaryDirectory()
        let secret = (0..<(3 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 13 &+ 1) }
        let paths = try SplitRun(
            input: .file(try dir.write("secret", secret)), outDir: dir.file("out"), threshold: 2, shares: 3,
            keyFiles: [], random: OpenSSLRandom()
        ).execute()
        var text = try #require(readBytes(paths[1]))
        text[2 << 20] = text[2 << 20] == UInt8(ascii: "a") ? UInt8(ascii: "b") : UInt8(ascii: "a")
        let changed = try dir.write("changed.share", text)
        var handedOut = 0
        let error = #expect(throws: CeremonyError.self) {
            try CombineRun(files: [paths[0], changed], output: nil, passphrase: .agent).execute {
                handedOut += $0.count
                return true
            }
        }
        #expect(error?.code == .notTheSecret && handedOut == 0)
    }

    @Test("SplitRun writes nothing when a share file exists already, and leaves no directory it made")
    func splitRefusesExisting() throws {
        let dir = try TemporaryDirectory()
        let input = try dir.write("secret", [1, 2, 3])
        _ = try dir.write("share-2.share", text: "x")
        #expect(throws: CeremonyError.self) {
            try SplitRun(
                input: .file(input), outDir: dir.path, threshold: 2, shares: 3, keyFiles: [], random: OpenSSLRandom()
            )
            .execute()
        }
        #expect(!dir.listing().contains("share-1.share"))
    }

    @Test("CombineRun refuses the same share twice, naming both files")
    func combineRefusesDuplicate() throws {
        let dir = try TemporaryDirectory()
        let input = try dir.write("secret", [9, 8, 7])
        let paths = try SplitRun(
            input: .file(input), outDir: dir.file("out"), threshold: 2, shares: 2, keyFiles: [], random: OpenSSLRandom()
        ).execute()
        let copy = try dir.write("copy.share", readBytes(paths[0]) ?? [])
        let error = #expect(throws: CeremonyError.self) {
            try CombineRun(files: [paths[0], copy], output: nil, passphrase: .agent).execute { _ in true }
        }
        #expect(error?.reason.contains("the same share") == true)
    }

    @Test("the one-time pad: the encoded token XOR the pad is the token; a pad of another generation is refused")
    func oneTimePad() throws {
        let token = Array("s.0123456789abcdefghijklm".utf8)
        let pad = (0..<token.count).map { UInt8(truncatingIfNeeded: $0 &* 13 &+ 5) }
        let encoded = Data(zip(token, pad).map { $0 ^ $1 }).base64EncodedString().replacingOccurrences(
            of: "=", with: "")
        #expect(try OneTimePad.decode(encoded: Array(encoded.utf8), otp: pad) == token)
        #expect(throws: CeremonyError.self) {
            try OneTimePad.decode(encoded: Array(encoded.utf8), otp: Array(pad.dropLast()))
        }
    }

    @Test(
        """
        a secret file group or others can read is refused with the chmod hint; the first line is read without its \
        ending
        """
    )
    func secretFiles() throws {
        let dir = try TemporaryDirectory()
        let open = try dir.write("token", text: "s.abc\nmore\n", mode: 0o644)
        let error = #expect(throws: CeremonyError.self) {
            try SecretFiles.firstLine(.path(open), privateHolding: "a token")
        }
        #expect(error?.code == .notPrivate && error?.facts["path"] == open)
        let closed = try dir.write("pad", text: "pad-line\r\nrest", mode: 0o600)
        let line = try SecretFiles.firstLine(.path(closed), privateHolding: "the pad")
        withExtendedLifetime(line) { #expect(Array(line.bytes) == Array("pad-line".utf8)) }
    }

    @Test("a share file plan refuses an output file that exists: keyturn never overwrites a key or share file")
    func planRefusesExisting() throws {
        let dir = try TemporaryDirectory()
        _ = try dir.write("alice.asc.key", text: "old")
        let error = #expect(throws: CeremonyError.self) {
            try ShareFilePlan(directory: dir.path, keyFiles: ["keys/alice.asc"], recoveryKeyFiles: [], rootToken: false)
        }
        #expect(error?.reason.contains("alice.asc.key") == true)
    }

    @Test("paths in messages are quoted and escaped, so a name with a space or a newline stays one readable line")
    func quotedPaths() throws {
        #expect(quoted("/tmp/a b.key") == #""/tmp/a b.key""#)
        #expect(quoted("x\ny\"z\\") == #""x\ny\"z\\""#)
        let dir = try TemporaryDirectory()
        let missing = dir.file("no such\nfile.key")
        do {
            _ = try SecretFiles.readSmall(.path(missing))
            Issue.record("a missing file was read")
        } catch let error as CeremonyError {
            #expect(error.reason == "\(quoted(missing)) does not exist")
            #expect(!error.reason.contains("\n"))
        }
    }
}
