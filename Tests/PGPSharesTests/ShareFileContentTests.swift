import Foundation
import PGPShares
import Testing

@Suite("share file forms")
struct ShareFileContentTests {
    static func classify(_ text: String) -> ShareFileContent {
        Array(text.utf8).withUnsafeBytes { ShareFileContent.classify($0) }
    }

    @Test("armoured PGP, Vault's base64 of a binary PGP message and plain share text are told apart")
    func classifies() throws {
        #expect(Self.classify("-----BEGIN PGP MESSAGE-----\n\nhQEMA\n-----END PGP MESSAGE-----\n") == .armouredPGP)
        // A binary message starts with a packet tag (top bit set): 0x85 0x01 ... as base64.
        let binary = [0x85, 0x01, 0x0c] + [UInt8](repeating: 0x41, count: 120)
        let vault = Data(binary).base64EncodedString()
        #expect(Self.classify(vault + "\n") == .vaultBase64PGP)
        let message = try #require(
            Array(vault.utf8).withUnsafeBytes { ShareFileContent.binaryMessage(fromVaultBase64: $0) })
        withExtendedLifetime(message) { #expect(Array(message.bytes) == binary) }
        // Shares: hex (66 characters), base64 (44), each with a line ending; and garbage.
        #expect(Self.classify(String(repeating: "ab", count: 33) + "\n") == .plain)
        #expect(Self.classify(Data(repeating: 0x85, count: 33).base64EncodedString() + "\n") == .plain)
        #expect(Self.classify("") == .plain)
        // Long base64 whose first byte is not a packet tag is not PGP.
        #expect(Self.classify(Data(repeating: 0x05, count: 120).base64EncodedString()) == .plain)
    }

    @Test("trimming takes the whitespace around a share and nothing else")
    func trims() {
        let text = Array(" \t\r\nab cd\r\n".utf8)
        let trimmed = text.withUnsafeBytes { Array(ShareFileContent.trimmed($0)) }
        #expect(trimmed == Array("ab cd".utf8))
        #expect(Array("\n\n".utf8).withUnsafeBytes { ShareFileContent.trimmed($0).count } == 0)
    }
}
