import Ceremony
import Foundation
import PGPShares
import Shamir
import TLSMaterial
import VaultClient

/// The fuzz targets: each takes arbitrary bytes and must neither crash nor hang, whatever it
/// is given. Built with `-sanitize=fuzzer,address -D KEYTURN_FUZZING` (Scripts/fuzz), libFuzzer
/// drives them; built normally, this program replays inputs (regression corpus) through them.
enum FuzzTargets {
    static let all: [String: @Sendable (Data) -> Void] = [
        "share-text": shareText,
        "shamir-combine": shamirCombine,
        "vault-json": vaultJSON,
        "pem": pem,
        "pgp-armor": pgpArmor,
        "share-file": shareFile,
        "transcript": transcript,
        "ceremony-record": ceremonyRecord,
        "attestation": attestation,
        "rekey-plan": rekeyPlan,
    ]

    /// The input as a file (the readers below take paths), in a private directory of this
    /// process, removed again after `body`.
    /// (Not an empty one: FoundationEssentials' FileManager.contents leaks its 4 KiB buffer
    /// reading an empty file, which LeakSanitizer reports as a crash; keyturn's readers of an
    /// empty file are covered by the bad-input tests.)
    static func withFile(_ data: Data, _ body: (String) -> Void) {
        guard !data.isEmpty else { return }
        let dir = NSTemporaryDirectory() + "keyturn-fuzz-\(getpid())"
        _ = mkdir(dir, 0o700)
        let path = dir + "/input.json"
        unlink(path)
        _ = FileManager.default.createFile(atPath: path, contents: data, attributes: [.posixPermissions: 0o600])
        body(path)
        unlink(path)
    }

    /// A transcript as `transcript verify` and `report` read it (signatures taken as unchecked:
    /// no gpg process per input): the chain, the closing lines, the anomalies, the events, the
    /// progress no transcript explains, and both renderings.
    static func transcript(_ data: Data) {
        withFile(data) { path in
            guard let v = try? TranscriptVerification.verify(path, checkSignatures: false) else { return }
            _ = v.intact
            _ = v.unvouchedLines
            _ = v.line(withHash: v.head)
            if let report = try? CeremonyReport.build(transcripts: [path], manifests: [], checkSignatures: false) {
                _ = report.markdown()
                _ = report.html()
            }
        }
    }

    /// A ceremony record (ceremony.json), loaded and reported on as two generations of one.
    static func ceremonyRecord(_ data: Data) {
        withFile(data) { path in
            guard (try? CeremonyRecord.load(path)) != nil,
                let report = try? CeremonyReport.build(
                    transcripts: [], manifests: [path, path], checkSignatures: false)
            else { return }
            _ = report.markdown()
            _ = report.html()
        }
    }

    /// A drill attestation: decoded, its signed bytes made again, its names and times read.
    static func attestation(_ data: Data) {
        guard let a = try? JSONDecoder().decode(Attestation.self, from: data) else { return }
        _ = try? Attestation.signedBytes(a.statement)
        _ = canonicalFingerprint(a.statement.fingerprint)
        if let time = ISO8601DateFormatter().date(from: a.statement.time) {
            _ = Drill.days(Date().timeIntervalSince(time))
        }
    }

    /// A rekey plan (rekey-plan.json).
    static func rekeyPlan(_ data: Data) {
        withFile(data) { path in _ = try? RekeyPlan.load(path) }
    }

    /// A whole share file as unseal, verify and combine read it: armoured PGP, Vault's base64
    /// of a binary PGP message (decoded to the message; GPGME is not run), or plain share text
    /// (trimmed, decoded, its length checked).
    static func shareFile(_ data: Data) {
        [UInt8](data).withUnsafeBytes { text in
            switch ShareFileContent.classify(text) {
            case .armouredPGP:
                _ = Armor.decode(String(decoding: text, as: UTF8.self))
            case .vaultBase64PGP:
                if let message = ShareFileContent.binaryMessage(fromVaultBase64: text) {
                    precondition(message.count <= text.count)
                }
            case .plain:
                let trimmed = ShareFileContent.trimmed(text)
                let out = SecretBuffer(count: trimmed.count)
                if let n = ShareText.decode(trimmed, into: out.bytes) { precondition(n <= out.count) }
            }
        }
    }

    /// Hex and base64 share text (unseal's and combine's parser).
    static func shareText(_ data: Data) {
        let bytes = [UInt8](data)
        var out = [UInt8](repeating: 0, count: bytes.count + 4)
        let n = bytes.withUnsafeBytes { t in out.withUnsafeMutableBytes { ShareText.decode(t, into: $0) } }
        if let n { precondition(n <= out.count) }
        _ = ShareText.looksLikeShare(String(decoding: bytes, as: UTF8.self))
        _ = ShareHex.decode(String(decoding: bytes, as: UTF8.self))
    }

