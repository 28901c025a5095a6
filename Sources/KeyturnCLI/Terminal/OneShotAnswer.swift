import Ceremony

/// An answer the server gives only once (init's keys, a completed rekey's new shares, a
/// generated root token): saved to its files, or, when that fails, printed whole on standard
/// output with an error saying so. Nothing may be lost.
enum OneShotAnswer {
    /// Runs `save`; if it throws, prints `answer()` on stdout and throws an error that says
    /// `done` happened but `unsaved` could not be written, and that `shown` is on stdout.
    static func save(
        done: String, unsaved: String, shown: String, hint: String, answer: () -> String, _ save: () throws -> Void
    ) throws {
        do {
            try save()
        } catch {
            Terminal.stdoutLine(answer())
            let message = CLIError.reason(of: error)
            throw CLIError(
                "\(done) but \(unsaved) could not be written (\(message)); \(shown) is on standard output above",
                hint: hint, status: .localFailure)
        }
    }
}
