internal import COpenSSL
import Foundation
import KeyturnFailure

/// What to put in a new certificate.
package struct CertificateRequest: Sendable {
    package var commonName: String
    package var dnsNames: [String] = []
    package var ipAddresses: [String] = []
    package var days: Int
    /// A CA certificate (CA:TRUE, pathlen 0, keyCertSign) instead of a server certificate.
    package var isCA = false
    /// Add clientAuth to serverAuth (for mutual-TLS clients).
    package var clientAuth = false

    package init(
        commonName: String, dnsNames: [String] = [], ipAddresses: [String] = [], days: Int, isCA: Bool = false,
        clientAuth: Bool = false
    ) {
        self.commonName = commonName
        self.dnsNames = dnsNames
        self.ipAddresses = ipAddresses
        self.days = days
        self.isCA = isCA
        self.clientAuth = clientAuth
    }
}
