import ArgumentParser
import Ceremony

extension Secure {
    /// `keyturn secure config`: the listener settings that use a checked certificate and key.
    struct Config: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "config",
            abstract:
                "Check that a key, certificate and CA belong together, then write Vault's listener stanza and Consul's "
                + "TLS settings."
        )

        @Option(help: ArgumentHelp("The server certificate (PEM).", valueName: "file"))
        var tlsCert: String

        @Option(help: ArgumentHelp("Its private key (PEM).", valueName: "file"))
        var tlsKey: String

        @Option(help: ArgumentHelp("The CA that signed it (PEM).", valueName: "file"))
        var caCert: String

        @Option(
            help: ArgumentHelp("A file holding Consul's gossip key (from keyturn secure gossip).", valueName: "file"))
        var gossipKey: String?

        @Option(help: ArgumentHelp("Directory for vault-listener.hcl and consul-tls.json.", valueName: "dir"))
        var outDir: String

        func run() throws {
            let config = try ListenerConfig(certificate: tlsCert, key: tlsKey, ca: caCert, gossipKeyFile: gossipKey)
            let written = try config.write(into: outDir)
            Terminal.stdoutLine(written.hcl)
            Terminal.stdoutLine(written.json)
        }
    }
}
