import Foundation

/// A directory under the system's temp dir that is removed, with everything in it, when the
/// value is released.
public final class TemporaryDirectory: @unchecked Sendable {
    /// Absolute path of the directory.
    public let path: String

    /// Creates a fresh directory (mode 0700).
    public init(_ label: String = "keyturn-test") throws {
        var template = Array("\(NSTemporaryDirectory())/\(label).XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw POSIXError(.EIO) }
        path = String(cString: made)
    }

    /// The path of `name` inside the directory.
    public func file(_ name: String) -> String { path + "/" + name }

    /// Writes `bytes` to `name` with the given mode; returns its path.
    @discardableResult
    public func write(_ name: String, _ bytes: [UInt8], mode: Int = 0o600) throws -> String {
        let p = file(name)
        try Data(bytes).write(to: URL(fileURLWithPath: p))
        chmod(p, mode_t(mode))
        return p
    }

    /// Writes text to `name` with the given mode; returns its path.
    @discardableResult
    public func write(_ name: String, text: String, mode: Int = 0o600) throws -> String {
        try write(name, Array(text.utf8), mode: mode)
    }

    /// The names in the directory (recursively, relative), including hidden ones, sorted.
    public func listing() -> [String] {
        let e = FileManager.default.enumerator(atPath: path)
        var names: [String] = []
        while let n = e?.nextObject() as? String { names.append(n) }
        return names.sorted()
    }

    deinit {
        // Restore permissions a test may have removed, then delete.
        _ = try? FileManager.default.subpathsOfDirectory(atPath: path).forEach { chmod(path + "/" + $0, 0o700) }
        // A process still shutting down (gpg-agent removing its sockets) can race the removal
        // and leave the directory behind; try again briefly.
        for attempt in 0..<20 {
            try? FileManager.default.removeItem(atPath: path)
            if !FileManager.default.fileExists(atPath: path) { break }
            usleep(useconds_t(50_000 * (attempt < 5 ? 1 : 2)))
        }
    }
}

/// Every running process's command line (arguments joined by spaces), by pid.
public func processCommandLines() -> [(pid: String, text: String)] {
    ((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).compactMap { pid in
        guard Int(pid) != nil, let cmdline = readBytes("/proc/\(pid)/cmdline") else { return nil }
        return (pid, String(decoding: cmdline.map { $0 == 0 ? 0x20 : $0 }, as: UTF8.self))
    }
}

/// The bytes of a file, or nil if it cannot be read.
public func readBytes(_ path: String) -> [UInt8]? {
    FileManager.default.contents(atPath: path).map { [UInt8]($0) }
}

/// The permission bits of a file.
public func fileMode(_ path: String) -> Int? {
    (try? FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int) ?? nil
}

/// All k-element subsets of 0..<n: the ways to pick k shares of n.
public func subsets(of n: Int, size k: Int) -> [[Int]] {
    if k == 0 { return [[]] }
    if n < k { return [] }
    return subsets(of: n - 1, size: k - 1).map { $0 + [n - 1] } + subsets(of: n - 1, size: k)
}
