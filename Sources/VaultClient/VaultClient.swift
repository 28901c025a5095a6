import Foundation
import Shamir
import Synchronization

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// The connection settings shared by every node of one command: requests go through
/// URLSession with libcurl doing the transfer, with these TLS options and this timeout.
package final class VaultTransport: Sendable {
    /// The TLS settings in force.
    package let tls: TLSOptions
    /// Seconds before a request to a node is given up.
    package let timeout: TimeInterval
    /// How long an answer the server gives only once (`sys/init`, a share submitted to a rekey
    /// or generate-root) is waited for once the request is sent: `timeout` still bounds the
    /// connection, but not the reply. A node behind an HSM or cloud-KMS seal, or on a loaded
    /// disk, can take well over 10 s to initialise (raft init alone took 5 to 10 s here), and
    /// giving up would lose the keys for good. OpenBao's own client waits 60 s.
    package static let oneShotReplyTimeout: TimeInterval = 600
    private let configuration: URLSessionConfiguration.Snapshot
    private let registration: String

    /// Makes a transport; `timeout` bounds each request (connect and reply).
    package init(tls: TLSOptions = TLSOptions(), timeout: TimeInterval = 10) {
        self.tls = tls
        self.timeout = timeout
        registration = TransportRegistry.shared.register(tls)
        configuration = .init(timeout: timeout)
        // Global set-up of libcurl, for our transfers and for FoundationNetworking's own use
        // of it, before any request runs on another thread.
        CurlTransfer.prepare()
        Self.foundationPrepared.withLock { prepared in
            if !prepared {
                URLSession(configuration: .ephemeral).invalidateAndCancel()
                prepared = true
            }
        }
    }

    private static let foundationPrepared = Mutex(false)

    deinit {
        TransportRegistry.shared.remove(registration)
    }

    /// A session for one request. FoundationNetworking reads a session's task registry without
    /// a lock when a custom URLProtocol reports back, so concurrent requests on one session
    /// race (seen here as a crash in about 1 in 100 five-node runs); a session per request has
    /// one task and nothing to race with.
    private func makeSession(replyTimeout: TimeInterval) -> URLSession {
        let c = URLSessionConfiguration.ephemeral
        c.protocolClasses = [CurlURLProtocol.self]
        // libcurl enforces the timeout; URLSession's own is a backstop that should never fire.
        c.timeoutIntervalForRequest = replyTimeout + 5
        c.timeoutIntervalForResource = replyTimeout + 5
        c.requestCachePolicy = .reloadIgnoringLocalCacheData
        c.urlCache = nil
        return URLSession(configuration: c)
    }

    /// Sends one request; returns status, headers and body, or a typed error naming `node`.
    /// `replyTimeout`, when given, bounds the whole exchange instead of `timeout`, which then
    /// bounds only the connection (for answers the server gives only once).
    func send(
        _ request: URLRequest, node: String, replyTimeout: TimeInterval? = nil
    ) async throws(VaultError) -> (Int, [AnyHashable: Any], Data) {
        var request = request
        request.setValue(registration, forHTTPHeaderField: TransportRegistry.header)
        let wait = replyTimeout ?? timeout
        request.timeoutInterval = wait
        if replyTimeout != nil {
            request.setValue(String(timeout), forHTTPHeaderField: TransportRegistry.connectTimeoutHeader)
        }
        let session = makeSession(replyTimeout: wait)
        defer { session.finishTasksAndInvalidate() }
        do {
            let (data, response) = try await session.data(for: request)
            guard let http = response as? HTTPURLResponse else {
                throw VaultError(.malformedReply, "\(node) sent a reply that is not HTTP")
            }
            return (http.statusCode, http.allHeaderFields, data)
        } catch let error as VaultError {
            throw error
        } catch let error as URLError {
            throw Self.classify(error, node: node, tls: tls, timeout: wait)
        } catch {
            throw VaultError(.unreachable, "\(node) is unreachable: \(error.localizedDescription)")
        }
    }

    /// Turns a transport failure into keyturn's error codes, with hints for the TLS cases.
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
                hint: "raise --timeout if the node is only slow")
        case .serverCertificateUntrusted:
            if lower.contains("subject name") || lower.contains("does not match")
                || lower.contains("alternative certificate")
            {
                return VaultError(
                    .tlsNameMismatch, "\(node) presented a certificate that is not for this name",
                    hint: "connect by a name the certificate lists, or pass --tls-server-name NAME")
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
                hint: tls.caCertFile == nil && tls.caPath == nil
                    ? "pass the CA that signed it with --ca-cert FILE (or VAULT_CACERT)"
                    : "check that --ca-cert / --ca-path hold the CA that signed the server's certificate")
        case .clientCertificateRejected:
            return VaultError(
                .clientCertificateUnusable, "the client certificate or key cannot be used: \(lower)",
                hint: "check that --client-cert and --client-key are a matching PEM certificate and key")
        case .networkConnectionLost:
            // With TLS 1.3 the server checks the client certificate after the client has
            // finished its handshake, so a missing one shows up as an alert, or as the
            // connection dropping (curl 55 or 56) on the first read or write.
            let alert = lower.contains("alert") || lower.contains("certificate")
            if node.hasPrefix("https"), alert || curl == 55 || curl == 56 {
                if tls.clientCertFile != nil {
                    return VaultError(
                        .clientCertificateRequired, "\(node) rejected the client certificate",
                        hint: "use a client certificate signed by a CA the server trusts")
                }
                return VaultError(
                    .clientCertificateRequired,
                    alert
                        ? "\(node) requires a client certificate"
                        : "\(node) dropped the TLS connection: it probably requires a client certificate",
                    hint: "pass --client-cert and --client-key (or VAULT_CLIENT_CERT and VAULT_CLIENT_KEY)")
            }
            return VaultError(.connectionLost, "\(node) closed the connection before its reply was complete")
        case .secureConnectionFailed:
            if lower.contains("alert") && (lower.contains("certificate") || lower.contains("handshake"))
                && tls.clientCertFile == nil
            {
                return VaultError(
                    .clientCertificateRequired, "\(node) requires a client certificate",
                    hint: "pass --client-cert and --client-key (or VAULT_CLIENT_CERT and VAULT_CLIENT_KEY)")
            }
            if lower.contains("wrong version number") {
                return VaultError(
                    .tlsFailure, "\(node) does not speak TLS", hint: "use http:// for a listener with tls_disable")
            }
            return VaultError(.tlsFailure, "TLS with \(node) failed: \(lower)")
        case .badServerResponse:
            if node.hasPrefix("http:") {
                return VaultError(
                    .malformedReply, "\(node) did not answer in HTTP", hint: "if the listener uses TLS, use https://")
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

extension URLSessionConfiguration {
    /// The settings a transport keeps to make its sessions (URLSessionConfiguration itself is
    /// not Sendable).
    struct Snapshot: Sendable {
        var timeout: TimeInterval
    }
}

/// "10 s", "0.5 s".
func formatSeconds(_ t: TimeInterval) -> String {
    t.rounded() == t ? "\(Int(t)) s" : "\(t) s"
}

/// A client of one Vault or OpenBao node's HTTP API. Never prints, reads the environment or
/// exits: every outcome is a value or a `VaultError` that names the node.
package struct VaultClient: Sendable {
    /// The node's address as given (`https://host:8200`).
    package let address: String
    private let base: URL
    let transport: VaultTransport
    /// The token sent (as `X-Vault-Token`) to the endpoints that need one: OpenBao's
    /// authenticated `sys/rotate/*`. Never sent anywhere else.
    package var token: String?

    /// A client for the node at `address` (http or https URL with a host, no query).
    package init(address: String, transport: VaultTransport) throws(VaultError) {
        let trimmed = address.hasSuffix("/") ? String(address.dropLast()) : address
        guard let url = URL(string: trimmed), let scheme = url.scheme?.lowercased(),
            scheme == "http" || scheme == "https", let host = url.host, !host.isEmpty,
            url.query == nil, url.fragment == nil
        else {
            throw VaultError(
                .invalidAddress, "\(address) is not a node address", hint: "use a URL such as https://127.0.0.1:8200")
        }
        self.address = trimmed
        self.base = url
        self.transport = transport
    }

    /// `GET sys/seal-status`, with every field Vault sent.
    package func sealStatus() async throws(VaultError) -> (SealStatus, [String: JSONValue]) {
        try await call("GET", "sys/seal-status", accept: [200])
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
        try await call("PUT", "sys/unseal", body: try encode(request), accept: [200]).0
    }

    /// `PUT sys/unseal` with one share given as bytes: the request body is built in memory
    /// that is zeroed when released, so the share's hex never sits in an ordinary String.
    package func unseal(share: UnsafeRawBufferPointer, migrate: Bool = false) async throws(VaultError) -> SealStatus {
        try await call(
            "PUT", "sys/unseal", body: Self.shareBody(share, suffix: migrate ? #","migrate":true}"# : "}"),
            accept: [200]
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

    private func encode<T: Encodable>(_ value: T) throws(VaultError) -> Data {
        do { return try JSONEncoder().encode(value) } catch {
            throw VaultError(.malformedReply, "cannot encode the request to \(address)")
        }
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
        let (status, headers, reply) = try await transport.send(request, node: address, replyTimeout: replyTimeout)
        let data = allowEmpty && reply.isEmpty ? Data("{}".utf8) : reply
        let endpoint = "\(method) \(path)"
        if (300..<400).contains(status) {
            let location = headers.first { ($0.key as? String)?.lowercased() == "location" }?.value as? String
            throw VaultError(
                .redirect,
                "\(address) redirected \(endpoint)\(location.map { " to \($0)" } ?? ""); keyturn does not follow "
                    + "redirects",
                hint: "give the address of the node itself (its api_addr)", httpStatus: status)
        }
        guard accept.contains(status) else {
            let errors = (try? JSONDecoder().decode(ServerErrors.self, from: data))?.errors ?? []
            let said = errors.isEmpty ? "HTTP \(status)" : errors.joined(separator: "; ")
            throw VaultError(
                .server, "\(address) refused \(endpoint): \(oneLine(said))", httpStatus: status, serverErrors: errors)
        }
        do {
            let raw = try JSONDecoder().decode([String: JSONValue].self, from: data)
            return (try JSONDecoder().decode(T.self, from: data), raw)
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
                hint: "is this the address of a Vault or OpenBao node?", httpStatus: status)
        }
    }
}

/// Vault's error body.
private struct ServerErrors: Decodable {
    var errors: [String]
}

/// Server text folded onto one line and bounded, for error messages.
func oneLine(_ text: String) -> String {
    let flat = text.split(whereSeparator: \.isNewline).joined(separator: " ")
    return flat.count > 300 ? String(flat.prefix(300)) + "..." : flat
}

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