    /// Combine of arbitrary shares: the first byte says how many, the rest is split evenly.
    static func shamirCombine(_ data: Data) {
        guard let first = data.first else { return }
        let count = Int(first % 8) + 1
        let rest = [UInt8](data.dropFirst())
        let length = rest.count / count
        let shares = (0..<count).map { Array(rest[($0 * length)..<(($0 + 1) * length)]) }
        _ = try? Shamir.combine(shares)
    }

    /// Every reply model keyturn decodes from a Vault node.
    static func vaultJSON(_ data: Data) {
        let decoder = JSONDecoder()
        // What keyturn computes from an answer, once its numbers passed the range check.
        if let s = try? decoder.decode(SealStatus.self, from: data), s.outOfRange == nil {
            _ = "\(s.progress)/\(s.t)"
            precondition(s.t >= 0 && s.t <= 255 && s.progress >= 0)
        }
        if let q = try? decoder.decode(QuorumState.self, from: data), q.outOfRange == nil {
            _ = q.progressText
            _ = q.nextShareCompletes
        }
        _ = try? decoder.decode(HealthStatus.self, from: data)
        _ = try? decoder.decode(LeaderStatus.self, from: data)
        _ = try? decoder.decode(InitResponse.self, from: data)
        _ = try? decoder.decode(RekeyBackup.self, from: data)
        _ = try? decoder.decode(TokenInfo.self, from: data)
        _ = try? decoder.decode([String: JSONValue].self, from: data)
    }

    /// PEM certificates and keys (secure's readers).
    static func pem(_ data: Data) {
        let bytes = [UInt8](data)
        if let cert = try? Certificate(pem: bytes, name: "fuzz") {
            _ = cert.subject
            _ = cert.subjectAltNames
            _ = cert.notAfter
            _ = cert.serial
        }
        _ = try? PrivateKey(pem: bytes, name: "fuzz")
    }

    /// ASCII armour and key-file forms (init's and split's key readers, before GPGME).
    static func pgpArmor(_ data: Data) {
        _ = Armor.decode(String(decoding: data, as: UTF8.self))
        _ = Armor.encode([UInt8](data.prefix(4096)))
    }
}

#if KEYTURN_FUZZING
    /// libFuzzer's driver, which parses its options and runs the loop.
    @_silgen_name("LLVMFuzzerRunDriver")
    func LLVMFuzzerRunDriver(
        _ argc: UnsafeMutablePointer<CInt>,
        _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
        _ callback: @convention(c) (UnsafePointer<UInt8>, Int) -> CInt
    ) -> CInt

    /// SwiftPM links an executable's entry as `<target>_main`; here it hands over to libFuzzer.
    @_cdecl("KeyturnFuzz_main")
    package func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
        var count = argc
        var vector: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = argv
        return LLVMFuzzerRunDriver(&count, &vector) { data, size in fuzzOneInput(data, size) }
    }

    /// libFuzzer's entry point; the target is chosen by KEYTURN_FUZZ_TARGET.
    @_cdecl("LLVMFuzzerTestOneInput")
    package func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
        FuzzEntry.target(Data(bytes: data, count: size))
        return 0
    }

    enum FuzzEntry {
        static let target: @Sendable (Data) -> Void = {
            let name = ProcessInfo.processInfo.environment["KEYTURN_FUZZ_TARGET"] ?? ""
            guard let t = FuzzTargets.all[name] else {
                FileHandle.standardError.write(
                    Data(
                        ("KeyturnFuzz: set KEYTURN_FUZZ_TARGET to one of: "
                            + "\(FuzzTargets.all.keys.sorted().joined(separator: ", "))\n").utf8))
                exit(2)
            }
            return t
        }()
    }
#else
    /// Replays files through a target: `KeyturnFuzz TARGET FILE...` (regression inputs).
    @main
    struct FuzzReplay {
        static func main() {
            let args = CommandLine.arguments.dropFirst()
            guard let name = args.first, let target = FuzzTargets.all[name] else {
                FileHandle.standardError.write(
                    Data(
                        ("usage: KeyturnFuzz TARGET FILE...   targets: "
                            + "\(FuzzTargets.all.keys.sorted().joined(separator: " "))\n").utf8))
                exit(2)
            }
            var count = 0
            for path in args.dropFirst() {
                guard let data = FileManager.default.contents(atPath: path) else { continue }
                target(data)
                count += 1
            }
            print("\(name): \(count) input(s) replayed without a crash")
        }
    }
#endif
