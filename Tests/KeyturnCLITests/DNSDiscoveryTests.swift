import Foundation
import KeyturnTestSupport
import Testing

/// `-a dns:NAME:PORT` and `-a srv:_service._proto.DOMAIN` against a real DNS server (dnsmasq on a
/// loopback port) and real OpenBao nodes on two loopback addresses sharing a port, as the pods
/// behind a Kubernetes headless service do.
@Suite(
    "finding the nodes by DNS: dns: and srv: addresses (dnsmasq, OpenBao on 127.0.0.1 and 127.0.0.2)",
    .enabled(if: DNSServer.binary != nil, "needs dnsmasq (Scripts/test installs dnsmasq-base)"))
struct DNSDiscoveryTests {
    /// The addresses `status --format json` reports.
    func addresses(_ r: ProcessResult) throws -> [String] {
        try (jsonObject(r)["nodes"] as? [[String: Any]] ?? []).compactMap { $0["address"] as? String }
    }

    @Test(
        """
        a two-node raft cluster: dns: finds both nodes, srv: both targets; one unseal with srv: unseals both; an \
        unknown name is NXDOMAIN, a dead DNS server says so (exit 1, nothing sent)
        """
    )
    func cluster() async throws {
        let a = try await OpenBaoServer.start(.init(nodeID: "a"))
        defer { a.stop() }
        var options = OpenBaoServer.Options(joinLeader: a.address, nodeID: "b")
        (options.host, options.port) = ("127.0.0.2", a.port)
        let b = try await OpenBaoServer.start(options)
        defer { b.stop() }
        let port = a.port
        let dns = try await DNSServer([
            .address("nodes.test", "127.0.0.1"), .address("nodes.test", "127.0.0.2"),
            .address("node-a.cluster.test", "127.0.0.1"), .address("node-b.cluster.test", "127.0.0.2"),
            .srv("_openbao._tcp.cluster.test", target: "node-a.cluster.test", port: port),
            .srv("_openbao._tcp.cluster.test", target: "node-b.cluster.test", port: port),
            .address("evil.test", "127.0.0.1"), .srv("_evil._tcp.cluster.test", target: "evil.test", port: port),
            .address("six.test", "127.0.0.1"), .address("six.test", "::1"),
        ])
        defer { dns.stop() }
        let both = ["http://127.0.0.1:\(port)", "http://127.0.0.2:\(port)"]
        let byName = ["-a", "dns:http://nodes.test:\(port)", "--dns-server", dns.address]
        let bySRV = ["-a", "srv:http://_openbao._tcp.cluster.test", "--dns-server", dns.address]

        var r = try await Keyturn.launch(["status", "--format", "json"] + byName)
        #expect(r.status == 2, "\(r.stderr)")  // found, not initialised
        #expect(try addresses(r) == both, "\(r.stdoutText)")
        r = try await Keyturn.launch(["status", "--format", "json"] + bySRV)
        #expect(try addresses(r) == both, "\(r.stdoutText)\(r.stderr)")
        // A and AAAA: every address, an IPv6 one in brackets (no node listens there: unreachable).
        r = try await Keyturn.launch([
            "status", "--format", "json", "-a", "dns:http://six.test:\(port)", "--dns-server", dns.address,
        ])
        #expect(try addresses(r) == ["http://127.0.0.1:\(port)", "http://[::1]:\(port)"], "\(r.stdoutText)\(r.stderr)")

        let (keys, _) = try await a.initialize(shares: 1, threshold: 1)
        r = try await Keyturn.launch(["unseal", "--wait", "120", "-"] + bySRV, stdin: Array((keys[0] + "\n").utf8))
        #expect(r.status == 0, "\(r.stdoutText)\(r.stderr)")
        r = try await Keyturn.launch(["status", "--wait", "60"] + byName)
        #expect(r.status == 0, "\(r.stdoutText)\(r.stderr)")
        #expect(try await b.sealStatus()["sealed"] as? Bool == false)

        r = try await Keyturn.launch(["status", "-a", "dns:http://missing.test:\(port)", "--dns-server", dns.address])
        #expect(r.status == 1, "\(r.stderr)")
        #expect(r.stderr.contains("missing.test does not exist (NXDOMAIN)"), "\(r.stderr)")
        let dead = "127.0.0.1:\(try freeLoopbackPort())"
        r = try await Keyturn.launch(["unseal", "-"] + byName.dropLast() + [dead], stdin: Array((keys[0] + "\n").utf8))
        #expect(r.status == 1, "\(r.stderr)")
        #expect(r.stderr.contains("\(dead) did not answer"), "\(r.stderr)")
        // An SRV answer pointing outside the domain asked for (a forged one would): nothing is sent.
        r = try await Keyturn.launch([
            "status", "-a", "srv:http://_evil._tcp.cluster.test", "--dns-server", dns.address,
        ])
        #expect(r.status == 1 && r.stderr.contains("not a host name under cluster.test"), "\(r.stderr)")
        r = try await Keyturn.launch(["status", "-a", "http://127.0.0.1:\(port)", "--tls-server-name", "a b"])
        #expect(r.status == 1 && r.stderr.contains("is not a host name"), "\(r.stderr)")
        r = try await Keyturn.launch([
            "status", "-a", "srv:http://_vault._tcp.cluster.test", "--dns-server", dns.address,
        ])
        #expect(r.status == 1 && r.stderr.contains("NXDOMAIN"), "\(r.stderr)")
    }

    @Test(
        """
        TLS: a node found by dns:NAME is verified against NAME (its certificate names the service, not the IP); \
        a name the certificate does not hold is refused
        """
    )
    func tlsName() async throws {
        let pki = try TestPKI(sans: ["DNS:nodes.test"])
        var options = OpenBaoServer.Options(tlsCertFile: pki.serverCert, tlsKeyFile: pki.serverKey)
        options.host = "127.0.0.2"
        let server = try await OpenBaoServer.start(options)
        defer { server.stop() }
        let dns = try await DNSServer([
            .address("nodes.test", "127.0.0.2"), .address("other.test", "127.0.0.2"),
        ])
        defer { dns.stop() }
        var r = try await Keyturn.launch([
            "status", "-a", "dns:nodes.test:\(server.port)", "--dns-server", dns.address, "--ca-cert", pki.caCert,
            "--format", "json",
        ])
        #expect(r.status == 2, "\(r.stderr)")  // reached and verified; not initialised
        #expect(try addresses(r) == ["https://127.0.0.2:\(server.port)"], "\(r.stdoutText)")
        r = try await Keyturn.launch([
            "status", "-a", "dns:other.test:\(server.port)", "--dns-server", dns.address, "--ca-cert", pki.caCert,
        ])
        #expect(r.status == 1, "\(r.stderr)")
        #expect(r.stderr.contains("other.test"), "\(r.stderr)")
    }
}
