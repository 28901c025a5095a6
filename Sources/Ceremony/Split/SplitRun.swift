import Foundation
import KeyturnFailure
import PGPShares
import Shamir

#if canImport(Glibc)
    import Glibc
#endif

/// One split of a secret into Vault-format share files, one per holder: plaintext hex
/// (`DIR/share-N.share`) or each encrypted to its holder's key (`DIR/<key-file-name>.share`).
/// The secret is read in pieces, so memory stays flat whatever its size (PGP mode gathers each
/// share's text in zeroing buffers until it is encrypted). Every file is published together,
/// or none is; a directory made for them is removed again on failure.
package struct SplitRun {
    /// Where the secret comes from.
    package enum Input {
        /// A file, or standard input for "-".
        case file(String)
        /// Bytes in memory (the CA key `secure ca --split-to` escrows).
        case memory(UnsafeRawBufferPointer)
    }

    /// A file that is not secret, published in the same batch as the shares (the CA's
    /// certificate beside its escrowed key).
    package struct CompanionFile {
        package let path: String
        package let contents: [UInt8]
        package let mode: mode_t

        package init(path: String, contents: [UInt8], mode: mode_t) {
            self.path = path
            self.contents = contents
            self.mode = mode
        }
    }

    /// Bytes of secret per read: large enough for bulk random draws and SIMD, small enough
    /// that memory stays flat whatever the secret's size.
    package static let chunkSize = 1 << 20

    package let input: Input
    package let outDir: String
    package let threshold: Int
    package let shares: Int
    /// The holders' key files (PGP mode); empty for plaintext shares.
    package let keyFiles: [String]
    package let random: any RandomSource
    /// Standard input is a terminal: "-" is refused there, where the secret would be echoed.
    package let standardInputIsTerminal: Bool
    package let companions: [CompanionFile]

    package init(
        input: Input, outDir: String, threshold: Int, shares: Int, keyFiles: [String], random: any RandomSource,
        standardInputIsTerminal: Bool = false, companions: [CompanionFile] = []
    ) {
        self.input = input
        self.outDir = outDir
        self.threshold = threshold
        self.shares = shares
        self.keyFiles = keyFiles
        self.random = random
        self.standardInputIsTerminal = standardInputIsTerminal
        self.companions = companions
    }

    /// The file name of share `index` (0-based) of `count`, zero-padded so they sort.
    package static func shareFileName(_ index: Int, of count: Int) -> String {
        let digits = String(count).count
        let number = String(index + 1)
        return "share-" + String(repeating: "0", count: digits - number.count) + number + ".share"
    }

    /// The share file for the holder of `keyFile`: `DIR/<key-file-name>.share`.
    package static func sharePath(_ outDir: String, keyFile: String) -> String {
        SecretFiles.join(outDir, URL(fileURLWithPath: keyFile).lastPathComponent + ".share")
    }

    /// The share files' paths, in holder order.
    package var paths: [String] {
        keyFiles.isEmpty
            ? (0..<shares).map { SecretFiles.join(outDir, Self.shareFileName($0, of: shares)) }
            : keyFiles.map { Self.sharePath(outDir, keyFile: $0) }
    }

    /// Splits and publishes; returns the share files' paths.
    @discardableResult
    package func execute() throws -> [String] {
        let operators = try OperatorKey.inspect(keyFiles)
        let paths = self.paths
        // Everything that can be checked before reading the secret is checked first.
        let directory = try OutputDirectory(outDir)
        for path in paths + companions.map(\.path) { try SecretFiles.requireAbsent(path) }
        let reader = try SecretReader(input, standardInputIsTerminal: standardInputIsTerminal)
        defer { reader.close() }
        let chunk = SecretBuffer(count: Self.chunkSize)
        var got = try reader.read(into: chunk.bytes)
        guard got > 0 else { throw CeremonyError("the secret in \(reader.name) is empty") }
        // A first read shorter than the chunk is the whole secret.
        // The digest needs x = 255 free, so not with 255 shares.
        let digest = threshold >= 2 && shares < 255 && got >= SplitDigest.minimumSecretLength
        let splitter = try Self.splitter(shares: shares, threshold: threshold, random: random, reserving: digest)
        try directory.create()
        let files = try paths.map { (path) throws in try PendingFile(path: path) }
        // PGP mode: each share's hex text is gathered in memory, then encrypted to its holder.
        let plaintexts = operators.isEmpty ? nil : PGPShareTexts(count: shares)
        let output = ShareOutput(files: files, plaintexts: plaintexts, hold: digest ? SplitDigest.tagLength : 0)
        let mac = digest ? try DigestKey(random: random) : nil
        let ys = SecretBuffer(count: Self.chunkSize * shares)
        var first = true
        while got > 0 {
            let piece = UnsafeRawBufferPointer(rebasing: chunk.bytes[0..<got])
            mac?.gmac.update(piece)
            try splitter.split(piece, into: ys.bytes)
            if first, let mac {
                SplitDigest.constrain(
                    ys.bytes, stride: got, positions: Array(0..<SplitDigest.keyLength), values: mac.keyBytes,
                    xs: splitter.xCoordinates, threshold: threshold)
            }
            first = false
            try output.append(ys.bytes, stride: got)
            chunk.wipe(got)
            got = try reader.read(into: chunk.bytes)
        }
        ys.wipe()
        if let mac {
            // The last positions, held back until the whole secret was read, carry the tag.
            var tag = SplitDigest.tag(mac.gmac.finish())
            output.constrainHeld(values: tag, xs: splitter.xCoordinates, threshold: threshold)
            secureZero(&tag)
        }
        try output.flushHeld()
        defer { output.release() }
        let id = try Self.splitID(random)
        try finish(files, splitter: splitter, plaintexts: plaintexts, operators: operators) { j in
            guard threshold >= 2 else { return nil }
            let check: String
            if digest {
                check = "digest"
            } else if output.total < SplitDigest.minimumSecretLength {
                let line = ShareHex.encode(output.shortLines[j]) + ShareHex.encode([splitter.xCoordinates[j]])
                check = SplitCheck.lineChecksum(Array(line.utf8))
            } else {
                check = "none"
            }
            return SplitCheck(id: id, threshold: threshold, shares: shares, check: check).line
        }
        var batch = files
        for companion in companions {
            let file = try PendingFile(path: companion.path, mode: companion.mode)
            try companion.contents.withUnsafeBytes { try file.write($0) }
            batch.append(file)
        }
        try FileBatch.publish(batch, directory: outDir)
        directory.keep()
        return paths
    }

    /// A splitter whose x-coordinates avoid the digest point when `reserving` (drawn again
    /// until none is 255: uniform over the sets that avoid it).
    private static func splitter(
        shares: Int, threshold: Int, random: any RandomSource, reserving: Bool
    ) throws -> ShamirSplitter {
        while true {
            let splitter = try ShamirSplitter(shares: shares, threshold: threshold, random: random)
            if !reserving || !splitter.xCoordinates.contains(SplitDigest.x) { return splitter }
        }
    }

    /// Closes each share: its x-coordinate (none for a 1-of-1 split), a newline and the check
    /// line (a split with a threshold of 2 or more); in PGP mode, its whole text encrypted to
    /// its holder.
    private func finish(
        _ files: [PendingFile], splitter: ShamirSplitter, plaintexts: PGPShareTexts?, operators: [OperatorKey],
        check: (Int) -> String?
    ) throws {
        let scratch = plaintexts == nil ? nil : try ScratchGnuPGHome()
        for (j, file) in files.enumerated() {
            var tail = splitter.xCoordinates.isEmpty ? "\n" : ShareHex.encode([splitter.xCoordinates[j]]) + "\n"
            if let line = check(j) { tail += line + "\n" }
            guard let plaintexts, let scratch else {
                try tail.withUTF8 { (t) throws in try file.write(UnsafeRawBufferPointer(t)) }
                continue
            }
            tail.withUTF8 { plaintexts.append(j, UnsafeRawBufferPointer($0)) }
            let armoured: [UInt8]
            do throws(PGPError) {
                armoured = try plaintexts.encrypt(j, to: operators[j].info, scratchHome: scratch.path)
            } catch {
                throw CeremonyError("cannot encrypt the share for \(quoted(operators[j].file)): \(error.reason)")
            }
            try armoured.withUnsafeBytes { try file.write($0) }
        }
    }
}

/// The secret's source, read piece by piece.
private final class SecretReader {
    let name: String
    private let fd: Int32
    private let memory: UnsafeRawBufferPointer?
    private var offset = 0

    init(_ input: SplitRun.Input, standardInputIsTerminal: Bool) throws {
        switch input {
        case .memory(let bytes):
            name = "memory"
            fd = -1
            memory = bytes
        case .file(let path):
            if path == "-", standardInputIsTerminal {
                throw CeremonyError(
                    "refusing to read the secret from the terminal, where it would be echoed", code: .secretOnTerminal)
            }
            name = path == "-" ? "standard input" : path
            fd = try SecretFiles.openInput(path)
            memory = nil
        }
    }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        guard let memory else { return try SecretFiles.readFully(fd, into: buffer, name: name) }
        let n = min(buffer.count, memory.count - offset)
        if n > 0 {
            UnsafeMutableRawBufferPointer(rebasing: buffer[0..<n])
                .copyMemory(from: UnsafeRawBufferPointer(rebasing: memory[offset..<(offset + n)]))
        }
        offset += n
        return n
    }

    func close() {
        if fd >= 0 && fd != STDIN_FILENO { Glibc.close(fd) }
    }
}
