import ArgumentParser
import Ceremony
import Foundation
import PGPShares
import Shamir

#if canImport(Glibc)
    import Glibc
#endif

/// `keyturn combine`: share files back into the secret.
struct Combine: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Recombine a secret from share files, to standard output or --output.",
        discussion: """
            Each share file is a PGP message encrypted to its holder (as 'split --pgp-keys' \
            writes it; decrypted with GPGME through the holder's gpg-agent), or one line of hex \
            (as 'split --no-pgp' writes it, or one of the 'keys' Vault's sys/init returns) in a \
            file not readable by group or others. \
            Shares do not record their threshold: fewer shares than it give a wrong secret, \
            not an error.
            """)

    @Option(
        name: .shortAndLong,
        help: "Write the secret to this file (created 0600, never overwriting) instead of standard output.")
    var output: String?

    @Argument(help: "The share files, at least two.")
    var shareFiles: [String] = []

    @OptionGroup(title: "Passphrase options") var passphrase: PassphraseOptions

    @OptionGroup var transcript: TranscriptOptions

    func validate() throws {
        guard shareFiles.count >= 2 else {
            throw ValidationError(
                shareFiles.isEmpty
                    ? "combine needs at least two share files"
                    : "combine needs at least two share files, not one (a 1-of-1 share file holds the secret "
                        + "itself, in hex)"
            )
        }
    }

    func run() throws {
        SecretHygiene.disableCoreDumps()
        let log = try transcript.open("combine")
        try CombineRun(files: shareFiles, output: output, passphrase: passphrase.source).execute()
        log?.record(result: "combined", progress: "\(shareFiles.count) shares")
    }
}

/// A plaintext share file: its hex text, the x-coordinate read from its end, and its length.
private struct ShareFile {
    let path: String
    /// The open file, or -1 when the share was decrypted into `memory`.
    let fd: Int32
    /// The decrypted text of a PGP-encrypted share file.
    var memory: SecretBuffer? = nil
    /// The file mapped read-only, when it could be: its text is decoded straight from the page
    /// cache, without a copy into a buffer of ours (a third of combine's time on 64 MiB).
    var mapping: UnsafeRawBufferPointer? = nil
    /// Number of hex characters of y-bytes (the x-coordinate's two follow them).
    let yHexLength: Int
    let x: UInt8

    /// Characters allowed after the hex: a line ending, as editors and `echo` leave.
    static func isTrailingSpace(_ c: UInt8) -> Bool { ShareFileContent.isSpace(c) }

    static func open(_ path: String, passphrase: PassphraseSource) throws -> ShareFile {
        let fd = try SecretFiles.openInput(path)
        var st = stat()
        guard fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else {
            close(fd)
            throw KeyturnError("\(path) is not a regular file")
        }
        let head = (try? readAt(fd, 0, min(Int(st.st_size), 16), path)) ?? []
        if head.starts(with: Array("-----BEGIN PGP".utf8)) {
            // Encrypted to its holder: may be readable by others; decrypted into memory.
            defer { close(fd) }
            let text = SecretBuffer(count: Int(st.st_size))
            try SecretFiles.readExactly(fd, at: 0, into: text.bytes, name: path)
            let plain = try ShareInput.decryptMessage(text, source: path, passphrase: passphrase)
            return try parse(path: path, fd: -1, size: plain.count, memory: plain) { offset, count in
                Array(plain.bytes[offset..<(offset + count)])
            }
        }
        if st.st_mode & 0o077 != 0 {
            close(fd)
            throw KeyturnError(
                "\(path) holds a plaintext share but is readable by group or others",
                hint: "chmod 600 \(path)")
        }
        do {
            var file = try parse(path: path, fd: fd, size: Int(st.st_size), memory: nil) { offset, count in
                try readAt(fd, offset, count, path)
            }
            if st.st_size > 0, let base = mmap(nil, Int(st.st_size), PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0),
                base != MAP_FAILED
            {
                _ = madvise(base, Int(st.st_size), MADV_SEQUENTIAL)
                file.mapping = UnsafeRawBufferPointer(start: base, count: Int(st.st_size))
            }
            return file
        } catch {
            close(fd)
            throw error
        }
    }

    /// Reads the x-coordinate from the end of a share's hex text and checks its shape.
    private static func parse(
        path: String, fd: Int32, size: Int, memory: SecretBuffer?, _ readAt: (Int, Int) throws -> [UInt8]
    ) throws -> ShareFile {
        let tail = try readAt(max(0, size - 64), min(size, 64))
        let trailing = tail.reversed().prefix(while: isTrailingSpace).count
        let hexLength = size - trailing
        guard hexLength >= 4, hexLength % 2 == 0 else {
            throw KeyturnError("\(path) is not a share: expected one line of hex, at least two bytes long")
        }
        let xText = tail[(tail.count - trailing - 2)..<(tail.count - trailing)]
        guard let xByte = ShareHex.decode(String(decoding: xText, as: UTF8.self)) else {
            throw KeyturnError("\(path) is not a share: it holds characters that are not hex")
        }
        return ShareFile(path: path, fd: fd, memory: memory, yHexLength: hexLength - 2, x: xByte[0])
    }

