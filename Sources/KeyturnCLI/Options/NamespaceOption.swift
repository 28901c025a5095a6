import ArgumentParser
import VaultClient

/// `--namespace NAME`: the ceremony is a sealable namespace's (OpenBao 2.6+), with its own
/// shares and threshold, not the root's. No environment variable: VAULT_NAMESPACE, set for
/// other reasons, must not turn an unseal of the cluster into an unseal of a namespace.
struct NamespaceOption: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "A sealable namespace (OpenBao 2.6+): its own seal and shares, not the cluster's; needs a token.",
            valueName: "name"))
    var namespace: String?

    init() {}

    func validate() throws {
        if let namespace, !VaultClient.isNamespaceName(namespace) {
            throw ValidationError(
                "--namespace must be one namespace name (letters, digits, '-', '_', '.'), not '\(namespace)'")
        }
    }
}

extension Connection {
    /// The same connection addressing `namespace`'s seal and quorum endpoints; they all need a
    /// token, so one must be on the clients already.
    func with(namespace: String?) throws -> Connection {
        guard let namespace else { return self }
        guard clients.allSatisfy({ $0.token != nil }) else {
            throw CLIError(
                "the namespace \(namespace)'s seal endpoints need a token; nothing was sent",
                hint: "VAULT_TOKEN or BAO_TOKEN in the environment, or --token-file FILE (0600)")
        }
        return Connection(
            clients: clients.map {
                var c = $0
                c.namespace = namespace
                return c
            }, transport: transport, format: format)
    }
}
