import Foundation
import KeyturnTestSupport
import Testing

@Suite("README.md stays honest")
struct ReadmeTests {
    /// Every `keyturn ...` command in the README's shell blocks, split into words.
    static func documentedCommands() throws -> [[String]] {
        let readme = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("README.md")
        let text = try String(contentsOf: readme, encoding: .utf8)
        var inShell = false, commands: [[String]] = []
        var pending = ""
        for raw in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let line = String(raw)
            if line.hasPrefix("```") { inShell = line == "```sh"; continue }
            guard inShell else { continue }
            pending += line.hasSuffix("\\") ? String(line.dropLast()) + " " : line
            if line.hasSuffix("\\") { continue }
            let trimmed = pending.trimmingCharacters(in: .whitespaces)
            pending = ""
            if trimmed.hasPrefix("#") { continue }
            let code = trimmed.components(separatedBy: " #").first ?? ""
            // Each pipeline stage that runs keyturn.
            for stage in code.split(separator: "|") {
                // A stage runs keyturn when its first word (after VAR=value assignments) is keyturn.
                let words = stage.split(separator: " ").map(String.init).filter { !$0.isEmpty }.drop {
                    $0.contains("=")
                }
                guard words.first == "keyturn" else { continue }
                commands.append(Array(words.dropFirst()))
            }
        }
        return commands
    }

    /// The long option names a --help text lists (`--ca-cert`, `--pgp-keys`), whole.
    static func optionNames(_ help: String) -> Set<String> {
        var names: Set<String> = []
        var current = ""
        for c in help + " " {
            if c.isLetter || c.isNumber || c == "-" {
                current.append(c)
            } else {
                if current.hasPrefix("--"), current.count > 2 {
                    names.insert(String(current.reversed().drop { $0 == "-" }.reversed()))
                }
                current = ""
            }
        }
        return names
    }

    @Test("option names are matched whole: --ca is not --ca-cert")
    func optionNamesWhole() {
        let names = Self.optionNames(
            "  -a, --address <url>   A node.\n  --ca-cert <file>  PEM CA.\n  --tls-skip-verify\n")
        #expect(names == ["--address", "--ca-cert", "--tls-skip-verify"])
        #expect(!names.contains("--ca"))
    }

    @Test("every documented keyturn command names a real subcommand and only options it has")
    func documentedOptionsExist() async throws {
        let commands = try Self.documentedCommands()
        #expect(commands.count >= 20, "found \(commands.count)")
        var helpCache: [String: String] = [:]
        for words in commands {
            var path: [String] = []
            for w in words { if w.hasPrefix("-") || w.contains("/") || w.contains(".") { break }; path.append(w) }
            // Subcommands only: `secure ca`, `status`; stop at the first argument that is not one.
            let known = [
                "status", "init", "unseal", "verify", "secure", "split", "combine", "ca", "cert", "gossip", "config",
                "check",
                "rekey", "generate-root", "start", "submit", "cancel", "decode", "seal", "step-down", "backup",
                "retrieve", "delete", "transcript", "drill", "report",
            ]
            path = Array(path.prefix { known.contains($0) })
            #expect(!path.isEmpty, "no subcommand in: keyturn \(words.joined(separator: " "))")
            let key = path.joined(separator: " ")
            if helpCache[key] == nil {
                let r = try await Keyturn.launch(path + ["--help"])
                #expect(r.status == 0, "keyturn \(key) --help failed: \(r.stderr)")
                helpCache[key] = r.stdoutText
            }
            let options = Self.optionNames(helpCache[key] ?? "")
            for flag in words where flag.hasPrefix("--") {
                let name = String(flag.split(separator: "=").first ?? "")
                // Whole names only: `--ca` is not an option because `--ca-cert` is.
                #expect(options.contains(name), "README uses `\(name)` with `keyturn \(key)`, which has no such option")
            }
        }
    }
}
