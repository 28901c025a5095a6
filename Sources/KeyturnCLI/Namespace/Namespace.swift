import ArgumentParser
import Ceremony
import Foundation
import VaultClient

/// `keyturn namespace`: OpenBao's sealable namespaces (2.6+), each a ceremony of its own.
struct NamespaceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "namespace",
        abstract: "Sealable namespaces (OpenBao 2.6+): each has its own shares, holders and threshold.",
        discussion: """
            Create one with its holders' keys; then --namespace NAME on status, unseal, seal, rekey and \
            generate-root works on its seal instead of the cluster's (with a token).
            """,
        subcommands: [Create.self])

    /// `keyturn namespace create`.
    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a sealable namespace: one share per holder, encrypted to their key; one-shot like init.",
            discussion: """
                Checks every key file and output path and that the namespace does not exist, then makes \
                the one request; its answer holds the shares and comes once, so it is waited for as \
                init's is, held against Ctrl-C, and written all or none (or printed whole if it cannot \
                be). The namespace starts sealed: its holders unseal it with keyturn unseal --namespace.
                """)

        @Argument(help: ArgumentHelp("The namespace's name.", valueName: "name"))
        var name: String

        @OptionGroup(title: "Connection options") var connection: ConnectionOptions

        @OptionGroup var token: TokenOptions

        @Option(
            name: .customLong("pgp-keys"), parsing: .singleValue,
            help: ArgumentHelp("The holders' public key files, comma-separated or repeated.", valueName: "files"))
        var pgpKeys: [String] = []

        @Option(help: ArgumentHelp("Shares needed to unseal it (default: a majority).", valueName: "k"))
        var keyThreshold: Int?

        @Option(help: ArgumentHelp("Where the share files and ceremony.json go (created 0700).", valueName: "dir"))
        var outDir = "."

        @OptionGroup var dryRun: DryRunOption

        func validate() throws {
            guard VaultClient.isNamespaceName(name) else {
                throw ValidationError("'\(name)' is not a namespace name (letters, digits, '-', '_', '.')")
            }
            if pgpKeys.commaSeparated.isEmpty { throw ValidationError("namespace create needs --pgp-keys") }
        }

        func run() async throws {
            let keyFiles = pgpKeys.commaSeparated
            let threshold = keyThreshold ?? (keyFiles.count / 2 + 1)
            try ThresholdCheck.require(shares: keyFiles.count, threshold: threshold)
            let conn = try connection.resolve().with(token: try token.resolve())
            guard conn.clients.count == 1, let client = conn.clients.first else {
                throw CLIError("namespace create talks to one node", hint: "give the address of the active node")
            }
            try conn.requireToken("creating a namespace needs")
            conn.warnIfPlaintext(sending: "the token and the request whose answer holds the shares")
            let create = try NamespaceCreate(name: name, keyFiles: keyFiles, threshold: threshold, outDir: outDir)
            try await create.requireAbsent(client)
            if dryRun.enabled { return dryRun.report([("POST", "/v1/sys/namespaces/\(name)", client.address)]) }
            try await SignalHold.around(
                "the namespace's shares were being saved",
                notice: .oneShot("the namespace's creation", node: client.address, after: conn.transport.timeout)
            ) {
                let answer = try await create.send(to: client)
                try OneShotAnswer.save(
                    done: "the namespace \(name) exists", unsaved: "the share files", shown: "its whole answer",
                    hint: "save that output now: it holds every encrypted share", answer: { Output.jsonText(answer) }
                ) { try create.write(answer, address: client.address) }
            }
            for f in create.plan.shareFiles { Terminal.stdoutLine(f) }
            Terminal.stdoutLine(create.plan.manifest)
            Terminal.stderrLine(
                "keyturn: the namespace \(name) exists, sealed: \(keyFiles.count) shares, any \(threshold) unseal it "
                    + "(keyturn unseal --namespace \(name)); hand each holder their .key file")
        }
    }
}
