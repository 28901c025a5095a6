import Foundation
import KeyturnFailure
import TLSMaterial
import VaultClient

/// What one node's listener serves, checked as `secure check` does: the chain and the name
/// (with every connection option), and how long the certificate has left.
package struct ListenerCheck {
    /// What is wrong, if anything.
    package enum Finding {
        case ok
        /// The chain or the name did not verify.
        case unverified(VaultError)
        /// The certificate expired, or expires within the warning window.
        case expiring(daysLeft: Int, expired: Bool)
        /// The node could not be asked, or sent something that is not a certificate.
        case failed(any KeyturnFailure)
    }

    package let address: String
    /// The served leaf certificate, when one was received.
    package let certificate: Certificate?
    package let finding: Finding

    /// Whole days until the certificate expires (negative once expired).
    package var daysLeft: Int { certificate.map { Int($0.notAfter.timeIntervalSinceNow / 86400) } ?? 0 }

    /// Checks `client`'s listener; `warnDays` is the window within which expiry is a finding.
    package static func run(_ client: VaultClient, warnDays: Int) async -> ListenerCheck {
        do {
            let served = try await client.servedCertificate()
            let cert = try Certificate(pem: Array(served.leafPEM.utf8), name: "the certificate of \(client.address)")
            let check = ListenerCheck(address: client.address, certificate: cert, finding: .ok)
            if let e = served.verificationError {
                return ListenerCheck(address: client.address, certificate: cert, finding: .unverified(e))
            }
            if check.daysLeft < warnDays {
                let finding = Finding.expiring(daysLeft: check.daysLeft, expired: cert.notAfter < Date())
                return ListenerCheck(address: client.address, certificate: cert, finding: finding)
            }
            return check
        } catch {
            let failure = (error as? any KeyturnFailure) ?? CeremonyError("\(client.address): \(error)")
            return ListenerCheck(address: client.address, certificate: nil, finding: .failed(failure))
        }
    }
}
