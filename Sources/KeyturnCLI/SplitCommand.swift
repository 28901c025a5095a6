import ArgumentParser
import Ceremony
import Foundation
import PGPShares
import Shamir

#if canImport(Glibc)
    import Glibc
#endif

/// `keyturn split`: any secret into Vault-format shares, one file each.
struct Split: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Split a secret into Vault-format Shamir shares, one file per holder.",
        discussion: """
            Reads the secret from FILE, or from standard input with '-' (or no argument). With \
            --pgp-keys each share is encrypted to one holder's key (DIR/<key-file-name>.share, an \
            armoured PGP message whose plaintext is the hex share; shares are held in memory \
            while they are encrypted). With --no-pgp each share file holds one line of lower-case \
            hex, the form Vault's \
            sys/init returns in 'keys', so keyturn's and Vault's shares are interchangeable. \
            Files are created 0600 and never overwrite anything; on any error none is left.
            """)

    @Option(name: .long, help: "How many shares are needed to recombine the secret (2 to 255).")
    var threshold: Int

    @Option(
        name: .long,
        help: ArgumentHelp(
            "How many shares to make (threshold to 255; 1 with threshold 1 copies the secret); with --pgp-keys, "
                + "the number of keys.")
    )
    var shares: Int?

    @Option(
        name: .customLong("pgp-keys"), parsing: .singleValue,
        help: ArgumentHelp(
            "Holders' public key files, comma-separated or repeated: one share each, encrypted to it.",
            valueName: "files"))
    var pgpKeys: [String] = []

    @Flag(name: .long, help: "Write plaintext hex shares instead of encrypting each to a PGP key.")
    var noPgp = false

    var keyFiles: [String] { pgpKeys.flatMap { $0.split(separator: ",").map(String.init) } }
    var shareCount: Int { noPgp ? (shares ?? 0) : keyFiles.count }

    @Option(name: .long, help: "Directory for the share files (created 0700 if missing).")
    var outDir: String

    @Argument(help: "The secret's file, or '-' for standard input.")
    var input: String = "-"

    @OptionGroup var transcript: TranscriptOptions

    func validate() throws {
        if noPgp && !keyFiles.isEmpty { throw ValidationError("--no-pgp and --pgp-keys cannot be combined") }
        if !noPgp && keyFiles.isEmpty {
            throw ValidationError(
                "split needs --pgp-keys (one public key file per holder), or --no-pgp for plaintext shares")
        }
        if noPgp && shares == nil { throw ValidationError("missing expected argument '--shares <shares>'") }
        if !noPgp, let n = shares, n != keyFiles.count {
            throw ValidationError(
                "--shares is \(n) but \(keyFiles.count) PGP keys were given; each share needs one key")
        }
        do throws(ShamirError) { try Shamir.validate(shares: shareCount, threshold: threshold) } catch {
            throw ValidationError(error.reason)
        }
    }

    /// Bytes of secret per read: large enough for bulk random draws and SIMD, small enough
    /// that memory stays flat whatever the secret's size.
    static let chunkSize = 1 << 20

    func run() throws {
        SecretHygiene.disableCoreDumps()
        let log = try transcript.open("split")
        try SplitRun(self).execute()
        log?.record(result: "split", progress: "\(threshold)/\(shareCount)")
    }

    /// The file name of share `index` (0-based) of `count`, zero-padded so they sort.
    static func shareFileName(_ index: Int, of count: Int) -> String {
        let digits = String(count).count
        let number = String(index + 1)
        return "share-" + String(repeating: "0", count: digits - number.count) + number + ".share"
    }
}

/// One execution of `split`, holding its open files so that an error discards them all.
private struct SplitRun {
    let options: Split

    init(_ options: Split) { self.options = options }

