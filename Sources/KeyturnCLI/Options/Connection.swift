import Foundation
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

extension Connection {
    /// One warning line per node reached over plain `http://` at an address that is not this
    /// machine's, before `what` (a share, a token, key material) is sent there: anyone on the
    /// path can read it (as `--tls-skip-verify` warns). Loopback stays silent: a dev server.
    func warnIfPlaintext(sending what: String) {
        for client in clients where Self.isRemotePlaintext(client.address) {
            Terminal.warn("sending \(what) over plain http to \(client.address): anyone on the path can read it")
        }
    }

    /// Whether `address` is `http://` to a host other than loopback (127.0.0.0/8, ::1, localhost).
    static func isRemotePlaintext(_ address: String) -> Bool {
        guard let url = URL(string: address), url.scheme?.lowercased() == "http" else { return false }
        let host = (url.host ?? "").lowercased().trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        return !(host == "localhost" || host.hasSuffix(".localhost") || host == "::1" || host.hasPrefix("127."))
    }
}
