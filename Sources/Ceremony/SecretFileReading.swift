import Foundation
import KeyturnFailure
import Shamir

#if canImport(Glibc)
    import Glibc
#endif

extension SecretFiles {
    /// Refuses a regular file that group or others can read: it holds `what` ("a plaintext
    /// share", "a token", "the one-time pad") in the clear. The one check of its kind.
    package static func requirePrivate(_ fd: Int32, path: String, holding what: String) throws {
        var st = stat()
        guard fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG, st.st_mode & 0o077 != 0 else { return }
        throw CeremonyError(
            "\(quoted(path)) holds \(what) but is readable by group or others", code: .notPrivate, facts: ["path": path]
        )
    }

    /// A small secret file's contents (up to 4 KiB), or standard input's for "-", or an open
    /// descriptor's, in a zeroing buffer. With `privateHolding`, a file group or others can
    /// read is refused first. The one reader of small secrets (passphrases, tokens, one-time
    /// pads).
    package static func readSmall(_ source: LineSource, privateHolding what: String? = nil) throws -> SecretBuffer {
        let fd: Int32
        switch source {
        case .path(let path): fd = try openInput(path)
        case .descriptor(let n, _): fd = n
        }
        defer { if case .path(let path) = source, path != "-" { close(fd) } }
        if let what, case .path(let path) = source, path != "-" { try requirePrivate(fd, path: path, holding: what) }
        let buffer = SecretBuffer(count: 4096)
        let n = try readFully(fd, into: buffer.bytes, name: source.name)
        let contents = SecretBuffer(count: n)
        // The buffers' memory is theirs only while they live: keep them alive across the copy.
        withExtendedLifetime(buffer) {
            if n > 0 { contents.bytes.copyMemory(from: UnsafeRawBufferPointer(rebasing: buffer.bytes[0..<n])) }
        }
        return contents
    }

    /// The first line of what `readSmall` reads, without its line ending.
    package static func firstLine(_ source: LineSource, privateHolding what: String? = nil) throws -> SecretBuffer {
        let contents = try readSmall(source, privateHolding: what)
        return withExtendedLifetime(contents) {
            let end = contents.bytes.firstIndex { $0 == 0x0a || $0 == 0x0d } ?? contents.count
            let line = SecretBuffer(count: end)
            if end > 0 { line.bytes.copyMemory(from: UnsafeRawBufferPointer(rebasing: contents.bytes[0..<end])) }
            return line
        }
    }

    /// One line typed on a terminal (`fd`, opened on /dev/tty), byte by byte so that nothing
    /// after the line ending is consumed, at most `limit` bytes, in a zeroing buffer. The one
    /// reader of terminal lines (the hidden share prompt, a yes/no question).
    package static func readTerminalLine(_ fd: Int32, limit: Int) -> SecretBuffer {
        let line = SecretBuffer(count: limit)
        var count = 0
        while count < line.count {
            var byte: UInt8 = 0
            let n = Glibc.read(fd, &byte, 1)
            if n < 0 && errno == EINTR { continue }
            if n <= 0 || byte == 0x0a || byte == 0x0d { break }
            line.bytes[count] = byte
            count += 1
            byte = 0
        }
        let text = SecretBuffer(count: count)
        withExtendedLifetime(line) {
            if count > 0 { text.bytes.copyMemory(from: UnsafeRawBufferPointer(rebasing: line.bytes[0..<count])) }
        }
        return text
    }

    /// Asks `question` on the controlling terminal and reads the line typed (at most `limit`
    /// bytes); nil when there is no terminal to ask on.
    package static func askOnTerminal(_ question: String, limit: Int) -> SecretBuffer? {
        let fd = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var text = question
        text.withUTF8 { _ = writeAll(fd, UnsafeRawBufferPointer($0)) }
        return readTerminalLine(fd, limit: limit)
    }

    /// Where `firstLine` reads.
    package enum LineSource {
        /// A file, or standard input for "-".
        case path(String)
        /// An open descriptor, with the name errors give it.
        case descriptor(Int32, name: String)

        var name: String {
            switch self {
            case .path(let path): return path == "-" ? "standard input" : quoted(path)
            case .descriptor(_, let name): return name
            }
        }
    }
}
