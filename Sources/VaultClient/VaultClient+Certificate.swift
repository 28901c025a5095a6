import Foundation

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// The certificate a TLS listener serves, and whether it verified with the given settings.
package struct ServedCertificate: Sendable {
    /// The leaf certificate, PEM (empty if none could be fetched).
    package let leafPEM: String
    /// nil when the chain and name verified; otherwise why not.
    package let verificationError: VaultError?
}

extension VaultClient {
    /// Connects to the node and returns the certificate it serves: verified with the transport's
    /// TLS settings, and, when that fails, fetched again without verification so it can still
    /// be shown.
    package func servedCertificate() async throws(VaultError) -> ServedCertificate {
        let tls = transport.tls, timeout = transport.timeout, node = address
        guard let url = URL(string: address + "/v1/sys/health") else {
            throw VaultError(.invalidAddress, "\(address) is not a node address")
        }
        func fetch(_ options: TLSOptions) async -> Result<CurlTransfer.Response, CurlTransfer.Failure> {
            await withCheckedContinuation { continuation in
                Thread.detachNewThread {
                    let job = CurlTransfer.Request(
                        method: "GET", url: url, headers: [], body: nil, tls: options, timeout: timeout,
                        wantCertificates: true)
                    continuation.resume(
                        returning: Result { () throws(CurlTransfer.Failure) in try CurlTransfer().perform(job) })
                }
            }
        }
        switch await fetch(tls) {
        case .success(let r):
            return ServedCertificate(leafPEM: r.certificates.first ?? "", verificationError: nil)
        case .failure(let f):
            let error = VaultTransport.classify(
                CurlURLProtocol.urlError(f, url: url), node: node, tls: tls, timeout: timeout)
            guard [.tlsUntrusted, .tlsNameMismatch, .tlsExpired].contains(error.code) else { throw error }
            var insecure = tls
            insecure.skipVerify = true
            if case .success(let r) = await fetch(insecure) {
                return ServedCertificate(leafPEM: r.certificates.first ?? "", verificationError: error)
            }
            throw error
        }
    }
}
