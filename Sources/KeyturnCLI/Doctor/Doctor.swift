import ArgumentParser
import Ceremony
import Foundation
import KeyturnFailure
import VaultClient

/// `keyturn doctor`: the checklist before a ceremony; changes nothing anywhere.
struct DoctorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "doctor",
        abstract: "Check the nodes, the token, gpg and the holders' keys before a ceremony; changes nothing.",
        discussion: """
            One line per check (ok, warn or fail), with a hint under what is not ok. Per node: \
            reachable, TLS (chain, name, days left), server and version, seal type and state for the \
            ceremony, HA role, which rekey or generate-root API its listener serves, its clock. The \
            token: valid, and its capabilities on the paths the ceremony uses. Here: gpg, gpg-agent, \
            a pinentry that can ask, and each --pgp-keys file (parses, not expired or revoked, a \
            trial encryption, its algorithm), and that the token holding a key of this keyring is \
            plugged in. With --namespace, the namespace's own seal on every node and the token's \
            capabilities on its paths. Exit 0 when nothing fails (warnings allowed), 2 when a \
            node or the cluster fails a check, 1 when only this machine, the token or a key does.
            """)

    @OptionGroup(title: "Connection options") var connection: ConnectionOptions

    @OptionGroup(title: "Token options (needed to check OpenBao's token API and a token's capabilities)")
    var token: TokenOptions

    @OptionGroup var namespace: NamespaceOption

    @Option(
        name: .customLong("pgp-keys"), parsing: .singleValue,
        help: ArgumentHelp("Holders' public key files to check, comma-separated or repeated.", valueName: "files"))
    var pgpKeys: [String] = []

    @Option(
        name: .customLong("for"),
        help: ArgumentHelp(
            "The ceremony to check for (default: what the cluster's state calls for).",
            discussion: "init when a node is not initialised, unseal when one is sealed, else rekey.",
            valueName: "init|unseal|rekey|generate-root|seal"))
    var ceremony: Doctor.Ceremony?

    @Option(
        help: ArgumentHelp("Warn about certificates and keys that expire within this many days.", valueName: "days"))
    var warnDays = 30

    func run() async throws {
        let secret = try token.resolve()
        let conn = try connection.resolve().with(token: secret)
        if let name = namespace.namespace { try conn.requireToken("checking the namespace \(name) needs") }
        if secret != nil { conn.warnIfPlaintext(sending: "the token") }
        let report = await Doctor(
            clients: conn.clients, keyFiles: pgpKeys.commaSeparated, ceremony: ceremony, warnDays: warnDays,
            namespace: namespace.namespace
        ).run()
        if conn.format == .json {
            Terminal.stdoutLine(Output.jsonText(document(report)))
        } else {
            print(report)
        }
        throw ExitCode(report.exitCode)
    }

    private func print(_ report: Doctor.Report) {
        let findings = report.findings
        let subject = findings.map { neutralised($0.subject).count }.max() ?? 0
        let check = findings.map(\.check.count).max() ?? 0
        let of =
            report.namespace.map {
                report.clusterFirst ? " of the cluster (the namespace \($0) needs it first)" : " of the namespace \($0)"
            } ?? ""
        Terminal.stdoutLine("keyturn doctor: checks for \(report.ceremony.rawValue)\(of)")
        for f in findings {
            // One line per check, whatever a server put in a field: a newline would forge another.
            let level = f.level.rawValue.padding(toLength: 5, withPad: " ", startingAt: 0)
            let line =
                level + neutralised(f.subject).padding(toLength: subject + 2, withPad: " ", startingAt: 0)
                + f.check.padding(toLength: check + 2, withPad: " ", startingAt: 0) + neutralised(f.detail)
            Terminal.stdoutLine(line)
            if let hint = DoctorHints.hint(f) {
                Terminal.stdoutLine(String(repeating: " ", count: 5) + "hint: " + hint)
            }
        }
        let count = { (l: Doctor.Finding.Level) in findings.filter { $0.level == l }.count }
        Terminal.stderrLine("keyturn: doctor: \(count(.ok)) ok, \(count(.warn)) warn, \(count(.fail)) fail")
    }

    private func document(_ report: Doctor.Report) -> [String: JSONValue] {
        let checks: [JSONValue] = report.findings.map { f in
            .object([
                "scope": .string(f.scope.rawValue), "subject": .string(f.subject), "check": .string(f.check),
                "result": .string(f.level.rawValue), "detail": .string(f.detail),
                "hint": DoctorHints.hint(f).map(JSONValue.string) ?? .null,
            ])
        }
        return [
            "ceremony": .string(report.ceremony.rawValue), "namespace": report.namespace.map(JSONValue.string) ?? .null,
            "cluster_first": .bool(report.clusterFirst),
            "checks": .array(checks),
            "exit": .number(Double(report.exitCode)),
        ]
    }
}

extension Doctor.Ceremony: ExpressibleByArgument {}
