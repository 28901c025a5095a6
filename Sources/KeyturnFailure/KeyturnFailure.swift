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
