import Foundation

/// What a finished process left: exit status and its two streams.
public struct ProcessResult: Sendable {
    /// The exit status (or 128 + signal).
    public let status: Int32
    /// Standard output, as bytes.
    public let stdout: [UInt8]
    /// Standard error, as text.
    public let stderr: String

    /// Standard output as text.
    public var stdoutText: String { String(decoding: stdout, as: UTF8.self) }
    /// Standard error's lines.
    public var stderrLines: [String] { stderr.split(separator: "\n").map(String.init) }
}

/// Runs programs for tests, with stdin from bytes and outputs captured through files (pipes
/// could fill up and deadlock).
public enum Processes {
    /// Runs `executable` with `arguments` to completion.
    public static func run(
        _ executable: String, _ arguments: [String], stdin: [UInt8]? = nil,
        environment: [String: String]? = nil, directory: String? = nil
    ) throws -> ProcessResult {
        let (process, scratch) = try start(
            executable, arguments, stdin: stdin, environment: environment, directory: directory)
        return result(process.waitUntilExit(), scratch)
    }

    /// Starts a process with stdin from bytes and stdout/stderr to files in `scratch`.
    private static func start(
        _ executable: String, _ arguments: [String], stdin: [UInt8]?, environment: [String: String]?,
        directory: String? = nil
    ) throws -> (ChildProcess, TemporaryDirectory) {
        let scratch = try TemporaryDirectory("keyturn-proc")
        let inPath = try scratch.write("stdin", stdin ?? [])
        let process = try ChildProcess(
            executable, arguments, environment: environment, stdin: .file(inPath),
            stdout: .file(scratch.file("stdout")), stderr: .file(scratch.file("stderr")), directory: directory)
        return (process, scratch)
    }

    /// What a finished process left in its scratch files.
    private static func result(_ status: Int32, _ scratch: TemporaryDirectory) -> ProcessResult {
        ProcessResult(
            status: status, stdout: readBytes(scratch.file("stdout")) ?? [],
            stderr: String(decoding: readBytes(scratch.file("stderr")) ?? [], as: UTF8.self))
    }

    /// Runs a program to completion without blocking a thread of Swift's cooperative pool
    /// (async tests that block it can starve one another: a test awaiting a server reply
    /// while others sit in waitUntilExit).
    /// With `killAfter`, a process still running after that many seconds is killed (SIGKILL):
    /// a test of a bound fails in that time on code that does not keep it, instead of hanging.
    public static func launch(
        _ executable: String, _ arguments: [String], stdin: [UInt8]? = nil,
        environment: [String: String]? = nil, killAfter: TimeInterval? = nil
    ) async throws -> ProcessResult {
        let (process, scratch) = try start(executable, arguments, stdin: stdin, environment: environment)
        let watchdog = killAfter.map { seconds in
            Task {
                try await Task.sleep(nanoseconds: UInt64(seconds * 1e9))
                if process.isRunning { process.terminate(SIGKILL) }
            }
        }
        defer { watchdog?.cancel() }
        return result(await process.exited(), scratch)
    }

    /// The first executable named `name` on PATH.
    public static func which(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for dir in path.split(separator: ":") {
            let candidate = "\(dir)/\(name)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }
}

/// The keyturn binary under test.
public enum Keyturn {
    /// The directory of the test build's products (beside the test bundle): the debug
    /// `keyturn`, `KeyturnFuzz`.
    public static let testBuildDirectory: String = {
        let exe =
            (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        return URL(fileURLWithPath: exe).deletingLastPathComponent().path
    }()

    /// The debug `keyturn` of the test build: the only one with the memory-scan hook.
    public static let debugPath = testBuildDirectory + "/keyturn"

    /// `KEYTURN_BIN` (Scripts/test sets it to the release binary Scripts/install builds), or
    /// the debug `keyturn` built beside the test bundle.
    public static let path: String = {
        if let env = ProcessInfo.processInfo.environment["KEYTURN_BIN"], !env.isEmpty { return env }
        return debugPath
    }()

    /// The test's environment without VAULT_/BAO_ variables, with `extra` on top.
    static func environment(_ extra: [String: String]) -> [String: String] {
        var env = ProcessInfo.processInfo.environment.filter {
            !$0.key.hasPrefix("VAULT_") && !$0.key.hasPrefix("BAO_")
        }
        env.merge(extra) { _, new in new }
        return env
    }

    /// Runs keyturn with the arguments, stdin bytes and an environment (defaults: empty stdin
    /// and the test's environment without VAULT_/BAO_ variables).
    public static func run(
        _ arguments: [String], stdin: [UInt8]? = nil, environment: [String: String] = [:], directory: String? = nil
    ) throws -> ProcessResult {
        try Processes.run(
            path, arguments, stdin: stdin, environment: Self.environment(environment), directory: directory)
    }

    /// The same for async tests, without blocking a cooperative thread; `binary` defaults to
    /// the binary under test.
    public static func launch(
        _ arguments: [String], stdin: [UInt8]? = nil, environment: [String: String] = [:], binary: String = path,
        killAfter: TimeInterval? = nil
    ) async throws -> ProcessResult {
        try await Processes.launch(
            binary, arguments, stdin: stdin, environment: Self.environment(environment), killAfter: killAfter)
    }
}
