import ArgumentParser
import Foundation
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
            --no-pgp each share file holds one line of lower-case hex, the form Vault's \
            sys/init returns in 'keys', so keyturn's and Vault's shares are interchangeable. \
            Files are created 0600 and never overwrite anything; on any error none is left.
            """)

    @Option(name: .long, help: "How many shares are needed to recombine the secret (2 to 255).")
    var threshold: Int

    @Option(name: .long, help: "How many shares to make (threshold to 255; 1 with threshold 1 copies the secret).")
    var shares: Int

    @Flag(name: .long, help: "Write plaintext hex shares instead of encrypting each to a PGP key.")
    var noPgp = false

    @Option(name: .long, help: "Directory for the share files (created 0700 if missing).")
    var outDir: String

    @Argument(help: "The secret's file, or '-' for standard input.")
    var input: String = "-"

    func validate() throws {
        do throws(ShamirError) { try Shamir.validate(shares: shares, threshold: threshold) } catch {
            throw ValidationError(error.reason)
        }
        guard noPgp else {
            throw ValidationError("split needs --no-pgp: encrypting shares to PGP keys (--pgp-keys) is not built yet")
        }
    }

    /// Bytes of secret per read: large enough for bulk random draws and SIMD, small enough
    /// that memory stays flat whatever the secret's size.
    static let chunkSize = 1 << 20

    func run() throws {
        SecretHygiene.disableCoreDumps()
        try SplitRun(self).execute()
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
        let paths = (0..<options.shares).map { SecretFiles.join(outDir, Split.shareFileName($0, of: options.shares)) }
        // Everything that can be checked before reading the secret is checked first.
        let directory = try OutputDirectory(outDir)
        for path in paths { try SecretFiles.requireAbsent(path) }
        if options.input == "-", Terminal.isTerminal(STDIN_FILENO) {
            throw CLIError("refusing to read the secret from the terminal, where it would be echoed",
                           hint: "name a file, or pipe the secret in: keyturn split ... - < secret")
        }
        let inputName = options.input == "-" ? "standard input" : options.input
        let fd = try SecretFiles.openInput(options.input)
        defer { if fd != STDIN_FILENO { close(fd) } }

        let chunk = SecretBuffer(count: Split.chunkSize)
        var got = try SecretFiles.readFully(fd, into: chunk.bytes, name: inputName)
        guard got > 0 else { throw CLIError("the secret in \(inputName) is empty") }

        let splitter: ShamirSplitter
        do throws(ShamirError) { splitter = try ShamirSplitter(shares: options.shares, threshold: options.threshold, random: OpenSSLRandom()) } catch {
            throw CLIError(error.reason)
        }
        try directory.create()
        let files = try paths.map { (path) throws in try PendingFile(path: path) }
        let ys = SecretBuffer(count: Split.chunkSize * options.shares)
        let hex = SecretBuffer(count: Split.chunkSize * 2)
        while got > 0 {
            let piece = UnsafeRawBufferPointer(rebasing: chunk.bytes[0..<got])
            do throws(ShamirError) { try splitter.split(piece, into: ys.bytes) } catch { throw CLIError(error.reason) }
            for (j, file) in files.enumerated() {
                let y = UnsafeRawBufferPointer(rebasing: ys.bytes[(j * got)..<((j + 1) * got)])
                ShareHex.encode(y, into: hex.bytes)
                try file.write(UnsafeRawBufferPointer(rebasing: hex.bytes[0..<(2 * got)]))
            }
            chunk.wipe(got)
            got = try SecretFiles.readFully(fd, into: chunk.bytes, name: inputName)
        }
        ys.wipe()
        hex.wipe()
        for (j, file) in files.enumerated() {
            // The x-coordinate closes each share (none for a 1-of-1 split), then a newline.
            var tail = splitter.xCoordinates.isEmpty ? "\n" : ShareHex.encode([splitter.xCoordinates[j]]) + "\n"
            try tail.withUTF8 { (t) throws in try file.write(UnsafeRawBufferPointer(t)) }
        }
        try FileBatch.publish(files, directory: outDir)
        directory.keep()
        for path in paths { Terminal.stdoutLine(path) }
        let need = options.threshold == 1 ? "the only share is the secret itself" : "any \(options.threshold) of them recombine it"
        Terminal.stderrLine("keyturn: wrote \(options.shares) share\(options.shares == 1 ? "" : "s") to \(outDir); \(need)")
    }
}
