import ArgumentParser
import Ceremony
import Foundation
import KeyturnFailure

/// The token for OpenBao's authenticated ceremony endpoints (`sys/rotate/*`): from
/// `--token-file` (a file only its owner can read) or VAULT_TOKEN / BAO_TOKEN; never argv.
struct TokenOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "Read the token for OpenBao's authenticated endpoints from this file (0600); default: VAULT_TOKEN or "
                + "BAO_TOKEN.",
            valueName: "file"))
    var tokenFile: String?

    init() {}

    /// The token, or nil when none is given.
    func resolve(_ environment: [String: String] = ProcessInfo.processInfo.environment) throws -> String? {
        guard let tokenFile else { return EnvironmentNames.first(EnvironmentNames.token, in: environment)?.value }
        let contents = try SecretFiles.readSmall(.path(tokenFile), privateHolding: "a token")
        let text = withExtendedLifetime(contents) {
            String(decoding: contents.bytes, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        }
        guard !text.isEmpty, !text.contains(where: \.isWhitespace) else {
            throw CLIError("\(quoted(tokenFile)) does not hold a token (one line)")
        }
        return text
    }
}
