internal import CGPGME
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// One Assuan command to the gpg-agent that is running (its socket under GNUPGHOME; none is
/// started for it), spoken here rather than through GPGME so that it has a deadline and a size
/// limit: anything may be listening on that socket, and a read-only check must neither hang
/// nor grow without end.
enum AgentQuery {
    /// The agent's reply: its error code (0: OK; the low 16 bits of `ERR N`), its data lines
    /// joined (percent-escapes decoded), its status lines.
    struct Reply {
        var code: UInt32 = 0
        var data = ""
        var status: [(keyword: String, args: String)] = []
    }

    /// At most this many bytes are read for one reply.
    static let limit = 65536

    /// What came back.
    enum Answer {
        /// Nothing listens on the socket: no agent runs.
        case noAgent
        /// Something listens, and gave no Assuan reply within the deadline and the limit.
        case broken
        case reply(Reply)

        var reply: Reply? {
            if case .reply(let r) = self { return r }
            return nil
        }
    }

    /// Sends `command`, waiting at most `timeout` seconds for the whole reply.
    static func send(_ command: String, timeout: TimeInterval = 10) -> Answer {
        guard timeout > 0 else { return .broken }
        guard let path = socketPath() else { return .noAgent }
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return .noAgent }
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else { return .noAgent }
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: bytes) }
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        // No socket, or no one behind it: no agent. Anything else (a full backlog: EAGAIN) is
        // something there that does not take the call.
        guard connected == 0 else { return errno == ENOENT || errno == ECONNREFUSED ? .noAgent : .broken }
        var reader = LineReader(fd: fd, deadline: Date().addingTimeInterval(timeout))
        guard reader.line()?.hasPrefix("OK") == true, reader.write(command + "\n") else { return .broken }
        var reply = Reply()
        while let line = reader.line() {
            if line == "OK" || line.hasPrefix("OK ") { return .reply(reply) }
            if line.hasPrefix("ERR ") {
                let number = line.dropFirst(4).prefix { $0.isNumber }
                reply.code = UInt32(number.prefix(10)).map { $0 & 0xFFFF } ?? UInt32(GPG_ERR_GENERAL.rawValue)
                return .reply(reply)
            }
            if line.hasPrefix("D ") {
                reply.data += unescape(line.dropFirst(2))
            } else if line.hasPrefix("S ") {
                let rest = line.dropFirst(2)
                let keyword = rest.prefix { $0 != " " }
                reply.status.append((String(keyword), String(rest.dropFirst(keyword.count).drop { $0 == " " })))
                guard reply.status.count <= 1024 else { return .broken }
            } else if !line.hasPrefix("#") {
                return .broken  // INQUIRE, or not Assuan
            }
        }
        return .broken
    }

    /// The agent's socket as GPGME finds it (`gpgconf --list-dirs agent-socket`), following a
    /// socket-redirect file (`%Assuan%` then `socket=PATH`).
    private static func socketPath() -> String? {
        _ = PGPShares.initialised
        guard let dir = gpgme_get_dirinfo("agent-socket") else { return nil }
        let path = String(cString: dir)
        var info = stat()
        guard lstat(path, &info) == 0 else { return nil }
        if (info.st_mode & S_IFMT) == S_IFREG, info.st_size < 4096,
            let text = try? String(contentsOfFile: path, encoding: .utf8), text.hasPrefix("%Assuan%\n"),
            let line = text.split(separator: "\n").first(where: { $0.hasPrefix("socket=") })
        {
            return String(line.dropFirst("socket=".count))
        }
        return path
    }

    /// `%XX` escapes of an Assuan data line.
    private static func unescape(_ text: Substring) -> String {
        var out: [UInt8] = []
        var bytes = Array(text.utf8)[...]
        while let b = bytes.popFirst() {
            if b == UInt8(ascii: "%"), bytes.count >= 2,
                let v = UInt8(String(decoding: bytes.prefix(2), as: UTF8.self), radix: 16)
            {
                out.append(v)
                bytes = bytes.dropFirst(2)
            } else {
                out.append(b)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Lines from a non-blocking socket, each wait bounded by one deadline, the whole by `limit`.
    private struct LineReader {
        let fd: Int32
        let deadline: Date
        var buffer: [UInt8] = []
        var total = 0

        /// Waits for the socket to be ready for `events`, until the deadline.
        func ready(_ events: Int16) -> Bool {
            let left = deadline.timeIntervalSinceNow
            guard left > 0 else { return false }
            var p = pollfd(fd: fd, events: events, revents: 0)
            return poll(&p, 1, Int32(min(left * 1000, 60_000)) + 1) == 1
        }

        mutating func line() -> String? {
            while true {
                if let end = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                    let text = String(decoding: buffer[..<end], as: UTF8.self)
                    buffer.removeSubrange(...end)
                    return text
                }
                guard ready(Int16(POLLIN)) else { return nil }
                var chunk = [UInt8](repeating: 0, count: 4096)
                let n = read(fd, &chunk, chunk.count)
                if n < 0 && (errno == EAGAIN || errno == EINTR) { continue }
                guard n > 0 else { return nil }
                total += n
                guard total <= AgentQuery.limit else { return nil }
                buffer += chunk[..<n]
            }
        }

        func write(_ text: String) -> Bool {
            var bytes = Array(text.utf8)[...]
            while !bytes.isEmpty {
                guard ready(Int16(POLLOUT)) else { return false }
                let n = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                if n < 0 && (errno == EAGAIN || errno == EINTR) { continue }
                guard n > 0 else { return false }
                bytes = bytes.dropFirst(n)
            }
            return true
        }
    }
}

/// The gpg-agent on this machine's socket, as `doctor` finds it.
package enum AgentState: Sendable, Equatable {
    /// None runs (and none is started for the question).
    case notRunning
    case running(version: String)
    /// Something listens on the agent's socket and does not answer as an agent within 5 s.
    case notAnswering
}

extension PGPShares {
    /// The running gpg-agent's version (`GETINFO version`).
    package static func agent() -> AgentState {
        switch AgentQuery.send("GETINFO version", timeout: 5) {
        case .noAgent: return .notRunning
        case .broken: return .notAnswering
        case .reply(let r):
            return r.code == 0 && !r.data.isEmpty ? .running(version: String(r.data.prefix(40))) : .notAnswering
        }
    }
}
