internal import CResolv
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Finds the nodes behind a name: `dns:NAME:PORT` is every address NAME resolves to (a
/// Kubernetes headless service), `srv:_service._proto.DOMAIN` every target of its SRV records
/// (what OpenBao's raft `auto_join` uses), each target's addresses. Each node is addressed by
/// its IP, with the name it was found by as the TLS server name (the certificate names the
/// service or the target, not the pod's IP). An optional `http://` or `https://` after the
/// prefix picks the scheme (default https).
package enum NodeDiscovery {
    /// One node found: its address (`https://10.0.0.5:8200`), and the name TLS verifies.
    package struct Node: Sendable, Hashable {
        package let address: String
        package let serverName: String?

        package init(address: String, serverName: String?) {
            self.address = address
            self.serverName = serverName
        }
    }

    /// Whether `address` is one this enum expands.
    package static func isName(_ address: String) -> Bool {
        address.hasPrefix("dns:") || address.hasPrefix("srv:")
    }

    /// The nodes behind `address`, asked of `server` (an IPv4 address and port) or, without it,
    /// of the system's resolver. Each record's number is range-checked; at most 64 nodes.
    package static func expand(_ address: String, server: (host: String, port: Int)?) throws(VaultError) -> [Node] {
        let isSRV = address.hasPrefix("srv:")
        var rest = String(address.dropFirst(4))
        var scheme = "https"
        for s in ["http", "https"] where rest.lowercased().hasPrefix(s + "://") {
            scheme = s
            rest = String(rest.dropFirst(s.count + 3))
        }
        if isSRV {
            guard rest.hasPrefix("_"), !rest.contains(":"), !rest.contains("/") else {
                throw VaultError(
                    .invalidAddress, "\(address) is not srv:_service._proto.DOMAIN", facts: ["node": address])
            }
            let records = try query(rest, type: 33, server: server, for: address)
                .filter { $0.port > 0 && $0.port <= 65535 && $0.text != "" && $0.text != "." }
                .sorted { ($0.priority, -$0.weight, $0.text) < ($1.priority, -$1.weight, $1.text) }
            guard !records.isEmpty else {
                throw VaultError(
                    .invalidAddress, "\(address): the SRV records name no target", facts: ["node": address])
            }
            // Each node is verified against its target's name, which the DNS answer chose: only
            // targets under the domain asked for are followed, so a forged answer cannot point
            // the token and the shares at a host a certificate exists for elsewhere.
            let domain = rest.split(separator: ".").dropFirst(2).joined(separator: ".").lowercased()
            for r in records
            where !isHostName(r.text) || !(r.text.lowercased() == domain || r.text.lowercased().hasSuffix("." + domain))
            {
                throw VaultError(
                    .invalidAddress,
                    "\(address): an SRV record names \(neutral(r.text)), which is not a host name under \(domain); "
                        + "nothing was sent", facts: ["node": address, "situation": "dnsForeignTarget"])
            }
            var nodes: [Node] = []
            for r in records {
                for ip in try addresses(of: r.text, server: server, for: address) {
                    nodes.append(Node(address: url(scheme, ip, r.port), serverName: r.text))
                }
            }
            return unique(nodes)
        }
        guard let colon = rest.lastIndex(of: ":"), let port = Int(rest[rest.index(after: colon)...]),
            (1...65535).contains(port), colon != rest.startIndex
        else {
            throw VaultError(.invalidAddress, "\(address) is not dns:NAME:PORT", facts: ["node": address])
        }
        let name = String(rest[..<colon])
        guard isHostName(name) else {
            throw VaultError(
                .invalidAddress, "\(address): \(neutral(name)) is not a host name", facts: ["node": address])
        }
        return unique(
            try addresses(of: name, server: server, for: address).map {
                Node(address: url(scheme, $0, port), serverName: name)
            })
    }

    /// A DNS host name: labels of letters, digits, hyphens and underscores (no hyphen at either
    /// end), each at most 63 bytes, at most 253 in all; a trailing dot allowed.
    package static func isHostName(_ name: String) -> Bool {
        let trimmed = name.hasSuffix(".") ? String(name.dropLast()) : name
        guard !trimmed.isEmpty, trimmed.utf8.count <= 253 else { return false }
        return trimmed.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { label in
            !label.isEmpty && label.utf8.count <= 63 && label.first != "-" && label.last != "-"
                && label.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }
        }
    }

    /// A name from a DNS answer, fit for one line.
    private static func neutral(_ text: String) -> String {
        String(text.prefix(80).map { ($0.asciiValue ?? 0) > 0x20 && ($0.asciiValue ?? 0) < 0x7f ? $0 : "?" })
    }

    private static func url(_ scheme: String, _ ip: String, _ port: Int) -> String {
        ip.contains(":") ? "\(scheme)://[\(ip)]:\(port)" : "\(scheme)://\(ip):\(port)"
    }

    private static func unique(_ nodes: [Node]) -> [Node] {
        var seen = Set<String>()
        return Array(nodes.filter { seen.insert($0.address).inserted }.prefix(64))
    }

    /// Every IPv4 and IPv6 address of `name`, in a stable order.
    private static func addresses(
        of name: String, server: (host: String, port: Int)?, for address: String
    ) throws(VaultError) -> [String] {
        if server == nil { return try systemAddresses(of: name, for: address) }
        var found: [String] = []
        var lastError: VaultError?
        for type in [Int32(1), 28] {
            do throws(VaultError) {
                found += try query(name, type: type, server: server, for: address).map(\.text)
            } catch {
                lastError = error
            }
        }
        if found.isEmpty, let lastError { throw lastError }
        return found.sorted()
    }

    /// The system's resolver (nsswitch: /etc/hosts, then DNS).
    private static func systemAddresses(of name: String, for address: String) throws(VaultError) -> [String] {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(name, nil, &hints, &list)
        guard status == 0, let list else {
            throw VaultError(
                .invalidAddress, "\(address): \(name) does not resolve (\(String(cString: gai_strerror(status))))",
                facts: ["node": address, "situation": "dnsNoName"])
        }
        defer { freeaddrinfo(list) }
        var found = Set<String>()
        var entry: UnsafeMutablePointer<addrinfo>? = list
        while let e = entry {
            var host = [CChar](repeating: 0, count: Int(NI_MAXHOST))
            if getnameinfo(
                e.pointee.ai_addr, e.pointee.ai_addrlen, &host, socklen_t(host.count), nil, 0, NI_NUMERICHOST)
                == 0
            {
                found.insert(String(decoding: host.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
            }
            entry = e.pointee.ai_next
        }
        return found.sorted()
    }

    private struct Record {
        let text: String
        let priority: Int
        let weight: Int
        let port: Int
    }

    private static func query(
        _ name: String, type: Int32, server: (host: String, port: Int)?, for address: String
    ) throws(VaultError) -> [Record] {
        var records = [kt_dns_record](repeating: kt_dns_record(), count: 64)
        var error: Int32 = 0
        let count = records.withUnsafeMutableBufferPointer { buffer in
            kt_dns_query(server?.host, Int32(server?.port ?? 0), name, type, buffer.baseAddress, 64, &error)
        }
        guard count >= 0 else {
            let asked = server.map { "\($0.host):\($0.port)" } ?? "the system's resolver"
            let (why, situation): (String, String) =
                switch Int(error) {
                case KT_DNS_NO_NAME: ("\(name) does not exist (NXDOMAIN)", "dnsNoName")
                case KT_DNS_NO_DATA: ("\(name) has no \(type == 33 ? "SRV" : "address") records", "dnsNoName")
                case KT_DNS_BAD_ANSWER:
                    ("\(asked) sent an answer that does not parse, or too large a one", "dnsNoAnswer")
                case KT_DNS_BAD_SERVER: ("\(asked) is not an IPv4 address and port", "dnsNoAnswer")
                default: ("\(asked) did not answer for \(name)", "dnsNoAnswer")
                }
            throw VaultError(.invalidAddress, "\(address): \(why)", facts: ["node": address, "situation": situation])
        }
        return records.prefix(Int(count)).map { r in
            var copy = r
            let text = withUnsafeBytes(of: &copy.text) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            return Record(text: text, priority: Int(r.priority), weight: Int(r.weight), port: Int(r.port))
        }
    }
}
