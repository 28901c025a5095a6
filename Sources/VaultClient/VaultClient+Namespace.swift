import Foundation

extension VaultClient {
    /// `sys/OPERATION` (seal-status, unseal, seal), or in a sealable namespace
    /// `sys/namespaces/NAME/OPERATION` with the token, its reply's `data`.
    func sealCall<T: Decodable>(
        _ method: String, _ operation: String, body: Data? = nil, accept: Set<Int>, token: Bool = false,
        allowEmpty: Bool = false
    ) async throws(VaultError) -> (T, [String: JSONValue]) {
        guard let namespace else {
            return try await call(
                method, "sys/" + operation, body: body, accept: accept, token: token, allowEmpty: allowEmpty)
        }
        if allowEmpty {  // seal: 204, no body
            let empty: (T, [String: JSONValue]) = try await call(
                method, "sys/namespaces/\(namespace)/\(operation)", body: body, accept: accept, token: true,
                allowEmpty: true)
            return empty
        }
        let reply: (Wrapped<T>, [String: JSONValue]) = try await call(
            method, "sys/namespaces/\(namespace)/\(operation)", body: body, accept: accept, token: true)
        guard case .object(let fields)? = reply.1["data"] else { return (reply.0.data, [:]) }
        return (reply.0.data, fields)
    }

    /// Whether `name` can be a namespace keyturn addresses: one path segment of letters,
    /// digits, `-`, `_` and `.`, not starting with a dot (no nesting, nothing to escape).
    package static func isNamespaceName(_ name: String) -> Bool {
        guard let first = name.first, first != ".", name.count <= 128 else { return false }
        return name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) }
    }

    /// Whether the namespace exists (`GET sys/namespaces/NAME`, with the token).
    package func namespaceExists(_ name: String) async throws(VaultError) -> Bool {
        do {
            let _: (JSONValue, [String: JSONValue]) = try await call(
                "GET", "sys/namespaces/\(name)", accept: [200], token: true)
            return true
        } catch  where error.code == .server && error.httpStatus == 404 {
            return false
        }
    }

    /// `POST sys/namespaces/NAME` with its own Shamir seal: the one answer that holds its
    /// shares, waited for as `sys/init`'s is.
    package func createSealedNamespace(
        _ name: String, _ request: NamespaceRequest
    ) async throws(VaultError)
        -> NamespaceAnswer
    {
        let reply: (Wrapped<NamespaceAnswer>, [String: JSONValue]) = try await call(
            "POST", "sys/namespaces/\(name)", body: try encode(request), accept: [200], token: true,
            replyTimeout: VaultTransport.oneShotReplyTimeout)
        return reply.0.data
    }
}

/// A sealable namespace's creation: its Shamir seal as OpenBao's CLI writes it (HCL), and the
/// holders' keys (base64 of binary PGP keys), one share each.
package struct NamespaceRequest: Encodable, Sendable {
    package var seal: String
    package var pgpKeys: [String]

    package init(shares: Int, threshold: Int, pgpKeys: [String]) {
        seal = "seal \"shamir\" {\n    shares = \(shares)\n    threshold = \(threshold)\n}"
        self.pgpKeys = pgpKeys
    }

    enum CodingKeys: String, CodingKey { case seal, pgpKeys = "pgp_keys" }
}

/// Its answer: the shares (hex of binary PGP messages, in the keys' order) and the threshold.
package struct NamespaceAnswer: Codable, Sendable {
    package var keyShares: [String]?
    package var keyThreshold: Int?
    package var id: String?

    enum CodingKeys: String, CodingKey { case keyShares = "key_shares", keyThreshold = "key_threshold", id }
}
