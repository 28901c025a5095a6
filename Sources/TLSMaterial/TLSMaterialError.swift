internal import COpenSSL
import Foundation
import KeyturnFailure

/// Why TLS material could not be made or read: a code for programs, a reason for people.
package struct TLSMaterialError: KeyturnFailure, CustomStringConvertible {
    /// The failures callers tell apart.
    package enum Code: Hashable, Sendable {
        /// A PEM file could not be parsed as what it should hold.
        case unreadable
        /// The key does not belong to the certificate.
        case keyMismatch
        /// The certificate does not chain to the CA (the reason says why).
        case untrusted
        /// OpenSSL failed to make something.
        case openssl
    }

    package let code: Code
    package let reason: String

    package init(_ code: Code, _ reason: String) {
        self.code = code
        self.reason = reason
    }

    package var description: String { reason }

    package var failureCode: String { "tls.\(code)" }
    package var facts: [String: String] { [:] }
}
