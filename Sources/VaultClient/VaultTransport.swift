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
