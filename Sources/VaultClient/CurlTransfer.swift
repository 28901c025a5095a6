internal import CCurl
import Foundation
import Shamir
import Synchronization

/// One HTTP exchange performed with libcurl's easy API: what FoundationNetworking cannot do on
/// Linux (trust a private CA, present a client certificate, verify another server name).
final class CurlTransfer: Sendable {
    /// What to send.
    struct Request {
        var method: String
        var url: URL
        var headers: [(String, String)]
        var body: Data?
        var tls: TLSOptions
        var timeout: TimeInterval
        /// Bounds the connection alone when shorter than `timeout` (nil: `timeout`).
        var connectTimeout: TimeInterval? = nil
        /// Ask libcurl for the server's certificate chain.
        var wantCertificates = false
    }

    /// What came back.
    struct Response {
        var status: Int
        var headers: [String: String]
        var body: Data
        /// The server's certificate chain as PEM texts, leaf first (when asked for).
        var certificates: [String] = []
    }

    /// A libcurl failure: its code and its own one-line text.
    struct Failure: Error {
        var code: UInt32
        var message: String
    }

    /// The largest reply accepted; Vault's are small, a garbage stream is not read forever.
    static let maximumBody = 16 << 20

    private let cancelled = Atomic<Bool>(false)

    /// Makes libcurl global state ready; once per process, before any thread uses it. (The
    /// keyturn CLI has initialised it already, first thing, with memory that is wiped on
    /// free; then this only counts.)
    private static let globalInit: Void = { _ = curl_global_init(Int(CURL_GLOBAL_DEFAULT)) }()

    /// Runs libcurl's (and OpenSSL's) one-time set-up now, on the calling thread. It is not
    /// thread-safe: done lazily, it raced with transfers already running on other threads
    /// (a crash inside libcrypto, about once in a few hundred TLS runs).
    static func prepare() { _ = globalInit }

    /// Aborts the transfer as soon as libcurl next calls back.
    func cancel() { cancelled.store(true, ordering: .relaxed) }

    /// Whether `cancel` was called.
    var isCancelled: Bool { cancelled.load(ordering: .relaxed) }

