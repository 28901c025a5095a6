import VaultClient

/// Resolved connection settings: one client per node over one transport.
struct Connection {
    let clients: [VaultClient]
    let transport: VaultTransport
    let format: OutputFormat
}

extension Connection {
    /// The same connection with `token` on every client (sent only to authenticated endpoints).
    func with(token: String?) -> Connection {
        Connection(
            clients: clients.map {
                var c = $0; c.token = token; return c
            }, transport: transport, format: format)
    }
}
