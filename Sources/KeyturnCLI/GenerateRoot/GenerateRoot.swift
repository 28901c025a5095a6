import ArgumentParser

/// `keyturn generate-root`: a new root token from a quorum of the unseal (or recovery) shares.
struct GenerateRoot: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate-root",
        abstract:
            "Make a new root token from a quorum of the shares: encrypted to a PGP key, or masked with a one-time pad.",
        discussion: """
            One operator starts it, preferably with --pgp-key (the token comes back encrypted to \
            that key, as root-token.asc); without, the server's one-time pad (OTP) goes to a \
            0600 file, never to the terminal, and 'decode' turns the encoded token into the \
            token. Each holder submits their share with the nonce; the submit that completes it \
            writes the result. OpenBao 2.5 and later disable these endpoints unless the listener \
            sets disable_unauthed_generate_root_endpoints = false, or a token is given for its \
            authenticated sys/generate-root-token endpoints.
            """,
        subcommands: [Start.self, Submit.self, Decode.self, Status.self, Cancel.self])
}
