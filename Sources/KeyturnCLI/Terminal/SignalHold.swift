import ArgumentParser
import Ceremony
import Foundation
import KeyturnFailure
import ProcessHygiene
import VaultClient

/// Ctrl-C, SIGTERM and SIGHUP (an SSH session dropping) held off while an answer the server
/// gives only once is being saved: it is written (or printed) first, then keyturn exits saying
/// it was interrupted, with the status the signal would have given (130 for Ctrl-C).
enum SignalHold {
    /// Runs `body` with the signals held; if one came, reports it after `body` (and its own
    /// error, if any) and exits 128 + the signal. With `notice`, a line on a terminal says
    /// what keyturn is waiting for once the usual timeout has passed without an answer.
    static func around<T>(_ what: String, notice: WaitNotice? = nil, _ body: () async throws -> T) async throws -> T {
        ProcessHygiene.holdSignals()
        let noticeTask = notice.map { notice in
            Task {
                try await Task.sleep(nanoseconds: UInt64(notice.after * 1_000_000_000))
                Terminal.stderrLine(notice.text)
            }
        }
        let result: Result<T, Error>
        do {
            // Bound first, as in VaultClient's Concurrently.swift.
            let value = try await body()
            result = .success(value)
        } catch {
            result = .failure(keepingUnreadAnswer(error))
        }
        noticeTask?.cancel()
        if let signal = ProcessHygiene.releaseSignals() {
            let name = ProcessHygiene.signalName(signal)
            if case .failure(let error) = result {
                if let e = error as? CLIError { Terminal.report(e) }
                if let failure = error as? any KeyturnFailure { Terminal.report(failure) }
                Terminal.stderrLine(
                    "keyturn: interrupted (\(name)) while \(what); that failed first (above), and no file was "
                        + "written; exiting"
                )
            } else {
                Terminal.stderrLine(
                    "keyturn: interrupted (\(name)) while \(what); that finished first, as shown above; exiting")
            }
            throw ExitCode(128 + signal)
        }
        return try result.get()
    }

    /// An answer that comes only once but could not be read (a field of the wrong type, a
    /// number out of range, not JSON): the operation happened, so its body goes to standard
    /// output whole and the error says so.
    private static func keepingUnreadAnswer(_ error: Error) -> Error {
        guard let e = error as? VaultError, let reply = e.unreadOneShotReply else { return error }
        Terminal.stdoutLine(reply)
        return CLIError(
            "\(e.reason); that answer comes only once and the request was acted on, so it is on standard output "
                + "above, whole", hint: "save that output now: it holds whatever the server issued",
            status: .serverFailure)
    }

    /// Runs a quorum submit: held as `around` holds, with the terminal notice, when it completes
    /// the operation (its answer comes only once); else as it is.
    static func aroundCompletingSubmit(
        _ completes: Bool, _ what: String, ceremony: QuorumCeremony, conn: Connection,
        _ body: () async throws -> Void
    ) async throws {
        guard completes else { return try await body() }
        let notice = WaitNotice.oneShot(
            "the share that completes the \(ceremony.endpoints.kind.rawValue)", node: ceremony.client.address,
            after: conn.transport.timeout)
        try await around(what, notice: notice, body)
    }

    /// A line shown on a terminal while an answer that comes only once is awaited.
    struct WaitNotice: Sendable {
        /// Seconds without an answer before the line is shown (the usual --timeout).
        var after: TimeInterval
        /// The line.
        var text: String

        /// The notice for `node`'s answer to `request`, shown on a terminal only (nil elsewhere).
        static func oneShot(_ request: String, node: String, after: TimeInterval) -> WaitNotice? {
            guard StandardStream.error.isTerminal else { return nil }
            let minutes = Int(VaultTransport.oneShotReplyTimeout / 60)
            return WaitNotice(
                after: after,
                text:
                    "keyturn: waiting for \(node) to answer \(request): that answer comes only once, so keyturn "
                    + "waits up to \(minutes) minutes (a slow seal or disk can take that long)"
            )
        }
    }
}
