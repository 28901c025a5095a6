import KeyturnFailure

/// Why a request to a Vault node failed: a stable code for programs, a reason for people
/// (naming the node), and where useful a hint and the server's own words.
package struct VaultError: KeyturnFailure, CustomStringConvertible {
    /// The kinds of failure callers act on.
    package enum Code: Hashable, Sendable {
        /// The address is not an http(s) URL with a host.
        case invalidAddress
        /// Nothing answered: refused, unknown host, no route.
        case unreachable
        /// No complete reply within the timeout.
        case timedOut
        /// The server's certificate does not chain to a trusted CA.
        case tlsUntrusted
        /// The certificate is trusted but not issued for the name we connected to.
        case tlsNameMismatch
        /// The certificate has expired or is not valid yet.
        case tlsExpired
        /// Another TLS failure (protocol, handshake).
        case tlsFailure
        /// The server demands a client certificate and none (or an unacceptable one) was sent.
        case clientCertificateRequired
        /// The client certificate or key could not be used.
        case clientCertificateUnusable
        /// The connection closed before the reply was complete.
        case connectionLost
        /// The server answered with a redirect, which keyturn never follows.
        case redirect
        /// The server answered with an error status (its `errors` are kept).
        case server
        /// The reply was not the JSON expected.
        case malformedReply
        /// The request was cancelled.
        case cancelled
    }

    /// The kind of failure.
    package let code: Code
    /// One line for a person, naming the node; never contains a secret.
    package let reason: String
    /// Facts a hint may name: "node", and where one code covers several situations,
    /// "situation" (the CLI's hint table tells them apart).
    package let facts: [String: String]
    /// The HTTP status, when the server answered.
    package let httpStatus: Int?
    /// The server's `errors` list, when it sent one.
    package let serverErrors: [String]
    /// The body of an accepted answer that comes only once (`sys/init`, a completing submit, a
    /// start that completes, a namespace's creation) but could not be read: its only copy, for
    /// the caller to print whole. Never part of `reason`.
    package var unreadOneShotReply: String?

    /// Makes an error.
    package init(
        _ code: Code, _ reason: String, facts: [String: String] = [:], httpStatus: Int? = nil,
        serverErrors: [String] = []
    ) {
        self.code = code
        self.reason = reason
        self.facts = facts
        self.httpStatus = httpStatus
        self.serverErrors = serverErrors
    }

    package var description: String { reason }

    package var failureCode: String { "vault.\(code)" }

    /// Whether the node could not be reached at all (as opposed to answering badly).
    package var isUnreachable: Bool {
        switch code {
        case .unreachable, .timedOut, .connectionLost, .cancelled: return true
        default: return false
        }
    }
}
