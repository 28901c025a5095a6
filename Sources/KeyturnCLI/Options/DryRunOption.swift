import ArgumentParser

/// `--dry-run`: every check that runs before the first request that changes a server, then
/// one line per request that would be sent (method, path, node; never a secret).
struct DryRunOption: ParsableArguments {
    @Flag(
        name: .customLong("dry-run"),
        help: ArgumentHelp(
            "Check everything, print the requests that would change a server, and send none.",
            discussion: "Nothing changes on any server or disk; the exit code is that of the checks."))
    var enabled = false

    init() {}

    /// Prints the requests that would be sent, on stdout, one per line.
    func report(_ requests: [(method: String, path: String, node: String)]) {
        for r in requests { Terminal.stdoutLine("would send: \(r.method) \(r.path) to \(r.node)") }
        Terminal.stderrLine(
            "keyturn: dry run: every check passed; \(requests.count) request\(requests.count == 1 ? "" : "s") "
                + "not sent")
    }
}
