/// What every keyturn module's error gives the command line, which alone decides what the user
/// is told to do and with which exit status: a code (the kind of failure), a reason for a
/// person, and the facts a hint may name. A module never names a keyturn flag or command; the
/// CLI turns codes into hints in one table (`Hints`), as age's `cmd/` adds hints to its
/// library's errors.
package protocol KeyturnFailure: Error, Sendable {
    /// The kind of failure, "module.case" ("vault.timedOut", "ceremony.alreadyRunning"): unique
    /// across modules and stable, for the hint table and for tests.
    var failureCode: String { get }
    /// One lower-case line naming the file, node or value at fault; never a secret.
    var reason: String { get }
    /// Named facts a hint may use ("node", "path", "nonce", "situation", ...).
    var facts: [String: String] { get }
}

/// A path (or other name a user typed) as messages show it: in double quotes, with quotes,
/// backslashes and control characters escaped, as Go's %q and age's messages do, so that a
/// name with spaces reads unambiguously and a newline in it cannot start a second line.
package func quoted(_ path: String) -> String {
    var out = "\""
    for scalar in path.unicodeScalars {
        switch scalar {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\t": out += "\\t"
        case "\r": out += "\\r"
        default:
            if scalar.value < 0x20 || scalar.value == 0x7f {
                out += "\\x" + String(scalar.value, radix: 16)
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
    }
    return out + "\""
}

/// Text from a file or a server as keyturn shows it to a person: every control character (ESC,
/// CR, BEL, the rest below 0x20, DEL, the C1 controls U+0080-U+009F, which some terminals
/// take as CSI and OSC, and the Unicode line separators and bidi overrides) shown escaped
/// (`\x1b`, `\u009b`), so no input can move the cursor, rewrite a line, set the clipboard
/// (OSC 52), hide or reorder text or forge a line of its own. A newline is escaped
/// too unless `keepingNewlines` (keyturn's own multi-line output); a tab is kept.
package func neutralised(_ text: String, keepingNewlines: Bool = false) -> String {
    guard text.unicodeScalars.contains(where: { isControl($0) && !($0 == "\n" && keepingNewlines) }) else {
        return text
    }
    var out = ""
    out.unicodeScalars.reserveCapacity(text.unicodeScalars.count)
    for scalar in text.unicodeScalars {
        if !isControl(scalar) || (scalar == "\n" && keepingNewlines) {
            out.unicodeScalars.append(scalar)
        } else if scalar == "\n" {
            out += "\\n"
        } else {
            // C0 as `\x1b`; the rest as `\u009b`, which is also a valid escape inside a JSON
            // string (a JSON document on stdout stays one).
            let hex = String(scalar.value, radix: 16)
            out +=
                scalar.value < 0x20
                ? "\\x" + (hex.count < 2 ? "0" : "") + hex : "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
        }
    }
    return out
}

/// A control character by `neutralised`'s rule (a tab is not one: it cannot forge or hide).
private func isControl(_ scalar: Unicode.Scalar) -> Bool {
    let v = scalar.value
    return (v < 0x20 && v != 0x09) || (v >= 0x7f && v <= 0x9f) || v == 0x2028 || v == 0x2029
        || (v >= 0x202a && v <= 0x202e) || (v >= 0x2066 && v <= 0x2069)
}
