import ArgumentParser
import Ceremony
import Foundation
import KeyturnFailure

/// `keyturn report`: one account of a ceremony for an auditor.
struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Merge transcripts and ceremony records into one report: Markdown, and an HTML timeline.",
        discussion: """
            Reads every transcript (--transcript files of the operators) and every generation of \
            ceremony.json, checks each transcript's chain and signatures (with the keys in your \
            keyring), and prints the report in Markdown: anomalies (a broken chain, an unsigned \
            file, a refused share, a nonce that changed mid-way), each generation's holders and \
            threshold, the timeline, each signature's verdict. --html FILE also writes one \
            self-contained page (inline CSS and SVG, nothing fetched) with the timeline drawn. \
            Each transcript's head is listed, for the change ticket. --strict exits 2 on any anomaly.
            """)

    @Argument(help: ArgumentHelp("The operators' transcript files.", valueName: "transcript"))
    var transcripts: [String] = []

    @Option(
        name: .customLong("manifest"), parsing: .singleValue,
        help: ArgumentHelp(
            "A ceremony.json, or the directory holding one; repeat for each generation.", valueName: "path"))
    var manifests: [String] = []

    @Option(help: ArgumentHelp("Also write the report as one HTML page (0600, never over a file).", valueName: "file"))
    var html: String?

    @Flag(help: "Exit 2 when the report lists any anomaly (for a pipeline that must stop on one).")
    var strict = false

    func validate() throws {
        if transcripts.isEmpty && manifests.isEmpty {
            throw ValidationError("report needs transcript files, --manifest records, or both")
        }
    }

    func run() throws {
        let report = try CeremonyReport.build(transcripts: transcripts, manifests: manifests)
        if let html {
            try SecretFiles.writeNew(html, contents: Array(report.html().utf8))
            Terminal.stderrLine("keyturn: the HTML report is in \(quoted(html))")
        }
        Terminal.stdoutLine(report.markdown())
        if strict && !report.anomalies.isEmpty { throw ExitCode(ExitStatus.serverFailure.rawValue) }
    }
}
