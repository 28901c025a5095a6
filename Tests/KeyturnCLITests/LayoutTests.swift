import Foundation
import Testing

/// The house rules that can be checked by reading the tree.
@Suite("the layout keeps its rules")
struct LayoutTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// The Swift files under `Sources/<module>`.
    static func files(_ module: String) throws -> [URL] {
        let dir = root.appendingPathComponent("Sources/\(module)")
        let all = FileManager.default.enumerator(at: dir, includingPropertiesForKeys: nil)?.allObjects as? [URL] ?? []
        return all.filter { $0.pathExtension == "swift" }
    }

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
                    guard code.contains("\"") else { continue }
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
}
