import Foundation

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// The operations that need a token: sealing a node, stepping the active node down, checking
/// the token itself (the other calls that carry it: the rotate APIs, the raft snapshot, the
/// raft voters; see `VaultClient.token`).
extension VaultClient {
    /// `GET auth/token/lookup-self`: whether the server takes the token, and its policies.
    package func lookupSelf() async throws(VaultError) -> TokenInfo {
        let reply: (Wrapped<TokenInfo>, [String: JSONValue]) = try await call(
            "GET", "auth/token/lookup-self", accept: [200], token: true)
        return reply.0.data
    }

    /// `PUT sys/seal`: the node seals itself (a standby too, on OpenBao 2.7.2).
    package func seal() async throws(VaultError) {
        let _: [String: JSONValue] = try await sealCall(
            "PUT", "seal", accept: [200, 204], token: true, allowEmpty: true
        ).0
    }

    /// `PUT sys/step-down`: the active node gives up leadership; another (or, alone, itself)
    /// is elected.
    package func stepDown() async throws(VaultError) {
        let _: [String: JSONValue] = try await call(
            "PUT", "sys/step-down", accept: [200, 204], token: true, allowEmpty: true
        ).0
    }
}

/// What `auth/token/lookup-self` says of the token (never the token itself).
package struct TokenInfo: Decodable, Sendable {
    package var policies: [String]?
    package var displayName: String?

    enum CodingKeys: String, CodingKey {
        case policies
        case displayName = "display_name"
    }
}

/// Replies of authenticated endpoints: the answer sits in `data`.
struct Wrapped<T: Decodable>: Decodable {
    var data: T
}

/// The new shares of a rekey started with `backup`, as the server keeps them: per PGP key
/// fingerprint, the shares encrypted to it (hex and base64 of the PGP messages).
package struct RekeyBackup: Decodable, Sendable {
    package var nonce: String
    package var keys: [String: [String]]
    package var keysBase64: [String: [String]]?

    enum CodingKeys: String, CodingKey {
        case nonce, keys
        case keysBase64 = "keys_base64"
    }
}

extension VaultClient {
    /// `GET .../backup`: the new shares of the last rekey started with `backup` (a token).
    package func rekeyBackup(_ e: QuorumEndpoints) async throws(VaultError) -> RekeyBackup {
        let reply: (Wrapped<RekeyBackup>, [String: JSONValue]) = try await call(
            "GET", e.backupPath, accept: [200], token: true)
        return reply.0.data
    }

    /// `DELETE .../backup`: the server forgets them.
    package func deleteRekeyBackup(_ e: QuorumEndpoints) async throws(VaultError) {
        let _: [String: JSONValue] = try await call(
            "DELETE", e.backupPath, accept: [200, 204], token: true, allowEmpty: true
        ).0
    }
}

extension VaultClient {
    /// `GET sys/storage/raft/snapshot` (token): the whole raft state as OpenBao and Vault save
    /// it (a gzip stream), held in memory. Waited for as long as a one-shot answer: a large
    /// store takes a while.
    package func raftSnapshot() async throws(VaultError) -> Data {
        var request = URLRequest(url: URL(string: address + "/v1/sys/storage/raft/snapshot")!)
        request.httpMethod = "GET"
        request.setValue("true", forHTTPHeaderField: "X-Vault-Request")
        if let token { request.setValue(token, forHTTPHeaderField: "X-Vault-Token") }
        let (status, _, data) = try await transport.send(
            request, node: address, replyTimeout: VaultTransport.oneShotReplyTimeout)
        guard status == 200 else {
            let said = (try? JSONDecoder().decode([String: [String]].self, from: data))?["errors"] ?? []
            let text = said.isEmpty ? "HTTP \(status)" : said.joined(separator: "; ")
            throw VaultError(
                .server, "\(address) refused GET sys/storage/raft/snapshot: \(oneLine(text))", httpStatus: status,
                serverErrors: said)
        }
        guard data.count > 2, data[data.startIndex] == 0x1f, data[data.startIndex + 1] == 0x8b else {
            throw VaultError(.malformedReply, "\(address) sent a raft snapshot that is not a gzip stream")
        }
        return data
    }
}
