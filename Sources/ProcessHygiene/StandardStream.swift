#if canImport(Glibc)
    import Glibc
#endif

/// Standard input, output and error, so that the CLI names them without a C constant.
package enum StandardStream: Sendable {
    case input, output, error

    /// The file descriptor.
    package var descriptor: Int32 {
        switch self {
        case .input: return STDIN_FILENO
        case .output: return STDOUT_FILENO
        case .error: return STDERR_FILENO
        }
    }

    /// Whether it is a terminal.
    package var isTerminal: Bool { isatty(descriptor) == 1 }
}

extension ProcessHygiene {
    /// Ends the process at once, without atexit handlers (see KeyturnMain.terminate for why).
    package static func exitNow(_ status: Int32) -> Never { _exit(status) }

    /// "SIGINT", "SIGHUP", "SIGTERM", else "signal N".
    package static func signalName(_ signal: Int32) -> String {
        switch signal {
        case SIGINT: return "SIGINT"
        case SIGHUP: return "SIGHUP"
        case SIGTERM: return "SIGTERM"
        default: return "signal \(signal)"
        }
    }

    /// Whether `text` is an IPv4 or IPv6 address.
    package static func isIPAddress(_ text: String) -> Bool {
        var v4 = in_addr()
        var v6 = in6_addr()
        return inet_pton(AF_INET, text, &v4) == 1 || inet_pton(AF_INET6, text, &v6) == 1
    }
}
