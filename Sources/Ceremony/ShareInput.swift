import Foundation
import KeyturnFailure
import PGPShares
import ProcessHygiene
import Shamir

#if canImport(Glibc)
    import Glibc
#endif

/// Reads one unseal share from a file, standard input or the terminal, and decodes it,
/// checking everything that can be checked before anything is sent.
package enum ShareInput {
    /// More than any share file needs; a larger input is not a share.
    package static let maximumSize = 64 << 10

    /// The share's bytes (16 to 33), in a buffer that is zeroed when released.
    package struct Share {
        package let buffer: SecretBuffer
        package let count: Int
        /// Where it came from, for messages ("alice.key", "standard input", "the terminal").
        package let source: String
        package var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(rebasing: buffer.bytes[0..<count]) }
    }

    /// Reads the share named by the command's argument: a path, `-` for stdin, or nothing for
    /// a prompt on the terminal.
    package static func read(_ argument: String?, passphrase: PassphraseSource = .agent) throws -> Share {
        switch argument {
        case nil:
            return try fromTerminal()
        case "-":
            // On a terminal, '-' means the operator types it: ask without echo.
            if isatty(STDIN_FILENO) == 1 { return try fromTerminal() }
            let text = try readAll(STDIN_FILENO, name: "standard input")
            if isPGP(text) { return try decrypt(text, source: "standard input", passphrase: passphrase) }
            return try decode(text, source: "standard input")
        case let path?:
            var st = stat()
            guard stat(path, &st) == 0 else {
                if looksLikeShareArgument(path) { throw CeremonyError.shareOnCommandLine() }
                throw CeremonyError("\(quoted(path)) does not exist")
            }
            let fd = try SecretFiles.openInput(path)
            defer { close(fd) }
            let text = try readAll(fd, name: path)
            if isPGP(text) { return try decrypt(text, source: quoted(path), passphrase: passphrase) }
            try SecretFiles.requirePrivate(fd, path: path, holding: "a plaintext share")
            return try decode(text, source: quoted(path))
        }
    }

    /// Reads the share as `read` does, then checks it against its commitment in `manifest`
    /// (a ceremony.json and its path) when that has one: a wrong or corrupt share is caught
    /// here, before it is sent, not at the threshold when the server resets everyone's progress.
    package static func read(
        _ argument: String?, passphrase: PassphraseSource, checkedAgainst manifest: (CeremonyRecord, String)?
    ) throws -> Share {
        let share = try read(argument, passphrase: passphrase)
        if let (record, path) = manifest, record.matches(share.bytes, file: argument) == false {
            throw CeremonyError(
                "the share from \(share.source) does not match its commitment in \(quoted(path)); nothing was sent",
                code: .commitmentMismatch, facts: ["when": "beforeSending"])
        }
        return share
    }

    /// Decrypts a PGP-encrypted share (armoured, or Vault's base64 of a binary message) with
    /// the operator's key, then decodes the hex share inside.
    package static func decrypt(_ text: SecretBuffer, source: String, passphrase: PassphraseSource) throws -> Share {
        let plain = try decryptMessage(text, source: source, passphrase: passphrase)
        return try decode(plain, source: "\(source) (decrypted)")
    }

    /// Decrypts a PGP message (armoured, or base64 of a binary one) to its plaintext.
    package static func decryptMessage(
        _ text: SecretBuffer, source: String, passphrase: PassphraseSource
    ) throws -> SecretBuffer {
        let secret = try passphrase.read()
        var message = text
        if ShareFileContent.classify(UnsafeRawBufferPointer(text.bytes)) != .armouredPGP {
            // Vault's form: base64 of the binary message, on one line.
            guard let binary = ShareFileContent.binaryMessage(fromVaultBase64: UnsafeRawBufferPointer(text.bytes))
            else {
                throw CeremonyError("\(source) is not a readable PGP message")
            }
            message = binary
        }
        do { return try PGPShares.decrypt(UnsafeRawBufferPointer(message.bytes), passphrase: secret) } catch {
            throw CeremonyError(
                "cannot decrypt \(source): \(error.reason)", code: .decryptFailed,
                facts: error.facts.merging(["pgpCode": "\(error.code)"]) { $1 })
        }
    }

    /// Whether text is a PGP message, armoured or as Vault's base64 of a binary message.
    package static func isPGP(_ text: SecretBuffer) -> Bool {
        ShareFileContent.classify(UnsafeRawBufferPointer(text.bytes)) != .plain
    }

    /// Reads a whole small input into a zeroing buffer (the bytes read are counted in `count`).
    private static func readAll(_ fd: Int32, name: String) throws -> SecretBuffer {
        let buffer = SecretBuffer(count: maximumSize + 1)
        let n = try SecretFiles.readFully(fd, into: buffer.bytes, name: name)
        guard n <= maximumSize else { throw CeremonyError("\(name) is too large to be a share") }
        let exact = SecretBuffer(count: n)
        if n > 0 { exact.bytes.copyMemory(from: UnsafeRawBufferPointer(rebasing: buffer.bytes[0..<n])) }
        return exact
    }

    /// The share's line alone when `keyturn split` wrote its check line after it (SplitCheck):
    /// Vault takes the share, not the line.
    static func withoutSplitCheck(_ text: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer {
        guard let newline = text.firstIndex(of: 0x0A),
            text[(newline + 1)...].starts(with: SplitCheck.prefix.utf8)
        else { return text }
        return ShareFileContent.trimmed(UnsafeRawBufferPointer(rebasing: text[0..<newline]))
    }

    /// Trims the text and decodes hex or base64, checking the length Vault accepts.
    package static func decode(_ text: SecretBuffer, source: String) throws -> Share {
        let trimmed = withoutSplitCheck(ShareFileContent.trimmed(UnsafeRawBufferPointer(text.bytes)))
        guard trimmed.count > 0 else { throw CeremonyError("\(source) holds no share (it is empty)") }
        let out = SecretBuffer(count: trimmed.count)
        guard let n = ShareText.decode(trimmed, into: out.bytes) else {
            throw CeremonyError("\(source) does not hold a share: expected one line of hex or base64")
        }
        guard ShareText.acceptedLengths.contains(n) else {
            throw CeremonyError(
                "the share in \(source) is \(n) bytes long; a Vault share is 33 bytes (32 for a single-share key)")
        }
        return Share(buffer: out, count: n, source: source)
    }

    /// Prompts on the controlling terminal and reads a line with echo off.
    private static func fromTerminal() throws -> Share {
        let fd = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY)
        guard fd >= 0 else {
            throw CeremonyError(
                "no share given and no terminal to ask for one on", code: .noShareSource)
        }
        defer { close(fd) }
        // Echo goes off before the prompt appears, so nothing typed after it can echo (and
        // nothing typed ahead of the prompt is kept); Ctrl-C, SIGTERM, SIGHUP and Ctrl-Z put
        // the terminal's settings back first, so the operator never types blind afterwards.
        guard ProcessHygiene.hideTerminalInput(fd) else { throw CeremonyError("cannot read from the terminal") }
        defer { ProcessHygiene.restoreTerminal() }
        let prompt = "Unseal key share (will be hidden): "
        _ = prompt.withCString { Glibc.write(fd, $0, strlen($0)) }
        return try decode(SecretFiles.readTerminalLine(fd, limit: 4096), source: "the terminal")
    }
}