    /// Performs the request, blocking the calling thread until it completes or fails.
    func perform(_ request: Request) throws(Failure) -> Response {
        _ = Self.globalInit
        guard let handle = curl_easy_init() else {
            throw Failure(code: 2, message: "libcurl could not start a transfer")
        }
        defer { curl_easy_cleanup(handle) }
        let context = Context(transfer: self)
        let contextPointer = Unmanaged.passUnretained(context).toOpaque()
        var errorBuffer = [CChar](repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
        var lists: [UnsafeMutablePointer<curl_slist>] = []
        defer { lists.forEach { curl_slist_free_all($0) } }

        var url = request.url
        if let name = request.tls.serverName, let host = url.host,
            let port = url.port ?? (url.scheme == "https" ? 443 : 80) as Int?
        {
            // Ask for the certificate's name, and connect to the real address instead.
            var parts = URLComponents(url: url, resolvingAgainstBaseURL: false)
            parts?.host = name
            guard let named = parts?.url else {
                throw Failure(code: CURLE_URL_MALFORMAT.rawValue, message: "'\(name)' is not a host name")
            }
            url = named
            if let list = curl_slist_append(nil, "\(name):\(port):\(host):\(port)") {
                lists.append(list)
                _ = kt_curl_set_slist(handle, CURLOPT_CONNECT_TO, list)
            }
        }
        _ = kt_curl_set_string(handle, CURLOPT_URL, url.absoluteString)
        _ = kt_curl_set_long(handle, CURLOPT_NOSIGNAL, 1)
        _ = kt_curl_set_long(handle, CURLOPT_FOLLOWLOCATION, 0)
        // HTTP/1.1 even where TLS offers h2: libnghttp2 copies a request body (a share) into
        // frame buffers it frees unwiped, through an allocator keyturn cannot replace from here.
        _ = kt_curl_set_long(handle, CURLOPT_HTTP_VERSION, Int(CURL_HTTP_VERSION_1_1))
        _ = kt_curl_set_string(handle, CURLOPT_PROTOCOLS_STR, "http,https")
        let timeoutMS = max(1, Int(request.timeout * 1000))
        _ = kt_curl_set_long(handle, CURLOPT_TIMEOUT_MS, timeoutMS)
        let connectMS = request.connectTimeout.map { max(1, min(timeoutMS, Int($0 * 1000))) } ?? timeoutMS
        _ = kt_curl_set_long(handle, CURLOPT_CONNECTTIMEOUT_MS, connectMS)
        _ = errorBuffer.withUnsafeMutableBufferPointer {
            kt_curl_set_pointer(handle, CURLOPT_ERRORBUFFER, $0.baseAddress)
        }

        var headerList: UnsafeMutablePointer<curl_slist>? = nil
        for (name, value) in request.headers + [("Expect", "")] {
            headerList = curl_slist_append(headerList, value.isEmpty ? "\(name):" : "\(name): \(value)")
        }
        if let headerList {
            lists.append(headerList)
            _ = kt_curl_set_slist(handle, CURLOPT_HTTPHEADER, headerList)
        }
        switch request.method {
        case "GET": _ = kt_curl_set_long(handle, CURLOPT_HTTPGET, 1)
        case "HEAD": _ = kt_curl_set_long(handle, CURLOPT_NOBODY, 1)
        default: _ = kt_curl_set_string(handle, CURLOPT_CUSTOMREQUEST, request.method)
        }
        // The body (it may hold an unseal share) lives in a buffer of ours that libcurl reads
        // without copying and that is zeroed when the transfer is over.
        let bodyBuffer = UnsafeMutableRawBufferPointer.allocate(
            byteCount: max(1, request.body?.count ?? 0), alignment: 16)
        defer {
            secureZero(bodyBuffer)
            bodyBuffer.deallocate()
        }
        if let body = request.body ?? (request.method == "GET" ? nil : Data()) {
            _ = body.copyBytes(to: bodyBuffer.bindMemory(to: UInt8.self))
            _ = kt_curl_set_off(handle, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(body.count))
            _ = kt_curl_set_pointer(handle, CURLOPT_POSTFIELDS, bodyBuffer.baseAddress)
        }

        let tls = request.tls
        if tls.skipVerify {
            _ = kt_curl_set_long(handle, CURLOPT_SSL_VERIFYPEER, 0)
            _ = kt_curl_set_long(handle, CURLOPT_SSL_VERIFYHOST, 0)
        }
        if let ca = tls.caCertFile { _ = kt_curl_set_string(handle, CURLOPT_CAINFO, ca) }
        if let dir = tls.caPath {
            _ = kt_curl_set_string(handle, CURLOPT_CAPATH, dir)
            if tls.caCertFile == nil { _ = kt_curl_set_pointer(handle, CURLOPT_CAINFO, nil) }
        }
        if let cert = tls.clientCertFile { _ = kt_curl_set_string(handle, CURLOPT_SSLCERT, cert) }
        if let key = tls.clientKeyFile { _ = kt_curl_set_string(handle, CURLOPT_SSLKEY, key) }

        _ = kt_curl_set_data_cb(handle, CURLOPT_WRITEFUNCTION) { ptr, size, count, user in
            let context = Unmanaged<Context>.fromOpaque(user!).takeUnretainedValue()
            let n = size * count
            if context.body.count + n > CurlTransfer.maximumBody || context.transfer.isCancelled { return 0 }
            context.body.append(UnsafeRawPointer(ptr!).assumingMemoryBound(to: UInt8.self), count: n)
            return n
        }
        _ = kt_curl_set_pointer(handle, CURLOPT_WRITEDATA, contextPointer)
        _ = kt_curl_set_data_cb(handle, CURLOPT_HEADERFUNCTION) { ptr, size, count, user in
            let context = Unmanaged<Context>.fromOpaque(user!).takeUnretainedValue()
            let n = size * count
            let line = String(decoding: UnsafeRawBufferPointer(start: ptr, count: n), as: UTF8.self)
                .trimmingCharacters(in: .whitespacesAndNewlines)
            if line.hasPrefix("HTTP/") {
                context.headers = [:]  // a new response (after 100 Continue, say)
            } else if let colon = line.firstIndex(of: ":") {
                let name = String(line[..<colon]).trimmingCharacters(in: .whitespaces)
                context.headers[name] = String(line[line.index(after: colon)...]).trimmingCharacters(in: .whitespaces)
            }
            return n
        }
        _ = kt_curl_set_pointer(handle, CURLOPT_HEADERDATA, contextPointer)
        _ = kt_curl_set_long(handle, CURLOPT_NOPROGRESS, 0)
        _ = kt_curl_set_progress_cb(handle) { user, _, _, _, _ in
            Unmanaged<Context>.fromOpaque(user!).takeUnretainedValue().transfer.isCancelled ? 1 : 0
        }
        _ = kt_curl_set_pointer(handle, CURLOPT_XFERINFODATA, contextPointer)

        if request.wantCertificates { _ = kt_curl_set_long(handle, CURLOPT_CERTINFO, 1) }
        let result = curl_easy_perform(handle)
        withExtendedLifetime(context) {}
        guard result == CURLE_OK else {
            let detail = String(decoding: errorBuffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            let text = detail.isEmpty ? String(cString: curl_easy_strerror(result)) : detail
            if result == CURLE_WRITE_ERROR, context.body.count >= Self.maximumBody {
                throw Failure(code: result.rawValue, message: "the reply is larger than \(Self.maximumBody >> 20) MiB")
            }
            throw Failure(code: result.rawValue, message: text)
        }
        var status = 0
        _ = kt_curl_get_long(handle, CURLINFO_RESPONSE_CODE, &status)
        var response = Response(status: status, headers: context.headers, body: context.body)
        if request.wantCertificates { response.certificates = Self.chain(handle) }
        return response
    }

    /// The PEM texts of the chain libcurl recorded (its "Cert:" field per certificate).
    private static func chain(_ handle: UnsafeMutableRawPointer) -> [String] {
        var info: UnsafeMutablePointer<curl_certinfo>?
        guard kt_curl_get_certinfo(handle, &info) == CURLE_OK, let info, let lists = info.pointee.certinfo else {
            return []
        }
        var out: [String] = []
        for i in 0..<Int(info.pointee.num_of_certs) {
            var node = lists[i]
            while let n = node {
                if let data = n.pointee.data {
                    let field = String(cString: data)
                    if field.hasPrefix("Cert:") { out.append(String(field.dropFirst(5))) }
                }
                node = n.pointee.next
            }
        }
        return out
    }

    /// What the callbacks fill in; reached through curl's user-data pointer.
    private final class Context {
        let transfer: CurlTransfer
        var body = Data()
        var headers: [String: String] = [:]
        init(transfer: CurlTransfer) { self.transfer = transfer }
    }
}
