import Foundation
import KeyturnFailure
import PGPShares
import Shamir

#if canImport(Glibc)
    import Glibc
#endif

/// A share file opened for `combine`: its hex text (mapped, read in place, or decrypted into
/// memory), the x-coordinate read from its end, and its length.
struct OpenShareFile {
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
    /// The line `keyturn split` wrote after the share, if there is one.
    var check: SplitCheck? = nil

    /// Characters allowed after the hex: a line ending, as editors and `echo` leave.
    static func isTrailingSpace(_ c: UInt8) -> Bool { ShareFileContent.isSpace(c) }

    static func open(_ path: String, passphrase: PassphraseSource) throws -> OpenShareFile {
        let fd = try SecretFiles.openInput(path)
        var st = stat()
        guard fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else {
            close(fd)
            throw CeremonyError("\(quoted(path)) is not a regular file")
        }
        let head = (try? readAt(fd, 0, min(Int(st.st_size), 16), path)) ?? []
        if head.starts(with: Array("-----BEGIN PGP".utf8)) {
            // Encrypted to its holder: may be readable by others; decrypted into memory.
            defer { close(fd) }
            let text = SecretBuffer(count: Int(st.st_size))
            try SecretFiles.readExactly(fd, at: 0, into: text.bytes, name: path)
            let plain = try ShareInput.decryptMessage(text, source: quoted(path), passphrase: passphrase)
            return try parse(path: path, fd: -1, size: plain.count, memory: plain) { offset, count in
                Array(plain.bytes[offset..<(offset + count)])
            }
        }
        do {
            try SecretFiles.requirePrivate(fd, path: path, holding: "a plaintext share")
        } catch {
            close(fd)
            throw error
        }
        do {
            var file = try parse(path: path, fd: fd, size: Int(st.st_size), memory: nil) { offset, count in
                try readAt(fd, offset, count, path)
            }
            // Mapped without MAP_POPULATE: filling the page tables of every share before the first
            // byte is decoded cost combine of 3 x 128 MiB of hex about 10 % of its wall time on a
            // 2-core machine; faulted in as decoding reaches them, the pages come in read-ahead.
            if st.st_size > 0, let base = mmap(nil, Int(st.st_size), PROT_READ, MAP_PRIVATE, fd, 0),
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

    /// Reads the x-coordinate from the end of a share's hex text (before the check line, when
    /// keyturn split wrote one) and checks its shape.
    private static func parse(
        path: String, fd: Int32, size: Int, memory: SecretBuffer?, _ readAt: (Int, Int) throws -> [UInt8]
    ) throws -> OpenShareFile {
        let tailLength = min(size, 256)
        var tail = try readAt(size - tailLength, tailLength)
        var end = size
        end -= tail.reversed().prefix(while: isTrailingSpace).count
        tail.removeLast(size - end)
        var check: SplitCheck?
        if let newline = tail.lastIndex(of: 0x0A), tail[(newline + 1)...].starts(with: Array("keyturn-split".utf8)) {
            let line = String(decoding: tail[(newline + 1)...], as: UTF8.self)
            guard let parsed = SplitCheck.parse(Substring(line)) else {
                throw CeremonyError("\(quoted(path)) ends with a keyturn-split line that cannot be read")
            }
            check = parsed
            let hexEnd = tail[..<newline].reversed().prefix(while: isTrailingSpace).count
            end -= tail.count - newline + hexEnd
            tail.removeLast(tail.count - newline + hexEnd)
        }
        let hexLength = end
        guard hexLength >= 4, hexLength % 2 == 0, tail.count >= 2 else {
            throw CeremonyError("\(quoted(path)) is not a share: expected one line of hex, at least two bytes long")
        }
        let xText = tail[(tail.count - 2)...]
        guard let xByte = ShareHex.decode(String(decoding: xText, as: UTF8.self)) else {
            throw CeremonyError("\(quoted(path)) is not a share: it holds characters that are not hex")
        }
        return OpenShareFile(
            path: path, fd: fd, memory: memory, yHexLength: hexLength - 2, x: xByte[0], check: check)
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
