/// How to secure connections to Vault nodes: the TLS settings of SPEC §1, already resolved
/// from flags and environment by the caller.
public struct TLSOptions: Sendable, Hashable {
    /// A PEM bundle of CAs to trust instead of the system's.
    public var caCertFile: String?
    /// A directory of hashed PEM CAs (`openssl rehash`) to trust.
    public var caPath: String?
    /// A PEM client certificate for mutual TLS.
    public var clientCertFile: String?
    /// The PEM private key of the client certificate.
    public var clientKeyFile: String?
    /// The name to verify the server's certificate against, instead of the address's host.
    public var serverName: String?
    /// Accept any certificate (dangerous; the CLI warns).
    public var skipVerify: Bool

    /// Settings with every field optional; the defaults trust the system's CAs.
    public init(
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
