import Foundation
import Testing

/// The house rules that can be checked by reading the tree.
@Suite("the layout keeps its rules")
struct LayoutTests {
    /// The Swift files under `path` (relative to the repository's root), at any depth.
    static func swiftFiles(under path: String) -> [URL] {
        let dir = repositoryRoot.appendingPathComponent(path)
        let all = FileManager.default.enumerator(at: dir, includingPropertiesForKeys: nil)?.allObjects as? [URL] ?? []
        return all.filter { $0.pathExtension == "swift" }
    }

    /// The Swift files under `Sources/<module>`.
    static func files(_ module: String) throws -> [URL] { swiftFiles(under: "Sources/\(module)") }

    @Test("no string in a lower module names a keyturn flag or command: the CLI's hint table does")
    func lowerModulesNameNoFlag() throws {
        var found: [String] = []
        for module in ["Ceremony", "VaultClient", "PGPShares", "TLSMaterial", "Shamir"] {
            for file in try Self.files(module) {
                let lines = try String(contentsOf: file, encoding: .utf8).split(
                    separator: "\n", omittingEmptySubsequences: false)
                for (i, line) in lines.enumerated() {
                    let code = line.split(separator: "//", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
                    // A string literal holding `--flag` or `keyturn <command>`.
                    // Assuan commands to gpg-agent (`KEYINFO --list`) are gpg's protocol, not keyturn's flags.
                    guard code.contains("\""), !code.contains("AgentQuery.send(") else { continue }
                    let flag = code.range(of: #"--[a-z][a-z-]+"#, options: .regularExpression) != nil
                    let command =
                        code.range(
                            of: #"keyturn (status|init|unseal|verify|rekey|generate-root|secure|split|combine)\b"#,
                            options: .regularExpression) != nil
                    if flag || command {
                        found.append("\(file.lastPathComponent):\(i + 1): \(line.trimmingCharacters(in: .whitespaces))")
                    }
                }
            }
        }
        #expect(found.isEmpty, "\(found.joined(separator: "\n"))")
    }

    @Test("no module but Shamir declares anything public (package is enough inside the package)")
    func onlyShamirIsPublic() throws {
        var found: [String] = []
        for module in [
            "Ceremony", "VaultClient", "PGPShares", "TLSMaterial", "ProcessHygiene", "KeyturnCLI", "KeyturnFailure",
        ] {
            for file in try Self.files(module) {
                let text = try String(contentsOf: file, encoding: .utf8)
                if text.range(of: #"(?m)^\s*(@\w+\s+)*public\s"#, options: .regularExpression) != nil {
                    found.append(file.lastPathComponent)
                }
            }
        }
        #expect(found.isEmpty, "\(found)")
    }

    @Test("no Swift file is over 250 lines")
    func filesAreShort() throws {
        var found: [String] = []
        for file in Self.swiftFiles(under: "Sources") + Self.swiftFiles(under: "Tests") {
            let count = try String(contentsOf: file, encoding: .utf8).split(
                separator: "\n", omittingEmptySubsequences: false
            ).count
            // (A file ending in a newline splits into one more, empty, piece.)
            if count - 1 > 250 { found.append("\(file.lastPathComponent): \(count - 1) lines") }
        }
        #expect(found.isEmpty, "\(found)")
    }

    /// The functions of `text` longer than `limit` lines, from the `func` line to its closing
    /// brace at the same indentation (the formatter's layout makes that reliable).
    static func longFunctions(_ text: String, limit: Int) -> [String] {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        var found: [String] = []
        for (i, line) in lines.enumerated()
        where line.range(of: #"^\s*(\w+\s+)*func\s"#, options: .regularExpression) != nil {
            guard line.hasSuffix("{") else { continue }
            let indent = line.prefix { $0 == " " }.count
            let close = String(repeating: " ", count: indent) + "}"
            guard let end = lines[(i + 1)...].firstIndex(where: { $0.hasPrefix(close) }) else { continue }
            if end - i + 1 > limit { found.append("line \(i + 1): \(end - i + 1) lines") }
        }
        return found
    }

    @Test("no function of the command line is over 40 lines: a command parses, calls a module and prints")
    func commandFunctionsAreShort() throws {
        #expect(
            Self.longFunctions(
                "    func f() {\n" + String(repeating: "        x()\n", count: 41) + "    }\n", limit: 40
            ).count == 1)
        var found: [String] = []
        for file in try Self.files("KeyturnCLI") {
            let long = Self.longFunctions(try String(contentsOf: file, encoding: .utf8), limit: 40)
            found += long.map { "\(file.lastPathComponent) \($0)" }
        }
        #expect(found.isEmpty, "\(found)")
    }
}
