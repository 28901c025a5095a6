import Foundation

/// The fault-injecting stub (Fixtures/stub_server.py, whose top lists its modes), running until
/// released; for faults a real node cannot make on demand.
public final class StubServer: @unchecked Sendable {
    public let address: String
    private let process: ChildProcess
    private let portFile: TemporaryDirectory

    public init(_ mode: String, _ extra: [String] = []) throws {
        guard let script = Bundle.module.url(forResource: "stub_server", withExtension: "py", subdirectory: "Fixtures")
        else { throw HarnessError("the stub server's script is not in the test bundle") }
        guard let python = Processes.which("python3") else { throw HarnessError("python3 is not on PATH") }
        // The port is read from a file: FileHandle.availableData can block on a pipe on Linux.
        // Its stderr goes to a file too: a stub that outlived a crashed test process once held
        // the test's output pipe open, and `swift test` waited for ever.
        portFile = try TemporaryDirectory("keyturn-stub")
        process = try ChildProcess(
            python, [script.path, mode] + extra, stdout: .file(portFile.file("port")),
            stderr: .file(portFile.file("stderr")))
        var text = ""
        let deadline = Date().addingTimeInterval(10)
        while !text.contains("\n") && Date() < deadline {
            usleep(20_000)
            text = String(decoding: readBytes(portFile.file("port")) ?? [], as: UTF8.self)
        }
        address = "http://127.0.0.1:\(text.trimmingCharacters(in: .whitespacesAndNewlines))"
    }

    deinit {
        // SIGKILL: the test process may hand its children a blocked SIGTERM.
        process.terminate(SIGKILL)
        process.waitUntilExit()
    }
}
