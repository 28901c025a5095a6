import ArgumentParser
import Ceremony

/// How the operator's PGP passphrase is given when pinentry cannot ask (automation, tests).
struct PassphraseOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "Read your PGP key's passphrase from this file (first line) instead of pinentry.", valueName: "file"))
    var passphraseFile: String?

    @Option(help: ArgumentHelp("Read your PGP key's passphrase from this open file descriptor.", valueName: "n"))
    var passphraseFd: Int32?

    init() {}

    func validate() throws {
        if passphraseFile != nil && passphraseFd != nil {
            throw ValidationError("--passphrase-file can't be used with --passphrase-fd")
        }
    }

    /// Where the passphrase comes from.
    var source: PassphraseSource {
        if let file = passphraseFile { return .file(file) }
        if let n = passphraseFd { return .descriptor(n) }
        return .agent
    }
}