    /// `count` characters of hex text at `offset`: in place when the text is in memory or
    /// mapped, else read into `buffer`.
    func text(at offset: Int, count: Int, buffer: UnsafeMutableRawBufferPointer) throws -> UnsafeRawBufferPointer {
        if let mapping { return UnsafeRawBufferPointer(rebasing: mapping[offset..<(offset + count)]) }
        if let memory { return UnsafeRawBufferPointer(rebasing: memory.bytes[offset..<(offset + count)]) }
        let piece = UnsafeMutableRawBufferPointer(rebasing: buffer[0..<count])
        try SecretFiles.readExactly(fd, at: offset, into: piece, name: path)
        return UnsafeRawBufferPointer(piece)
    }

    /// Unmaps and closes the file.
    func release() {
        if let mapping { munmap(UnsafeMutableRawPointer(mutating: mapping.baseAddress), mapping.count) }
        if fd >= 0 { Glibc.close(fd) }
    }

    private static func readAt(_ fd: Int32, _ offset: Int, _ count: Int, _ path: String) throws -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        try bytes.withUnsafeMutableBytes { (b) throws in
            try SecretFiles.readExactly(fd, at: offset, into: b, name: path)
        }
        return bytes
    }
}

/// One execution of `combine`.
private struct CombineRun {
    let files: [String]
    let output: String?
    let passphrase: PassphraseSource

    /// Secret bytes per pass.
    static let chunkSize = 1 << 20

    func execute() throws {
        if let output { try SecretFiles.requireAbsent(output) }
        var shares: [ShareFile] = []
        defer { for s in shares { s.release() } }
        for path in files { shares.append(try ShareFile.open(path, passphrase: passphrase)) }

        for (i, a) in shares.enumerated() {
            if let b = shares[(i + 1)...].first(where: { $0.yHexLength != a.yHexLength }) {
                throw KeyturnError("\(a.path) and \(b.path) are shares of different secrets: their lengths differ")
            }
            if let b = shares[(i + 1)...].first(where: { $0.x == a.x }) {
                throw KeyturnError(
                    "\(a.path) and \(b.path) are the same share (x-coordinate \(a.x))",
                    hint: "give each share once; you need shares from different holders")
            }
        }
        let combiner: ShamirCombiner
        do throws(ShamirError) { combiner = try ShamirCombiner(xCoordinates: shares.map(\.x)) } catch {
            throw KeyturnError(error.reason)
        }

        let length = shares[0].yHexLength / 2
        if output == nil {
            // Standard output cannot be taken back, so find bad hex before writing a byte.
            try stream(shares, length: length, combiner: nil) { _ throws in }
        }
        let pending = try output.map { (path) throws in try PendingFile(path: path) }
        try stream(shares, length: length, combiner: combiner) { (piece) throws in
            if let pending {
                try pending.write(piece)
            } else if !Terminal.write(STDOUT_FILENO, piece) {
                throw KeyturnError("cannot write the secret to standard output: \(SecretFiles.describe(errno))")
            }
        }
        if let pending, let output {
            try FileBatch.publish([pending], directory: SecretFiles.directory(of: output))
            Terminal.stderrLine("keyturn: wrote the secret (\(length) bytes) to \(output)")
        }
    }

    /// Decodes every share chunk by chunk; with a combiner, hands each recombined chunk to `sink`.
    private func stream(
        _ shares: [ShareFile], length: Int, combiner: ShamirCombiner?,
        _ sink: (UnsafeRawBufferPointer) throws -> Void
    ) throws {
        let text = SecretBuffer(count: 2 * Self.chunkSize)
        let ys = shares.map { _ in SecretBuffer(count: Self.chunkSize) }
        let secret = SecretBuffer(count: Self.chunkSize)
        var offset = 0
        while offset < length {
            let n = min(Self.chunkSize, length - offset)
            for (j, share) in shares.enumerated() {
                let hexText = try share.text(at: 2 * offset, count: 2 * n, buffer: text.bytes)
                guard ShareHex.decode(hexText, into: ys[j].bytes) else {
                    throw KeyturnError("\(share.path) is not a share: it holds characters that are not hex")
                }
            }
            if let combiner {
                let out = UnsafeMutableRawBufferPointer(rebasing: secret.bytes[0..<n])
                combiner.combine(ys.map { UnsafeRawBufferPointer(rebasing: $0.bytes[0..<n]) }, into: out)
                try sink(UnsafeRawBufferPointer(out))
                secret.wipe(n)
            }
            offset += n
        }
    }
}
