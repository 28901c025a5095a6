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

    /// ` --namespace NAME` for a command line keyturn prints, or nothing.
    static func flag(_ namespace: String?) -> String { namespace.map { " --namespace \($0)" } ?? "" }

    func validate() throws {
        if let namespace, !VaultClient.isNamespaceName(namespace) {
            throw ValidationError(
                "--namespace must be one namespace name (letters, digits, '-', '_', '.'), not '\(namespace)'")
        }
    }
}

extension Connection {
    /// Refuses, before anything is sent, a connection whose clients carry no token; `what`
    /// names who needs it ("creating a namespace needs").
    func requireToken(_ what: String) throws {
        guard clients.allSatisfy({ $0.token != nil }) else {
            throw CLIError(
                "\(what) a token; nothing was sent",
                hint: "VAULT_TOKEN or BAO_TOKEN in the environment, or --token-file FILE (0600)")
        }
    }

    /// The same connection addressing `namespace`'s seal and quorum endpoints; they all need a
    /// token, so one must be on the clients already.
    func with(namespace: String?) throws -> Connection {
        guard let namespace else { return self }
        try requireToken("the namespace \(namespace)'s seal endpoints need")
        return Connection(
            clients: clients.map {
                var c = $0
                c.namespace = namespace
                return c
            }, transport: transport, format: format)
    }
}
