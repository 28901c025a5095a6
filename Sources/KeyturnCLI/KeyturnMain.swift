import ArgumentParser
import Ceremony
import KeyturnFailure
import ProcessHygiene

/// Runs keyturn with the process's arguments and exits with keyturn's exit codes (ExitStatus).
package enum KeyturnMain {
    /// Ends the process without running atexit handlers. Every byte keyturn prints has already
    /// been written with write(2) (nothing is buffered), while OpenSSL's and libcurl's exit-time
    /// clean-up can still race a FoundationNetworking thread that is finishing a request: a
    /// `keyturn status` against a TLS node was seen to end in SIGSEGV (exit 139) once in the
    /// test suite, after it had printed its whole answer.
    static func terminate(_ status: Int32) -> Never {
        TranscriptLog.finishCurrent()
        ProcessHygiene.exitNow(status)
    }

    /// Parses, runs, reports errors as `keyturn: error: …`, and exits.
    package static func run(_ arguments: [String] = Array(CommandLine.arguments.dropFirst())) async -> Never {
        // First, in every command: a token, a one-time pad or a share may be held later, and a
        // core file (or another process of the user reading this one's memory) would keep it.
        ProcessHygiene.disableCoreDumps()
        ProcessHygiene.wipeLibraryMemoryOnFree()
        ProcessHygiene.unblockSignals()
        ProcessHygiene.ignoreBrokenPipe()
        do {
            var command = try Keyturn.parseAsRoot(arguments)
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
            terminate(ExitStatus.success.rawValue)
        } catch let error as CLIError {
            TranscriptLog.recordFailure(error.message)
            Terminal.report(error)
            terminate(error.status.rawValue)
        } catch let failure as any KeyturnFailure {
            // The one place a module's failure becomes what the user reads, and an exit status.
            TranscriptLog.recordFailure(failure.reason)
            Terminal.report(failure)
            terminate(exitStatus(for: failure))
        } catch let error as ExitCode {
            terminate(error.rawValue)
        } catch {
            let code = Keyturn.exitCode(for: error)
            if code == .success {
                // --help and --version.
                Terminal.stdoutLine(Keyturn.fullMessage(for: error))
                terminate(ExitStatus.success.rawValue)
            }
            Terminal.report(usageError(error, arguments))
            terminate(ExitStatus.localFailure.rawValue)
        }
    }

    /// A module's failure as an exit status: its code's, or 128 + the signal for one
    /// interrupted by a signal, as a shell expects.
    static func exitStatus(for failure: any KeyturnFailure) -> Int32 {
        if failure.failureCode == "ceremony.interrupted", let signal = failure.facts["signal"].flatMap(Int32.init) {
            return 128 + signal
        }
        return Hints.status(for: failure).rawValue
    }

    /// Argument parser's message, made to keyturn's one lower-case line, with a hint to --help.
    static func usageError(_ error: Error, _ arguments: [String]) -> CLIError {
        let message = Keyturn.message(for: error)
        let first = message.split(separator: "\n").first.map(String.init) ?? "invalid arguments"
        let trimmed = first.hasSuffix(".") ? String(first.dropLast()) : first
        let text = trimmed.prefix(1).lowercased() + trimmed.dropFirst()
        let names = Keyturn.configuration.subcommands.map { $0._commandName }
        let sub = arguments.first { names.contains($0) }
        return CLIError(text, hint: "see 'keyturn \(sub.map { $0 + " " } ?? "")--help'")
    }
}
