import ArgumentParser
import Ceremony
import VaultClient

/// `keyturn rekey`: new shares for the same key, from a quorum of the current ones.
struct Rekey: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Replace the unseal (or recovery) key shares: new holders, a new threshold.",
        discussion: """
            One operator starts the rekey with the new holders' PGP keys and tells the others its \
            nonce; each current holder submits their share with that nonce (keyturn checks that \
            the running rekey is that one first, and shows what it will do); the submit that \
            reaches the threshold writes the new share files and a new ceremony.json, as init \
            does. Uses OpenBao's authenticated sys/rotate endpoints when a token is given \
            (VAULT_TOKEN, BAO_TOKEN or --token-file), else Vault's sys/rekey endpoints.
            """,
        subcommands: [Start.self, Submit.self, Verify.self, Status.self, Cancel.self, Backup.self])
}

extension Rekey {
    /// Which keys a rekey replaces, and everything its subcommands share.
    struct Options: ParsableArguments {
        @OptionGroup
        var quorum: QuorumOptions

        @Option(
            help: ArgumentHelp(
                "The keys to replace: unseal (Shamir seals) or recovery (auto-unseal seals).",
                valueName: "unseal|recovery"))
        var target: QuorumEndpoints.Target = .unseal

        init() {}

        /// Finds the active node and the rekey API it offers.
        func ceremony() async throws -> (QuorumCeremony, Connection) {
            try await quorum.ceremony(.rekey, target: target)
        }

        /// Opens the transcript for `command`.
        func log(
            _ command: String, share: String? = nil, manifest: (CeremonyRecord, String)? = nil,
            passphrase: PassphraseSource = .agent
        ) throws -> TranscriptLog? {
            try quorum.transcript.open(command, share: share, manifest: manifest, passphrase: passphrase)
        }
    }
}

extension QuorumEndpoints.Target: ExpressibleByArgument {}
