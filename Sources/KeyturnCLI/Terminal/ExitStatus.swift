/// keyturn's exit codes: the one place they are defined (the README's "Exit codes and errors").
package enum ExitStatus: Int32, Sendable {
    /// Success; for `status`, every node is unsealed.
    case success = 0
    /// Usage error, bad input or a local failure: nothing was sent to any server.
    case localFailure = 1
    /// A server said no or was unreachable (or, for `status`, a node is sealed).
    case serverFailure = 2
}
