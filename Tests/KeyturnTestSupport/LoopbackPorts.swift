import Foundation

/// The ports the harness hands out: below Linux's ephemeral range (32768-60999), so that no
/// outgoing connection of a test can take one between its pick and the server's bind. A raft
/// follower binds its cluster port only when it joins, after its keys; a pick of "any free port"
/// (bind port 0, close) was once taken meanwhile, and that follower never joined.
private final class PortCounter: @unchecked Sendable {
    static let range = 20000..<32000
    let lock = NSLock()
    var next = Int.random(in: range)

    /// The next port of the range, never the same twice in a run (until the range wraps).
    func take() -> Int {
        lock.withLock {
            let port = next
            next = next + 1 == Self.range.upperBound ? Self.range.lowerBound : next + 1
            return port
        }
    }
}

private let portCounter = PortCounter()

/// A free TCP port on 127.0.0.1, from the harness's own range (PortCounter).
public func freeLoopbackPort() throws -> Int {
    for _ in PortCounter.range {
        let port = portCounter.take()
        if canBindLoopback(port) { return port }
    }
    throw HarnessError("no free loopback port in \(PortCounter.range)")
}

/// Whether `port` on 127.0.0.1 can be bound now (bound and released at once).
private func canBindLoopback(_ port: Int) -> Bool { withLoopbackSocket(port, bind) }

/// Whether something accepts TCP connections on 127.0.0.1:port (or another loopback `host`).
public func portAcceptsConnections(_ port: Int, host: String = "127.0.0.1") -> Bool {
    withLoopbackSocket(port, host: host, connect)
}

/// `call` (bind or connect) on a new TCP socket with 127.0.0.1:port; whether it succeeded. The
/// socket is closed afterwards.
private func withLoopbackSocket(
    _ port: Int, host: String = "127.0.0.1", _ call: (Int32, UnsafePointer<sockaddr>, socklen_t) -> Int32
) -> Bool {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { return false }
    defer { close(fd) }
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_addr.s_addr = inet_addr(host)
    addr.sin_port = UInt16(port).bigEndian
    return withUnsafePointer(to: &addr) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            call(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
        }
    }
}
