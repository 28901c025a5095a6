import Foundation
import KeyturnTestSupport
import Shamir
import Testing

@Suite("Shamir interoperability with a real OpenBao")
struct OpenBaoShamirInteropTests {
    @Test("every 3-subset of OpenBao's 5 shares combines to one key, and keyturn's re-split of it unseals OpenBao")
    func openBaoSharesCombineAndKeyturnSharesUnseal() async throws {
        let server = try await OpenBaoServer.start()
        defer { server.stop() }
        let (keys, _) = try await server.initialize(shares: 5, threshold: 3)
        let shares = try keys.map { try #require(ShareHex.decode($0)) }
        #expect(shares.allSatisfy { $0.count == 33 })

        // In the library: every 3-subset gives the same 32 bytes.
        let combined = try subsets(of: 5, size: 3).map { s in try Shamir.combine(s.map { shares[$0] }) }
        let rootKey = combined[0]
        #expect(rootKey.count == 32)
        #expect(combined.allSatisfy { $0 == rootKey })
        // Two shares are not enough.
        #expect(try Shamir.combine([shares[0], shares[1]]) != rootKey)

        // Through the CLI: OpenBao's hex keys, written as share files, combine the same way.
        let dir = try TemporaryDirectory()
        let files = try keys.enumerated().map { try dir.write("bao-\($0.offset).share", text: $0.element + "\n") }
        let c = try await Keyturn.launch(["combine", files[4], files[0], files[2]])
        #expect(c.status == 0, "\(c.stderr)")
        #expect(c.stdout == rootKey)

        // keyturn splits the key anew; three of its shares unseal the sealed node.
        let key = try dir.write("root-key.bin", rootKey)
        let s = try await Keyturn.launch([
            "split", "--threshold", "3", "--shares", "5", "--no-pgp", "--out-dir", dir.file("kt"), key,
        ])
        #expect(s.status == 0, "\(s.stderr)")
        #expect(try await server.sealStatus()["sealed"] as? Bool == true)
        var last: [String: Any] = [:]
        for n in [2, 5, 3] {
            // The share is the file's first line (Vault's format); its check line follows.
            let text = String(decoding: try #require(readBytes(dir.file("kt/share-\(n).share"))), as: UTF8.self)
            let lines = text.split(separator: "\n").map(String.init)
            #expect(lines.count == 2 && lines[1].hasPrefix("keyturn-split v1 ") && lines[1].hasSuffix("check=digest"))
            let (status, json) = try await server.call("PUT", "sys/unseal", ["key": lines[0]])
            #expect(status == 200, "\(json)")
            last = json
        }
        #expect(last["sealed"] as? Bool == false, "\(last)")
    }

    @Test("keyturn's shares of a wrong key do not unseal: OpenBao resets the progress at the threshold")
    func wrongKeyIsRejected() async throws {
        let server = try await OpenBaoServer.start()
        defer { server.stop() }
        _ = try await server.initialize(shares: 3, threshold: 2)
        let wrong = try Shamir.split([UInt8](repeating: 1, count: 32), shares: 2, threshold: 2)
        var last: (Int, [String: Any]) = (0, [:])
        for share in wrong { last = try await server.call("PUT", "sys/unseal", ["key": ShareHex.encode(share)]) }
        #expect(last.0 == 400 || last.1["sealed"] as? Bool == true)
        #expect(try await server.sealStatus()["sealed"] as? Bool == true)
    }
}
