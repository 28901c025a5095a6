import Foundation
import Shamir
import Synchronization

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// A client of one Vault or OpenBao node's HTTP API. Never prints, reads the environment or
/// exits: every outcome is a value or a `VaultError` that names the node.
package struct VaultClient: Sendable {
    /// The node's address as given (`https://host:8200`).
    package let address: String
    let base: URL
    private(set) var transport: VaultTransport
    /// The token sent (as `X-Vault-Token`) only by the calls that need one (`token: true`): the
    /// rekey and generate-root endpoints (OpenBao's `sys/rotate/*`, `sys/generate-root-token/*`;
    /// Vault 2.0 wants it on `sys/rekey/*`, `sys/generate-root/*` too), seal, step-down,
    /// lookup-self, the raft snapshot, `status`'s raft voter questions, a namespace's seal
    /// endpoints. Never to init or the cluster's unseal.
    package var token: String?
    /// A sealable namespace (OpenBao 2.6+): seal status, unseal and seal go to its own
    /// `sys/namespaces/NAME/*` (with the token), the quorum operations to `NAME/sys/...`.
    package var namespace: String?

    /// A client for the node at `address` (http or https URL with a host, no query).
    package init(address: String, transport: VaultTransport) throws(VaultError) {
        let trimmed = address.hasSuffix("/") ? String(address.dropLast()) : address
        guard let url = URL(string: trimmed), let scheme = url.scheme?.lowercased(),
            scheme == "http" || scheme == "https", let host = url.host, !host.isEmpty,
            url.query == nil, url.fragment == nil
        else {
            throw VaultError(
                .invalidAddress, "\(address) is not a node address", facts: ["node": address])
        }
        self.address = trimmed
        self.base = url
        self.transport = transport
    }

    /// The same client whose requests give up after `timeout` seconds (at most its own):
    /// for a caller with a deadline of its own, such as `status --wait`.
    package func bounded(by timeout: TimeInterval) -> VaultClient {
        guard timeout < transport.timeout else { return self }
        var c = self
        c.transport = VaultTransport(tls: transport.tls, timeout: max(0.2, timeout))
        return c
    }

    /// `GET sys/seal-status`, with every field Vault sent.
    package func sealStatus() async throws(VaultError) -> (SealStatus, [String: JSONValue]) {
        try await sealCall("GET", "seal-status", accept: [200])
    }

    /// `GET sys/health`; every status Vault uses for health (standby 429, sealed 503, ...) is an answer.
    package func health() async throws(VaultError) -> (HealthStatus, [String: JSONValue]) {
        try await call("GET", "sys/health", accept: [200, 429, 472, 473, 501, 503])
    }

    /// `GET sys/leader`; nil while the node is sealed (it answers 503 then).
    package func leader() async throws(VaultError) -> (LeaderStatus, [String: JSONValue])? {
        do {
            return try await call("GET", "sys/leader", accept: [200])
        } catch  where error.code == .server && error.httpStatus == 503 {
            return nil
        }
    }

    /// `GET sys/init`.
    package func initStatus() async throws(VaultError) -> InitStatus {
        try await call("GET", "sys/init", accept: [200]).0
    }

    /// `PUT sys/init`: the one-shot call that returns the shares and the root token. Its reply
    /// is waited for up to `VaultTransport.oneShotReplyTimeout`, not the transport's timeout.
    package func initialize(_ request: InitRequest) async throws(VaultError) -> InitResponse {
        try await call(
            "PUT", "sys/init", body: try encode(request), accept: [200],
            replyTimeout: VaultTransport.oneShotReplyTimeout
        ).0
    }

    /// `PUT sys/unseal` with one share, a reset, or a migration flag.
    package func unseal(_ request: UnsealRequest) async throws(VaultError) -> SealStatus {
        try await sealCall("PUT", "unseal", body: try encode(request), accept: [200]).0
    }

    /// `PUT sys/unseal` with one share given as bytes: the request body is built in memory
    /// that is zeroed when released, so the share's hex never sits in an ordinary String.
    package func unseal(share: UnsafeRawBufferPointer, migrate: Bool = false) async throws(VaultError) -> SealStatus {
        try await sealCall(
            "PUT", "unseal", body: Self.shareBody(share, suffix: migrate ? #","migrate":true}"# : "}"), accept: [200]
        ).0
    }

    /// `{"key":"<hex of share>"` followed by `suffix` (the rest of the object), built in memory
    /// that is zeroed when the body is released, so the share's hex never sits in a String.
    static func shareBody(_ share: UnsafeRawBufferPointer, suffix: String) -> Data {
        let prefix = Array(#"{"key":""#.utf8)
        let tail = Array(("\"" + suffix).utf8)
        let count = prefix.count + 2 * share.count + tail.count
        let raw = UnsafeMutableRawBufferPointer.allocate(byteCount: count, alignment: 16)
        raw.copyBytes(from: prefix)
        ShareHex.encode(
            share, into: UnsafeMutableRawBufferPointer(rebasing: raw[prefix.count..<(prefix.count + 2 * share.count)]))
        UnsafeMutableRawBufferPointer(rebasing: raw[(prefix.count + 2 * share.count)...]).copyBytes(from: tail)
        return Data(
            bytesNoCopy: raw.baseAddress!, count: count,
            deallocator: .custom { pointer, size in
                secureZero(UnsafeMutableRawBufferPointer(start: pointer, count: size))
                pointer.deallocate()
            })
    }

    func encode<T: Encodable>(_ value: T) throws(VaultError) -> Data {
        do { return try JSONEncoder().encode(value) } catch {
            throw VaultError(.malformedReply, "cannot encode the request to \(address)")
        }
    }

    /// Sends one request (with `token`, the client's token; a JSON body beside it) and returns
    /// the status, headers and body, whatever the status.
    func send(
        _ method: String, _ path: String, body: Data? = nil, token: Bool = false, replyTimeout: TimeInterval? = nil
    ) async throws(VaultError) -> (Int, [AnyHashable: Any], Data) {
        var request = URLRequest(url: base.appendingPathComponent("v1/" + path))
        request.httpMethod = method
        request.setValue("true", forHTTPHeaderField: "X-Vault-Request")
        if token, let value = self.token { request.setValue(value, forHTTPHeaderField: "X-Vault-Token") }
        var bodyID: String?
        if let body {
            // Beside the request, not in httpBody: see TransportRegistry.
            let id = TransportRegistry.shared.registerBody(body)
            bodyID = id
            request.setValue(id, forHTTPHeaderField: TransportRegistry.bodyHeader)
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        defer { if let bodyID { TransportRegistry.shared.removeBody(bodyID) } }
        return try await transport.send(request, node: address, replyTimeout: replyTimeout)
    }

    /// Sends a request and decodes the reply both as `T` and as raw JSON.
    /// With `token`, the client's token goes along (an authenticated endpoint); with
    /// `allowEmpty`, an empty body (a 204) decodes as an empty object.
    /// With `replyTimeout`, the reply is waited for that long (see `VaultTransport.send`).
    func call<T: Decodable>(
        _ method: String, _ path: String, body: Data? = nil, accept: Set<Int>, token: Bool = false,
        allowEmpty: Bool = false,
        replyTimeout: TimeInterval? = nil
    ) async throws(VaultError) -> (T, [String: JSONValue]) {
        let (status, headers, reply) = try await send(
            method, path, body: body, token: token, replyTimeout: replyTimeout)
        let data = allowEmpty && reply.isEmpty ? Data("{}".utf8) : reply
        let endpoint = "\(method) \(path)"
        if (300..<400).contains(status) {
            let location = headers.first { ($0.key as? String)?.lowercased() == "location" }?.value as? String
            throw VaultError(
                .redirect,
                "\(address) redirected \(endpoint)\(location.map { " to \($0)" } ?? ""); keyturn does not follow "
                    + "redirects",
                facts: ["node": address], httpStatus: status)
        }
        guard accept.contains(status) else {
            let errors = (try? JSONDecoder().decode(ServerErrors.self, from: data))?.errors ?? []
            let said = errors.isEmpty ? "HTTP \(status)" : errors.joined(separator: "; ")
            throw VaultError(
                .server, "\(address) refused \(endpoint): \(oneLine(said))", httpStatus: status, serverErrors: errors)
        }
        do {
            return try decode(data, endpoint: endpoint, status: status)
        } catch var error {
            // An answer that comes only once is kept whole, however broken: the operation happened.
            if replyTimeout != nil { error.unreadOneShotReply = String(decoding: data, as: UTF8.self) }
            throw error
        }
    }

    /// Decodes an accepted reply as `T` and as raw JSON, every number range-checked.
    private func decode<T: Decodable>(
        _ data: Data, endpoint: String, status: Int
    ) throws(VaultError) -> (
        T, [String: JSONValue]
    ) {
        do {
            let raw = try JSONDecoder().decode([String: JSONValue].self, from: data)
            let value = try JSONDecoder().decode(T.self, from: data)
            // A number a hostile server sends is checked before anything computes with it.
            if let field = (value as? any RangeChecked)?.outOfRange {
                throw VaultError(
                    .malformedReply, "\(address) sent a reply to \(endpoint) where '\(field)' is out of range",
                    httpStatus: status)
            }
            return (value, raw)
        } catch let error as VaultError {
            throw error
        } catch let DecodingError.keyNotFound(key, _) {
            throw VaultError(
                .malformedReply, "\(address) sent a reply to \(endpoint) without '\(key.stringValue)'",
                httpStatus: status)
        } catch let DecodingError.typeMismatch(_, context) {
            let field = context.codingPath.map(\.stringValue).joined(separator: ".")
            throw VaultError(
                .malformedReply, "\(address) sent a reply to \(endpoint) where '\(field)' has the wrong type",
                httpStatus: status)
        } catch {
            throw VaultError(
                .malformedReply, "\(address) sent a reply to \(endpoint) that is not JSON",
                facts: ["node": address, "situation": "notJSON"], httpStatus: status)
        }
    }
}

/// Vault's error body.
private struct ServerErrors: Decodable {
    var errors: [String]
}

/// Server text folded onto one line and bounded, for error messages.
package func oneLine(_ text: String) -> String {
    let flat = text.split(whereSeparator: \.isNewline).joined(separator: " ")
    return flat.count > 300 ? String(flat.prefix(300)) + "..." : flat
}