/// Whether a command-line argument that names no file reads as a share (or a share file's
/// text): refused, and never echoed, since it is in the process list and the shell's history
/// already. Spaces, colons or dashes inside it, a `0x`, and a split's check line after it
/// change nothing: what is left, 24 characters or more of hex or base64 and no `.` or leading
/// `/` of a path, is taken for a share.
package func looksLikeShareArgument(_ argument: String) -> Bool {
    let trimmed = argument.trimmingCharacters(in: .whitespacesAndNewlines)
    if trimmed.contains(SplitCheck.prefix) { return true }
    let first = trimmed.split(whereSeparator: \.isNewline).first.map(String.init) ?? ""
    if ShareText.looksLikeShare(first.trimmingCharacters(in: .whitespaces)) { return true }
    guard !first.hasPrefix("/"), !first.hasPrefix("~"), !first.contains(".") else { return false }
    var compact = first.filter { !" \t:-".contains($0) }
    if compact.lowercased().hasPrefix("0x") { compact = String(compact.dropFirst(2)) }
    let hex = compact.count >= 16 && compact.allSatisfy { $0.isHexDigit && $0.isASCII }
    // (Base64 of random bytes has a digit or a + or / in all but a few percent; a long file name
    // of letters alone does not, and still gets "does not exist".)
    let base64 =
        compact.count >= 24 && compact.contains { $0.isNumber || $0 == "+" || $0 == "/" }
        && compact.allSatisfy { ($0.isASCII && ($0.isLetter || $0.isNumber)) || "+/=_".contains($0) }
    return hex || base64
}

/// Refuses, before anything is read, any of `arguments` that names no file and reads as a share
/// (for commands that take several files: one passphrase prompt must not come before it).
package func refuseShareArguments(_ arguments: [String]) throws {
    if arguments.contains(where: { !FileManager.default.fileExists(atPath: $0) && looksLikeShareArgument($0) }) {
        throw CeremonyError.shareOnCommandLine()
    }
}

extension CeremonyError {
    /// A share given as an argument: refused, and never echoed.
    package static func shareOnCommandLine() -> CeremonyError {
        CeremonyError(
            "refusing a share given on the command line: it would be visible in the process list and shell history",
            code: .shareOnCommandLine)
    }
}
