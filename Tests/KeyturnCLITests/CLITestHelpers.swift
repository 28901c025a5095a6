import Foundation
import KeyturnTestSupport
import Testing

/// The repository's root, found from this file (Tests/KeyturnCLITests/).
let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

/// The JSON document a `--format json` command printed.
func jsonObject(_ r: ProcessResult) throws -> [String: Any] {
    try #require(
        try JSONSerialization.jsonObject(with: Data(r.stdout)) as? [String: Any],
        "stdout: \(r.stdoutText) stderr: \(r.stderr)")
}

/// A node initialised with 3 shares (threshold 2) and unsealed, with its root token and its
/// shares as 0600 hex files; with `legacyCeremonyEndpoints`, its listener serves Vault's
/// unauthenticated rekey and generate-root endpoints (OpenBao >= 2.5 turns them off).
func unsealedNode(
    legacyCeremonyEndpoints: Bool
) async throws -> (OpenBaoServer, [String], String, TemporaryDirectory, (hex: [String], base64: [String])) {
    let server = try await OpenBaoServer.start(
        .init(listenerExtra: legacyCeremonyEndpoints ? OpenBaoServer.Options.legacyCeremonyEndpoints : []))
    let (keys, rootToken) = try await server.initialize(shares: 3, threshold: 2)
    try await server.unseal(with: Array(keys.prefix(2)))
    let dir = try TemporaryDirectory()
    return (server, keys, rootToken, dir, try writeShareFiles(dir, hex: keys))
}

/// A one-share node, initialised and unsealed, once its root token works (the token store is
/// ready a moment after the unseal); the caller stops it.
func unsealedNodeWithToken(_ options: OpenBaoServer.Options = .init()) async throws -> (OpenBaoServer, String) {
    let server = try await OpenBaoServer.start(options)
    do {
        let (keys, root) = try await server.initialize(shares: 1, threshold: 1)
        try await server.unseal(with: keys)
        try await server.waitUntil(timeout: 60) {
            try await $0.call("GET", "auth/token/lookup-self", token: root).0 == 200
        }
        return (server, root)
    } catch {
        server.stop()
        throw error
    }
}

/// Seals a node with the root token (sys/seal), as an operator does before a maintenance.
func sealNode(_ server: OpenBaoServer, token: String) async throws {
    let (status, json) = try await server.call("PUT", "sys/seal", token: token)
    guard status == 204 || status == 200 else { throw HarnessError("sys/seal failed: \(status) \(json)") }
}

/// Every form a share could leak in, from its PGP file: the hex its holder decrypts (in either case)
/// and the base64 of its bytes.
func shareForms(_ gpg: TestGPG, _ file: String, passphrase: String = "") throws -> [String] {
    let hex = try gpg.gpg(["--pinentry-mode", "loopback", "--passphrase", passphrase, "--decrypt", file]).stdoutText
        .trimmingCharacters(in: .whitespacesAndNewlines)
    return [hex, hex.uppercased(), Data(try #require(hexBytes(hex))).base64EncodedString()]
}

/// The root token `keyturn init` printed.
func rootToken(printedBy r: ProcessResult) throws -> String {
    try #require(
        r.stdoutText.split(separator: "\n").first { $0.hasPrefix("Initial Root Token: ") }?.split(separator: " ")
            .last.map(String.init), "no root token in: \(r.stdoutText)")
}
