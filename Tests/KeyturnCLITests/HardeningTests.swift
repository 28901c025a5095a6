import Foundation
import KeyturnTestSupport
import Testing

@Suite("fuzz regressions")
struct FuzzRegressionTests {
    @Test(
        "every saved fuzz input replays through its target without a crash",
        arguments: [
            "share-text", "share-file", "shamir-combine", "vault-json", "pem", "pgp-armor", "transcript",
            "ceremony-record", "attestation", "rekey-plan",
        ])
    func replay(_ target: String) async throws {
        // A test tool of the test build, not part of what ships: beside the test bundle.
        let fuzz = Keyturn.testBuildDirectory + "/KeyturnFuzz"
        let dir = try #require(
            Bundle.module.url(forResource: "fuzz-regressions", withExtension: nil, subdirectory: "Fixtures")
        ).appendingPathComponent(target).path
        let files = try FileManager.default.contentsOfDirectory(atPath: dir).map { "\(dir)/\($0)" }
        #expect(!files.isEmpty)
        let r = try await Processes.launch(fuzz, [target] + files)
        #expect(r.status == 0, "\(r.stdoutText) \(r.stderr)")
        #expect(r.stdoutText.contains("\(files.count) input(s) replayed"))
    }
}
