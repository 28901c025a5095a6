import ArgumentParser

/// What every submit of a share to a running rekey or generate-root takes: the nonce the
/// operator was told, their share, how to decrypt it, the record to check it against, and
/// whether to ask before sending.
struct SubmitOptions: ParsableArguments {
    @Option(help: ArgumentHelp("The nonce of the operation you were asked to join.", valueName: "nonce"))
    var nonce: String

    @Argument(
        help: ArgumentHelp(
            "The file holding your share, or '-' for standard input (default: asked on the terminal).",
            valueName: "keyfile"))
    var keyFile: String?

    @OptionGroup(title: "Passphrase options")
    var passphrase: PassphraseOptions

    @Option(
        help: ArgumentHelp(
            "The ceremony.json of the shares submitted (default: the one beside KEYFILE).",
            discussion: "The share is checked against its commitment before it is sent.", valueName: "file"))
    var manifest: String?

    @Flag(help: "Do not ask for confirmation (scripts).")
    var yes = false

    init() {}
}
