import Foundation
import Synchronization

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// Per-session TLS settings and per-request bodies for `CurlURLProtocol`. Foundation passes
/// neither session headers nor protocol properties to a custom URLProtocol on Linux, so each
/// request names its settings (and its body) by an id in a header that the protocol removes
/// before sending. Bodies go this way rather than in `httpBody` because URLSessionTask copies
/// an `httpBody` into a DispatchData that is freed without being wiped, and an unseal body
/// holds a share.
final class TransportRegistry: Sendable {
    static let shared = TransportRegistry()
    /// The header that carries the settings' id from the session to the protocol.
    static let header = "X-Keyturn-Transport"
    /// The header that carries the body's id.
    static let bodyHeader = "X-Keyturn-Body"
    /// The header that carries a connection timeout shorter than the request's own (seconds),
    /// for requests whose reply is waited for longer than the connection.
    static let connectTimeoutHeader = "X-Keyturn-Connect-Timeout"

    private let entries = Mutex<[String: TLSOptions]>([:])
    private let bodies = Mutex<[String: Data]>([:])
    private let counter = Atomic<Int>(0)

    /// Keeps a request body until `removeBody`; returns its id.
    func registerBody(_ body: Data) -> String {
        let id = "b\(counter.add(1, ordering: .relaxed).newValue)"
        bodies.withLock { $0[id] = body }
        return id
    }

    /// The body with this id.
    func body(_ id: String?) -> Data? {
        guard let id else { return nil }
        return bodies.withLock { $0[id] }
    }

    /// Forgets a body (its last reference may be the one that wipes it).
    func removeBody(_ id: String) { _ = bodies.withLock { $0.removeValue(forKey: id) } }

    /// Stores settings; returns their id.
    func register(_ tls: TLSOptions) -> String {
        let id = "t\(counter.add(1, ordering: .relaxed).newValue)"
        entries.withLock { $0[id] = tls }
        return id
    }

    /// Forgets settings.
    func remove(_ id: String) { _ = entries.withLock { $0.removeValue(forKey: id) } }

    /// The settings with this id.
    func options(_ id: String?) -> TLSOptions? {
        guard let id else { return nil }
        return entries.withLock { $0[id] }
    }
}

/// A URLProtocol that performs http(s) requests with libcurl, so URLSession on Linux can use
/// a private CA, a CA directory, a client certificate and a server-name override.
/// It never follows redirects (and so never re-sends a Vault token to another host).
final class CurlURLProtocol: URLProtocol {
    private let transfer = CurlTransfer()

    override class func canInit(with request: URLRequest) -> Bool {
        guard let scheme = request.url?.scheme?.lowercased() else { return false }
        return scheme == "http" || scheme == "https"
    }

    override class func canonicalRequest(for request: URLRequest) -> URLRequest { request }

    override func startLoading() {
        let request = self.request
        let tls =
            TransportRegistry.shared.options(request.value(forHTTPHeaderField: TransportRegistry.header))
            ?? TLSOptions()
        let ours = [TransportRegistry.header, TransportRegistry.bodyHeader, TransportRegistry.connectTimeoutHeader]
        let headers = (request.allHTTPHeaderFields ?? [:])
            .filter { field in !ours.contains { $0.caseInsensitiveCompare(field.key) == .orderedSame } }
            .map { ($0.key, $0.value) }
        let body =
            TransportRegistry.shared.body(request.value(forHTTPHeaderField: TransportRegistry.bodyHeader))
            ?? request.httpBody
        let job = CurlTransfer.Request(
            method: request.httpMethod ?? "GET", url: request.url!, headers: headers,
            body: body, tls: tls, timeout: request.timeoutInterval,
            connectTimeout: request.value(forHTTPHeaderField: TransportRegistry.connectTimeoutHeader).flatMap(
                TimeInterval.init))
        let transfer = self.transfer
        let box = ProtocolBox(self)
        // Report back only once startLoading has returned to Foundation, which may still be
        // setting the task up when a loopback reply is already complete.
        let started = DispatchSemaphore(value: 0)
        defer { started.signal() }
        Thread.detachNewThread {
            let result = Result { () throws(CurlTransfer.Failure) in try transfer.perform(job) }
            started.wait()
            guard !transfer.isCancelled else { return }  // after stopLoading, stay silent
            box.finish(result, url: job.url)
        }
    }

    override func stopLoading() { transfer.cancel() }

    fileprivate func finish(_ result: Result<CurlTransfer.Response, CurlTransfer.Failure>, url: URL) {
        guard let client else { return }
        switch result {
        case .success(let r):
            let response = HTTPURLResponse(
                url: request.url ?? url, statusCode: r.status, httpVersion: "HTTP/1.1", headerFields: r.headers)!
            client.urlProtocol(self, didReceive: response, cacheStoragePolicy: .notAllowed)
            if !r.body.isEmpty { client.urlProtocol(self, didLoad: r.body) }  // in one call: didLoad replaces
            client.urlProtocolDidFinishLoading(self)
        case .failure(let failure):
            client.urlProtocol(self, didFailWithError: Self.urlError(failure, url: url))
        }
    }

    /// libcurl's failure as the URLError URLSession callers expect, keeping curl's code and text.
    static func urlError(_ failure: CurlTransfer.Failure, url: URL) -> URLError {
        let code: URLError.Code
        switch failure.code {
        case 6: code = .cannotFindHost
        case 7: code = .cannotConnectToHost
        case 28: code = .timedOut
        case 60, 77: code = .serverCertificateUntrusted
        case 58: code = .clientCertificateRejected
        case 35, 53, 54, 59, 64, 66, 80, 83, 90, 91: code = .secureConnectionFailed
        case 18, 52, 55, 56: code = .networkConnectionLost
        case 42: code = .cancelled
        case 8: code = .badServerResponse
        case 23: code = .dataLengthExceedsMaximum
        default: code = .unknown
        }
        return URLError(
            code,
            userInfo: [
                NSLocalizedDescriptionKey: failure.message,
                CurlURLProtocol.curlCodeKey: Int(failure.code),
                NSURLErrorFailingURLErrorKey: url,
            ])
    }

    /// The userInfo key holding libcurl's error code.
    static let curlCodeKey = "KeyturnCurlCode"
}

/// Carries the protocol to the transfer thread: URLProtocol is not Sendable on Linux, but the
/// protocol is only touched again once the transfer is over.
private final class ProtocolBox: @unchecked Sendable {
    let proto: CurlURLProtocol
    init(_ proto: CurlURLProtocol) { self.proto = proto }
    func finish(_ result: Result<CurlTransfer.Response, CurlTransfer.Failure>, url: URL) {
        proto.finish(result, url: url)
    }
}
