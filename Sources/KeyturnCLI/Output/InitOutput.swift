import Ceremony
import KeyturnFailure
import VaultClient

/// How init's answer is printed when it goes to stdout.
enum InitOutput {
    /// The whole answer as Vault sent it (so nothing is lost).
    static func json(_ answer: InitResponse) -> String { Output.jsonText(answer) }

    /// --no-pgp: the plaintext shares and root token, as text or JSON.
    static func plaintext(_ answer: InitResponse, format: OutputFormat) -> String {
        if format == .json { return json(answer) }
        // The server's strings, one line each (a newline in a hostile answer cannot add a line).
        var lines = answer.keys.enumerated().map { "Unseal Key \($0.offset + 1): \(neutralised($0.element))" }
        lines.append("")
        lines.append("Initial Root Token: \(neutralised(answer.rootToken))")
        return lines.joined(separator: "\n")
    }
}
