/// keyturn's exit codes (SPEC §2): the one place they are defined.
package enum ExitStatus: Int32, Sendable {
    /// Success; for `status`, every node is unsealed.
    case success = 0
    /// Usage error, bad input or a local failure: nothing was sent to any server.
    case localFailure = 1
    /// A server said no or was unreachable (or, for `status`, a node is sealed).
    case serverFailure = 2
}

/// An error the CLI reports as `keyturn: error: …` (and `keyturn: hint: …`), then exits.
///
/// Messages are lower-case single lines that name the file, node or value at fault and never
/// contain secret material.
package struct KeyturnError: Error, Sendable {
    /// What went wrong.
    package let message: String
    /// What the user can do about it, if anything useful can be said.
    package let hint: String?
    /// The exit code.
    package let status: ExitStatus

    /// Makes an error; local failures are the default.
    package init(_ message: String, hint: String? = nil, status: ExitStatus = .localFailure) {
        self.message = message
        self.hint = hint
        self.status = status
    }
}
