/// How to secure connections to Vault nodes: the TLS settings of the connection options, already resolved
/// from flags and environment by the caller.
package struct TLSOptions: Sendable, Hashable {
    /// A PEM bundle of CAs to trust instead of the system's.
    package var caCertFile: String?
    /// A directory of hashed PEM CAs (`openssl rehash`) to trust.
    package var caPath: String?
    /// A PEM client certificate for mutual TLS.
    package var clientCertFile: String?
    /// The PEM private key of the client certificate.
    package var clientKeyFile: String?
    /// The name to verify the server's certificate against, instead of the address's host.
    package var serverName: String?
    /// Accept any certificate (dangerous; the CLI warns).
    package var skipVerify: Bool

    /// Settings with every field optional; the defaults trust the system's CAs.
    package init(
        caCertFile: String? = nil, caPath: String? = nil, clientCertFile: String? = nil,
        clientKeyFile: String? = nil, serverName: String? = nil, skipVerify: Bool = false
    ) {
        self.caCertFile = caCertFile
        self.caPath = caPath
        self.clientCertFile = clientCertFile
        self.clientKeyFile = clientKeyFile
        self.serverName = serverName
        self.skipVerify = skipVerify
    }
}
