import Foundation
import Shamir
import Synchronization

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

extension VaultTransport {
    /// Turns a transport failure into keyturn's error codes, with the facts the CLI's hints use.
    static func classify(_ error: URLError, node: String, tls: TLSOptions, timeout: TimeInterval) -> VaultError {
        let detail = (error.userInfo[NSLocalizedDescriptionKey] as? String) ?? error.localizedDescription
        let lower = detail.lowercased()
        let curl = error.userInfo[CurlURLProtocol.curlCodeKey] as? Int
        switch error.code {
        case .cannotConnectToHost:
            return VaultError(.unreachable, "\(node) is unreachable: connection refused")
        case .cannotFindHost:
            return VaultError(.unreachable, "\(node) is unreachable: unknown host")
        case .timedOut:
            return VaultError(
                .timedOut, "\(node) did not answer within \(formatSeconds(timeout))",
                facts: ["node": node])
        case .serverCertificateUntrusted:
            if lower.contains("subject name") || lower.contains("does not match")
                || lower.contains("alternative certificate")
            {
                return VaultError(
                    .tlsNameMismatch,
                    "\(node) presented a certificate that is not for "
                        + (tls.serverName.map { "the name \($0)" } ?? "this name"),
                    facts: ["node": node])
            }
            if lower.contains("expired") {
                return VaultError(.tlsExpired, "\(node) presented an expired certificate")
            }
            if curl == 77 {
                return VaultError(
                    .tlsUntrusted,
                    "cannot use the CA certificate file\(tls.caCertFile.map { " \($0)" } ?? ""): \(detail.lowercased())"
                )
            }
            return VaultError(
                .tlsUntrusted, "\(node) presented a certificate that is not signed by a trusted CA",
                facts: [
                    "node": node, "situation": tls.caCertFile == nil && tls.caPath == nil ? "noCAGiven" : "caGiven",
                ])
        case .clientCertificateRejected:
            return VaultError(
                .clientCertificateUnusable, "the client certificate or key cannot be used: \(lower)",
                facts: ["node": node])
        case .networkConnectionLost:
            // With TLS 1.3 the server checks the client certificate after the client has
            // finished its handshake, so a missing one shows up as an alert, or as the
            // connection dropping (curl 55 or 56) on the first read or write.
            let alert = lower.contains("alert") || lower.contains("certificate")
            if node.hasPrefix("https"), alert || curl == 55 || curl == 56 {
                if tls.clientCertFile != nil {
                    return VaultError(
                        .clientCertificateRequired, "\(node) rejected the client certificate",
                        facts: ["node": node, "situation": "rejected"])
                }
                return VaultError(
                    .clientCertificateRequired,
                    alert
                        ? "\(node) requires a client certificate"
                        : "\(node) dropped the TLS connection: it probably requires a client certificate",
                    facts: ["node": node, "situation": "missing"])
            }
            return VaultError(.connectionLost, "\(node) closed the connection before its reply was complete")
        case .secureConnectionFailed:
            if lower.contains("alert") && (lower.contains("certificate") || lower.contains("handshake"))
                && tls.clientCertFile == nil
            {
                return VaultError(
                    .clientCertificateRequired, "\(node) requires a client certificate",
                    facts: ["node": node, "situation": "missing"])
            }
            if lower.contains("wrong version number") {
                return VaultError(
                    .tlsFailure, "\(node) does not speak TLS", facts: ["node": node, "situation": "plaintextListener"])
            }
            return VaultError(.tlsFailure, "TLS with \(node) failed: \(lower)")
        case .badServerResponse:
            if node.hasPrefix("http:") {
                return VaultError(
                    .malformedReply, "\(node) did not answer in HTTP", facts: ["node": node, "situation": "notHTTP"])
            }
            return VaultError(.malformedReply, "\(node) did not answer in HTTP")
        case .dataLengthExceedsMaximum:
            return VaultError(.malformedReply, "\(node) sent a reply larger than keyturn accepts")
        case .cancelled:
            return VaultError(.cancelled, "the request to \(node) was cancelled")
        default:
            return VaultError(.unreachable, "\(node) is unreachable: \(lower)")
        }
    }
}
