import Foundation

/// A real DNS server for the tests: Debian's dnsmasq (`dnsmasq-base`, which Scripts/test
/// installs) on a loopback port picked here, answering only for the records given (NXDOMAIN
/// for any other name under `.test`), stopped when released.
public final class DNSServer: @unchecked Sendable {
    /// The dnsmasq binary, if installed.
    public static let binary: String? = ["/usr/sbin/dnsmasq", "/usr/bin/dnsmasq", "/sbin/dnsmasq"].first {
        FileManager.default.isExecutableFile(atPath: $0)
    }

    /// The port it answers on (UDP and TCP, 127.0.0.1).
    public let port: Int
    /// `127.0.0.1:PORT`, as `--dns-server` takes it.
    public var address: String { "127.0.0.1:\(port)" }
    private let process: ChildProcess
    private let directory: TemporaryDirectory

    /// An address record (`name` -> an IPv4 address) or an SRV record (`_service._tcp.domain`
    /// -> target and port).
    public enum Record: Sendable {
        case address(String, String)
        case srv(String, target: String, port: Int)
    }

    public init(_ records: [Record]) async throws {
        guard let binary = Self.binary else {
            throw HarnessError("dnsmasq is not installed: run Scripts/test, or apt-get install dnsmasq-base")
        }
        directory = try TemporaryDirectory("keyturn-dns")
        port = try freeLoopbackPort()
        var args = [
            "--keep-in-foreground", "--no-resolv", "--no-hosts", "--conf-file=/dev/null", "--port=\(port)",
            "--listen-address=127.0.0.1", "--bind-interfaces", "--local=/test/", "--log-facility=-",
            "--pid-file=\(directory.file("pid"))", "--user=\(NSUserName())",
        ]
        for r in records {
            switch r {
            case .address(let name, let ip): args.append("--host-record=\(name),\(ip)")
            case .srv(let name, let target, let port): args.append("--srv-host=\(name),\(target),\(port)")
            }
        }
        process = try ChildProcess(
            binary, args, stdout: .file(directory.file("dnsmasq.log")), stderr: .file(directory.file("dnsmasq.log")))
        let deadline = Date().addingTimeInterval(10)
        while !portAcceptsConnections(port) {
            guard process.isRunning, Date() < deadline else {
                stop()
                let log = String(decoding: readBytes(directory.file("dnsmasq.log")) ?? [], as: UTF8.self)
                throw HarnessError("dnsmasq did not start: \(log.suffix(400))")
            }
            try await Task.sleep(nanoseconds: 20_000_000)
        }
    }

    /// Stops it and waits.
    public func stop() {
        guard process.isRunning else { return }
        process.terminate()
        _ = process.waitUntilExit()
    }

    deinit { stop() }
}