    func execute() throws {
        let outDir = options.outDir
        let count = options.shareCount
        let operators = try OperatorKey.inspect(options.keyFiles)
        let paths =
            options.noPgp
            ? (0..<count).map { SecretFiles.join(outDir, Split.shareFileName($0, of: count)) }
            : options.keyFiles.map { SecretFiles.join(outDir, URL(fileURLWithPath: $0).lastPathComponent + ".share") }
        // Everything that can be checked before reading the secret is checked first.
        let directory = try OutputDirectory(outDir)
        for path in paths { try SecretFiles.requireAbsent(path) }
        if options.input == "-", Terminal.isTerminal(STDIN_FILENO) {
            throw KeyturnError(
                "refusing to read the secret from the terminal, where it would be echoed",
                hint: "name a file, or pipe the secret in: keyturn split ... - < secret")
        }
        let inputName = options.input == "-" ? "standard input" : options.input
        let fd = try SecretFiles.openInput(options.input)
        defer { if fd != STDIN_FILENO { close(fd) } }

        let chunk = SecretBuffer(count: Split.chunkSize)
        var got = try SecretFiles.readFully(fd, into: chunk.bytes, name: inputName)
        guard got > 0 else { throw KeyturnError("the secret in \(inputName) is empty") }

        let splitter: ShamirSplitter
        do throws(ShamirError) {
            splitter = try ShamirSplitter(shares: count, threshold: options.threshold, random: OpenSSLRandom())
        } catch {
            throw KeyturnError(error.reason)
        }
        try directory.create()
        let files = try paths.map { (path) throws in try PendingFile(path: path) }
        // PGP mode: each share's hex text is gathered in memory, then encrypted to its holder.
        let plaintexts = operators.isEmpty ? nil : PGPShareTexts(count: count)
        let ys = SecretBuffer(count: Split.chunkSize * count)
        let hex = SecretBuffer(count: Split.chunkSize * 2)
        while got > 0 {
            let piece = UnsafeRawBufferPointer(rebasing: chunk.bytes[0..<got])
            do throws(ShamirError) { try splitter.split(piece, into: ys.bytes) } catch {
                throw KeyturnError(error.reason)
            }
            for (j, file) in files.enumerated() {
                let y = UnsafeRawBufferPointer(rebasing: ys.bytes[(j * got)..<((j + 1) * got)])
                ShareHex.encode(y, into: hex.bytes)
                let text = UnsafeRawBufferPointer(rebasing: hex.bytes[0..<(2 * got)])
                if let plaintexts { plaintexts.append(j, text) } else { try file.write(text) }
            }
            chunk.wipe(got)
            got = try SecretFiles.readFully(fd, into: chunk.bytes, name: inputName)
        }
        ys.wipe()
        hex.wipe()
        for (j, file) in files.enumerated() {
            // The x-coordinate closes each share (none for a 1-of-1 split), then a newline.
            var tail = splitter.xCoordinates.isEmpty ? "\n" : ShareHex.encode([splitter.xCoordinates[j]]) + "\n"
            if let plaintexts {
                tail.withUTF8 { plaintexts.append(j, UnsafeRawBufferPointer($0)) }
                let scratch = try ScratchGnuPGHome()
                let armoured: [UInt8]
                do throws(PGPError) {
                    armoured = try plaintexts.encrypt(j, to: operators[j].info, scratchHome: scratch.path)
                } catch {
                    throw KeyturnError("cannot encrypt the share for \(operators[j].file): \(error.reason)")
                }
                try armoured.withUnsafeBytes { try file.write($0) }
            } else {
                try tail.withUTF8 { (t) throws in try file.write(UnsafeRawBufferPointer(t)) }
            }
        }
        try FileBatch.publish(files, directory: outDir)
        directory.keep()
        for path in paths { Terminal.stdoutLine(path) }
        let need =
            options.threshold == 1
            ? "the only share is the secret itself" : "any \(options.threshold) of them recombine it"
        Terminal.stderrLine("keyturn: wrote \(count) share\(count == 1 ? "" : "s") to \(outDir); \(need)")
    }
}

/// The plaintext hex of every share in PGP mode, grown piece by piece in zeroing buffers until
/// each is encrypted to its holder.
private final class PGPShareTexts {
    private var buffers: [SecretBuffer]
    private var lengths: [Int]

    init(count: Int) {
        buffers = (0..<count).map { _ in SecretBuffer(count: 1 << 16) }
        lengths = Array(repeating: 0, count: count)
    }

    func append(_ j: Int, _ bytes: UnsafeRawBufferPointer) {
        if lengths[j] + bytes.count > buffers[j].count {
            let bigger = SecretBuffer(count: max(2 * buffers[j].count, lengths[j] + bytes.count))
            bigger.bytes.copyMemory(from: UnsafeRawBufferPointer(rebasing: buffers[j].bytes[0..<lengths[j]]))
            buffers[j] = bigger  // the old buffer zeroes itself as it goes
        }
        UnsafeMutableRawBufferPointer(rebasing: buffers[j].bytes[lengths[j]...]).copyMemory(from: bytes)
        lengths[j] += bytes.count
    }

    func encrypt(_ j: Int, to key: PublicKeyInfo, scratchHome: String) throws(PGPError) -> [UInt8] {
        defer { buffers[j] = SecretBuffer(count: 0) }
        return try PGPShares.encrypt(
            UnsafeRawBufferPointer(rebasing: buffers[j].bytes[0..<lengths[j]]), to: key, scratchHome: scratchHome)
    }
}
