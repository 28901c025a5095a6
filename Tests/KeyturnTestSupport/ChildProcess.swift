import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A program the tests run: started with `posix_spawn`, reaped by a thread of its own.
///
/// Not Foundation's `Process`: in Swift 6.3.1 its `run()` lists `/proc/self/fd` by copying each
/// dirent's whole 256-byte name, reading past the end of glibc's readdir buffer, and when that
/// buffer ends a mapped page the test process dies ("bad pointer dereference" in memmove;
/// swift-corelibs-foundation pull request 5472, merged after 6.3.1). The suite starts thousands
/// of processes, and that crash ended about one full run in two, here and in CI.
public final class ChildProcess: @unchecked Sendable {
    /// Where the child's standard input comes from.
    public enum Input: Sendable {
        case devNull
        case file(String)
    }

    /// Where the child's standard output or error goes.
    public enum Output: Sendable {
        case devNull
        /// A file, created if missing, truncated unless `append`.
        case file(String, append: Bool = false)
        /// A descriptor of the test process (a pipe's end), dup'ed into the child.
        case descriptor(Int32)
    }

    /// The child's pid.
    public let processIdentifier: pid_t
    private let condition = NSCondition()
    private var status: Int32?
    private var waiters: [CheckedContinuation<Int32, Never>] = []

    /// Starts `executable` (a path) with `arguments`; `environment` nil inherits the test's.
    /// Like Foundation's Process the child gets a process group of its own and no descriptor
    /// but 0, 1 and 2; unlike it, an empty signal mask (a dispatch worker thread blocks most
    /// signals, and a mask survives exec).
    public init(
        _ executable: String, _ arguments: [String], environment: [String: String]? = nil,
        stdin: Input = .devNull, stdout: Output = .devNull, stderr: Output = .devNull, directory: String? = nil
    ) throws {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        switch stdin {
        case .devNull: posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        case .file(let path): posix_spawn_file_actions_addopen(&actions, 0, path, O_RDONLY, 0)
        }
        for (fd, output) in [(Int32(1), stdout), (Int32(2), stderr)] {
            switch output {
            case .devNull:
                posix_spawn_file_actions_addopen(&actions, fd, "/dev/null", O_WRONLY, 0)
            case .file(let path, let append):
                let flags = O_WRONLY | O_CREAT | (append ? O_APPEND : O_TRUNC)
                posix_spawn_file_actions_addopen(&actions, fd, path, flags, 0o644)
            case .descriptor(let source):
                posix_spawn_file_actions_adddup2(&actions, source, fd)
            }
        }
        _ = Self.addCloseFrom(&actions, 3)
        if let directory { _ = Self.addChdir(&actions, directory) }

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attributes, &empty)
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETPGROUP))

        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = (environment ?? ProcessInfo.processInfo.environment).map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, executable, &actions, &attributes, argv, envp)
        guard rc == 0 else { throw HarnessError("cannot start \(executable): \(String(cString: strerror(rc)))") }
        processIdentifier = pid
        let reaper = Thread { [self, pid] in
            var raw: Int32 = 0
            while waitpid(pid, &raw, 0) == -1 && errno == EINTR {}
            // WIFEXITED / WEXITSTATUS / WTERMSIG, which Swift does not import.
            finish(raw & 0x7f == 0 ? (raw >> 8) & 0xff : 128 + (raw & 0x7f))
        }
        reaper.start()
    }

    /// glibc's `posix_spawn_file_actions_addclosefrom_np` and `_addchdir_np` (2.34 and 2.29),
    /// which Swift's Glibc module does not declare: looked up by name, called as C functions.
    private typealias AddCloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
    private typealias AddChdir =
        @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, UnsafePointer<CChar>) -> Int32
    private static let addCloseFrom: AddCloseFrom = {
        guard let symbol = dlsym(nil, "posix_spawn_file_actions_addclosefrom_np") else {
            fatalError("glibc has no posix_spawn_file_actions_addclosefrom_np (2.34 or later is needed)")
        }
        return unsafeBitCast(symbol, to: AddCloseFrom.self)
    }()
    private static let addChdir: AddChdir = {
        guard let symbol = dlsym(nil, "posix_spawn_file_actions_addchdir_np") else {
            fatalError("glibc has no posix_spawn_file_actions_addchdir_np (2.29 or later is needed)")
        }
        return unsafeBitCast(symbol, to: AddChdir.self)
    }()

    private func finish(_ code: Int32) {
        condition.lock()
        status = code
        let resumed = waiters
        waiters = []
        condition.broadcast()
        condition.unlock()
        for waiter in resumed { waiter.resume(returning: code) }
    }

    /// Whether the child has not been reaped yet.
    public var isRunning: Bool {
        condition.lock()
        defer { condition.unlock() }
        return status == nil
    }

    /// The exit status, or 128 + the signal that ended it; -1 while it runs.
    public var terminationStatus: Int32 {
        condition.lock()
        defer { condition.unlock() }
        return status ?? -1
    }

    /// Blocks the calling thread until the child has ended; its status.
    @discardableResult
    public func waitUntilExit() -> Int32 {
        condition.lock()
        defer { condition.unlock() }
        while status == nil { condition.wait() }
        return status ?? -1
    }

    /// Blocks the calling thread until the child has ended or `deadline` has passed; its status,
    /// or nil if it still runs.
    public func waitUntilExit(before deadline: Date) -> Int32? {
        condition.lock()
        defer { condition.unlock() }
        while status == nil && condition.wait(until: deadline) {}
        return status
    }

    /// Waits, without blocking a thread, until the child has ended; its status.
    public func exited() async -> Int32 {
        await withCheckedContinuation { continuation in
            condition.lock()
            if let status {
                condition.unlock()
                continuation.resume(returning: status)
            } else {
                waiters.append(continuation)
                condition.unlock()
            }
        }
    }

    /// Sends `signal` (default SIGTERM) to the child.
    public func terminate(_ signal: Int32 = SIGTERM) {
        if isRunning { kill(processIdentifier, signal) }
    }
}
