import ArgumentParser

/// `keyturn secure`: the TLS side of the ceremony.
struct Secure: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Make the TLS material a cluster's listener serves: a private CA, certificates, a gossip key.",
        subcommands: [CA.self, Cert.self, Gossip.self, Config.self, Check.self])
}
