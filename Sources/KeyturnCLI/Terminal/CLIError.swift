import KeyturnFailure

/// An error the command line itself finds (an option that does not fit, a node count, a
/// confirmation refused), with its hint and exit status; the modules' errors are
/// `KeyturnFailure`s, given their hint and status by `Hints`.
struct CLIError: Error {
    /// What went wrong: one lower-case line.
    let message: String
    /// What the user can do about it.
    let hint: String?
    /// The exit code.
    let status: ExitStatus

    init(_ message: String, hint: String? = nil, status: ExitStatus = .localFailure) {
        self.message = message
        self.hint = hint
        self.status = status
    }

    /// The one-line reason of any error keyturn reports.
    static func reason(of error: Error) -> String {
        if let e = error as? CLIError { return e.message }
        if let e = error as? any KeyturnFailure { return e.reason }
        return "\(error)"
    }
}
