import ArgumentParser
import Ceremony
import KeyturnFailure
import ProcessHygiene
import Shamir

extension GenerateRoot {
    /// `keyturn generate-root decode`.
    struct Decode: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "decode",
            abstract: "Turn the encoded token into the root token with the one-time pad (to stdout or a 0600 file).")

        @Option(help: ArgumentHelp("The one-time pad's file, as generate-root start wrote it.", valueName: "file"))
        var otpFile: String

        @Argument(
            help: ArgumentHelp(
                "The encoded token's file (generate-root.encoded), or '-' for standard input.",
                valueName: "encoded-file"))
        var encodedFile: String

        @Option(
            name: .shortAndLong,
            help: ArgumentHelp(
                "Write the token to this file (created 0600, never overwriting) instead of standard output.",
                valueName: "file"))
        var output: String?

        @OptionGroup
        var transcript: TranscriptOptions

        func run() throws {
            let log = try transcript.open("generate-root decode")
            if let output { try SecretFiles.requireAbsent(output) }
            let otp = try OneTimePad.readLine(otpFile, what: "one-time pad", secret: true)
            let encoded = try OneTimePad.readLine(encodedFile, what: "encoded token", secret: false)
            var line = try OneTimePad.decode(encoded: encoded, otp: otp) + [0x0a]
            defer { secureZero(&line) }
            if let output {
                let file = try PendingFile(path: output)
                try line.withUnsafeBytes { try file.write($0) }
                try FileBatch.publish([file], directory: SecretFiles.directory(of: output))
                Terminal.stderrLine("keyturn: wrote the root token to \(quoted(output))")
            } else {
                guard line.withUnsafeBytes({ Terminal.write(.output, $0) }) else {
                    throw CLIError("cannot write the token to standard output")
                }
            }
            log?.record(result: "decoded")
        }
    }
}
