import ArgumentParser
import Foundation
import Testing

@testable import KeyturnCLI

/// The README and `docs/` as a newcomer copies from them: every `keyturn ...` command line in
/// their `sh` blocks is parsed by keyturn's own parser (options, arguments and each command's
/// `validate()`, which is where a missing `--out-dir` or two conflicting flags are found), so an
/// example cannot drift from the CLI. Nothing runs: `parseAsRoot` stops before `run()`.
@Suite("README.md stays honest")
struct ReadmeTests {
    /// README.md and every Markdown page under docs/ and Examples/.
    static func documents() throws -> [URL] {
        var pages = [repositoryRoot.appendingPathComponent("README.md")]
        for folder in ["docs", "Examples"] {
            let dir = repositoryRoot.appendingPathComponent(folder)
            pages += try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".md") }
                .sorted().map { dir.appendingPathComponent($0) }
        }
        return pages
    }

    /// A documented command line: where it is, and keyturn's arguments.
    struct CommandLine: CustomStringConvertible {
        var file: String
        var line: Int
        var arguments: [String]
        var description: String { "\(file):\(line): keyturn \(arguments.joined(separator: " "))" }
    }

    /// Every `keyturn ...` in the `sh` blocks of `text`: continuation lines joined, comments
    /// dropped, each stage of a pipeline or `&&` list that runs keyturn (after `VAR=value`).
    static func commandLines(in text: String, file: String) -> [CommandLine] {
        var inShell = false
        var found: [CommandLine] = []
        var pending = ""
        var start = 0
        for (index, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = String(raw)
            if line.hasPrefix("```") {
                inShell = line == "```sh"
                continue
            }
            guard inShell else { continue }
            if pending.isEmpty { start = index + 1 }
            pending += line.hasSuffix("\\") ? String(line.dropLast()) + " " : line
            if line.hasSuffix("\\") { continue }
            for stage in shellStages(pending) {
                let words = withoutRedirections(stage).drop { $0.contains("=") && !$0.hasPrefix("-") }
                guard words.first == "keyturn" else { continue }
                found.append(CommandLine(file: file, line: start, arguments: Array(words.dropFirst())))
            }
            pending = ""
        }
        return found
    }

    /// A stage's words without `> FILE`, `2>&1`, `< FILE` and the like.
    static func withoutRedirections(_ words: [String]) -> [String] {
        var kept: [String] = []
        var skipNext = false
        for word in words {
            if skipNext {
                skipNext = false
                continue
            }
            let operatorPart = word.drop { $0.isNumber }
            guard let first = operatorPart.first, first == ">" || first == "<" else {
                kept.append(word)
                continue
            }
            // `>`, `2>`, `>>` take the next word; `>file`, `2>&1` carry theirs.
            skipNext = operatorPart.allSatisfy { $0 == ">" || $0 == "<" }
        }
        return kept
    }

    /// Splits a shell line into the words of each stage (`|`, `&&`, `||`, `;`), honouring
    /// quotes, and stops at a comment.
    static func shellStages(_ line: String) -> [[String]] {
        var stages: [[String]] = [[]]
        var word = ""
        var inWord = false
        var quote: Character?
        func endWord() {
            if inWord { stages[stages.count - 1].append(word) }
            word = ""
            inWord = false
        }
        var chars = Array(line)[...]
        while let c = chars.popFirst() {
            if let q = quote {
                if c == q { quote = nil } else { word.append(c) }
                continue
            }
            switch c {
            case "'", "\"":
                quote = c
                inWord = true
            case " ", "\t":
                endWord()
            case "#" where !inWord:
                endWord()
                return stages
            case "|", "&", ";":
                endWord()
                if chars.first == c { chars.removeFirst() }
                stages.append([])
            default:
                word.append(c)
                inWord = true
            }
        }
        endWord()
        return stages
    }

    @Test("the splitter keeps quoted words whole, and sees pipes, lists and comments")
    func splitting() {
        #expect(
            Self.shellStages(#"gpg -d x | keyturn split --name "vault CA" - && echo ok # note"#)
                == [["gpg", "-d", "x"], ["keyturn", "split", "--name", "vault CA", "-"], ["echo", "ok"]])
        #expect(Self.withoutRedirections(["keyturn", "a", ">", "f", "2>&1", "b", "<in"]) == ["keyturn", "a", "b"])
        let lines = Self.commandLines(
            in: "```sh\nVAULT_ADDR=a keyturn status \\\n  --wait 5\n# keyturn gone\n```\n`keyturn x`\n", file: "t")
        #expect(lines.map(\.arguments) == [["status", "--wait", "5"]])
    }

    @Test("every keyturn command line in README.md and docs/ parses, with its options and their values")
    func documentedCommandLinesParse() throws {
        var all: [CommandLine] = []
        for url in try Self.documents() {
            all += Self.commandLines(in: try String(contentsOf: url, encoding: .utf8), file: url.lastPathComponent)
        }
        #expect(all.count >= 60, "found \(all.count)")
        for command in all {
            do {
                _ = try KeyturnCLI.Keyturn.parseAsRoot(command.arguments)
            } catch  where KeyturnCLI.Keyturn.exitCode(for: error) == .success {
                continue  // --help, --version
            } catch {
                Issue.record("\(command)\n  \(KeyturnCLI.Keyturn.message(for: error))")
            }
        }
    }

    /// Every `` `keyturn ...` `` in the prose: a command and options named in passing (their
    /// values may be left out or be placeholders), so these are checked by name, not parsed.
    static func mentions(in text: String) -> [[String]] {
        text.split(separator: "`", omittingEmptySubsequences: false).enumerated()
            .map { $0.offset % 2 == 1 ? $0.element.split(whereSeparator: \.isWhitespace).map(String.init) : [] }
            .filter { $0.first == "keyturn" && $0.count > 1 }.map { Array($0.dropFirst()) }
    }

    /// The long option names a help text lists (`--ca-cert`), whole: `--ca` is not `--ca-cert`.
    static func optionNames(_ help: String) -> Set<String> {
        var names: Set<String> = []
        var current = ""
        for c in help + " " {
            if c.isLetter || c.isNumber || c == "-" {
                current.append(c)
            } else {
                if current.hasPrefix("--"), current.count > 2 { names.insert(current) }
                current = ""
            }
        }
        return names
    }

    @Test("every keyturn command named in the prose exists, with the options named beside it")
    func mentionedCommandsExist() throws {
        var count = 0
        for url in try Self.documents() {
            for words in Self.mentions(in: try String(contentsOf: url, encoding: .utf8)) {
                count += 1
                var command: any ParsableCommand.Type = KeyturnCLI.Keyturn.self
                for word in words.prefix(while: { !$0.hasPrefix("-") }) {
                    guard let sub = command.configuration.subcommands.first(where: { $0._commandName == word })
                    else { break }
                    command = sub
                }
                if let first = words.first, !first.hasPrefix("-"), command == KeyturnCLI.Keyturn.self {
                    let line = "keyturn \(words.joined(separator: " "))"
                    Issue.record("\(url.lastPathComponent): `\(line)`: no command \(first)")
                }
                let options = Self.optionNames(KeyturnCLI.Keyturn.helpMessage(for: command))
                for word in words where word.hasPrefix("--") && !options.contains(word) {
                    let line = "keyturn \(words.joined(separator: " "))"
                    Issue.record("\(url.lastPathComponent): `\(line)`: \(command._commandName) has no \(word)")
                }
            }
        }
        #expect(count >= 30, "found \(count)")
    }

    @Test("the parse check can fail: the walkthrough's old split line, without the --out-dir split requires")
    func oldSplitLineFails() {
        #expect(throws: (any Error).self) {
            try KeyturnCLI.Keyturn.parseAsRoot(["split", "--threshold", "2", "--pgp-keys", "a.asc,b.asc,c.asc", "-"])
        }
    }
}
