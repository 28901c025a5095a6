import Ceremony
import KeyturnFailure
import ProcessHygiene

// How keyturn talks to its user (the rules every command follows; nothing else prints):
// - stdout carries the result only: a table, one JSON document (--format json), the paths of
//   the files written, or a secret the user asked for on stdout. Scripts read it.
// - stderr carries everything said to a person: `keyturn: error: REASON`, then at most one
//   `keyturn: hint: WHAT TO DO`; `keyturn: warning: ...`; `keyturn: ...` for what happened
//   and what comes next. Lower-case, one line each, no trailing period, nodes named, paths
//   named in double quotes (`quoted`, as age and Go's %q do), so a newline in a name cannot
//   make a second line.
// - Every string that came from a file or a server is neutralised on its way out (`neutralised`):
//   control characters show escaped (`\x1b`), so an answer, a transcript or an attestation
//   cannot move the cursor, set the clipboard (OSC 52), hide text or forge a line. The line
//   writers below do it for every line (keeping keyturn's own newlines); an error's reason and
//   hint, a warning and a progress line are one line each, so a newline in them is escaped too.
// - Questions and hidden prompts go to the controlling terminal (/dev/tty), never to a pipe.
// - Everything is written with write(2), unbuffered, so nothing is lost when keyturn ends
//   with _exit.
// - Modules never print: they return values or throw; the CLI turns a module's error into
//   the two lines above once, at the entry (KeyturnMain), adding the hint.

/// Writing to the standard streams without Glibc's non-Sendable `FILE *` globals.
enum Terminal {
    /// Writes all of `bytes` to a file descriptor; returns false on failure (e.g. a closed pipe).
    @discardableResult
    static func write(_ stream: StandardStream, _ bytes: UnsafeRawBufferPointer) -> Bool {
        SecretFiles.writeAll(stream.descriptor, bytes)
    }

    /// Writes a line of text to stderr: one line, whatever it holds (a newline in it is escaped).
    static func stderrLine(_ text: String) {
        var line = neutralised(text)
        line.append("\n")
        line.withUTF8 { _ = write(.error, UnsafeRawBufferPointer($0)) }
    }

    /// Writes a line of text to stdout.
    static func stdoutLine(_ text: String) {
        var line = neutralised(text, keepingNewlines: true)
        line.append("\n")
        line.withUTF8 { _ = write(.output, UnsafeRawBufferPointer($0)) }
    }

    /// Reports an error the way every keyturn command does.
    static func report(_ error: CLIError) {
        report(error.message, hint: error.hint)
    }

    /// Reports a module's failure, with the hint the CLI's table gives its code.
    static func report(_ failure: any KeyturnFailure) {
        report(failure.reason, hint: Hints.hint(for: failure))
    }

    /// `keyturn: error: REASON`, then `keyturn: hint: HINT` when there is one.
    static func report(_ reason: String, hint: String?) {
        stderrLine("keyturn: error: \(neutralised(reason))")
        if let hint { stderrLine("keyturn: hint: \(neutralised(hint))") }
    }

    /// A warning on stderr.
    static func warn(_ message: String) {
        stderrLine("keyturn: warning: \(neutralised(message))")
    }

    /// Rewrites one progress line on stderr (a terminal); nil clears it.
    static func stderrProgress(_ text: String?) {
        var line = "\r\u{1B}[K"
        if let text { line += neutralised(text) }
        line.withUTF8 { _ = write(.error, UnsafeRawBufferPointer($0)) }
    }

    /// Asks a yes/no question on the controlling terminal; true for y or yes. nil when there is
    /// no terminal to ask on.
    static func confirm(_ question: String) -> Bool? {
        guard let answer = SecretFiles.askOnTerminal(question, limit: 16) else { return nil }
        let text = withExtendedLifetime(answer) {
            String(decoding: answer.bytes, as: UTF8.self).trimmingCharacters(in: .whitespaces).lowercased()
        }
        return text == "y" || text == "yes"
    }

    /// Asks `question` on the terminal unless `yes`; with no terminal, `--yes` is required.
    /// Throws when not confirmed: nothing was sent. `check` names the command that shows what
    /// the question is about (for scripts, which pass --yes).
    static func confirm(_ question: String, yes: Bool, check: String) throws {
        if yes { return }
        guard let answer = confirm(question) else {
            throw CLIError("no terminal to confirm on; nothing was sent", hint: "check with \(check), then pass --yes")
        }
        guard answer else { throw CLIError("not confirmed; nothing was sent") }
    }

    /// Shows what an operator is about to sign off and asks on the terminal, unless `yes`
    /// (scripts: the table printed after the submit shows the operation).
    static func confirmSubmit(_ summary: String, yes: Bool, status: String) throws {
        try confirm(summary + "\nSubmit your share to it? [y/N] ", yes: yes, check: "the operation with " + status)
    }
}
