import Foundation
import KeyturnFailure
import PGPShares
import Shamir
import VaultClient

/// The creation of a sealable namespace (OpenBao 2.6+): a ceremony of its own, one-shot like
/// `init`. Its shares come once, in the answer to `POST sys/namespaces/NAME`, so everything is
/// checked first (the name, each key, the files, that the namespace does not exist), the answer
/// is waited for as init's is, and its files are written all or none with a ceremony record
/// naming the namespace.
package struct NamespaceCreate {
    package let name: String
    package let keys: [OperatorKey]
    package let threshold: Int
    package let plan: ShareFilePlan

    /// Checks the keys and the files before anything is sent.
    package init(name: String, keyFiles: [String], threshold: Int, outDir: String) throws {
        self.name = name
        self.threshold = threshold
        keys = try OperatorKey.inspect(keyFiles)
        plan = try ShareFilePlan(directory: outDir, keyFiles: keyFiles, recoveryKeyFiles: [], rootToken: false)
    }

    package var request: NamespaceRequest {
        NamespaceRequest(
            shares: keys.count, threshold: threshold, pgpKeys: keys.map { Data($0.info.binary).base64EncodedString() })
    }

    /// Refuses a namespace that exists, and a node that does not say.
    package func requireAbsent(_ client: VaultClient) async throws {
        let exists: Bool
        do throws(VaultError) { exists = try await client.namespaceExists(name) } catch {
            throw CeremonyError(
                "\(client.address) did not say whether the namespace \(name) exists (\(error.reason)); nothing was "
                    + "sent", code: .refused, facts: ["node": client.address])
        }
        if exists {
            throw CeremonyError(
                "the namespace \(name) exists already on \(client.address)", code: .alreadyInitialised,
                facts: ["node": client.address, "when": "namespace", "namespace": name])
        }
    }

    /// Sends the creation; an answer lost on the way is said to be lost, with what to check.
    package func send(to client: VaultClient) async throws -> NamespaceAnswer {
        do throws(VaultError) { return try await client.createSealedNamespace(name, request) } catch {
            if error.isUnreachable && error.code != .unreachable {
                throw CeremonyError(
                    "\(error.reason); the request was sent, so the namespace \(name) may now exist with its shares "
                        + "lost", code: .mayBeInitialised,
                    facts: ["node": client.address, "situation": "namespace", "namespace": name])
            }
            throw error
        }
    }

    /// Writes the holders' files from the answer, all or none; a hostile or broken answer (a
    /// count that is not the keys', a share that is not hex) is refused, its text kept by the
    /// caller.
    package func write(_ answer: NamespaceAnswer, address: String) throws {
        let hex = answer.keyShares ?? []
        guard hex.count == keys.count else {
            throw CeremonyError("the server sent \(hex.count) shares for \(keys.count) keys")
        }
        if let t = answer.keyThreshold, t != threshold {
            throw CeremonyError("the server set a threshold of \(t), not the \(threshold) asked for")
        }
        let base64 = try hex.map { h in
            guard let bytes = ShareHex.decode(h), !bytes.isEmpty else {
                throw CeremonyError("the server sent a share that is not hex")
            }
            return Data(bytes).base64EncodedString()
        }
        try plan.write(
            IssuedKeys(keys: hex, keysBase64: base64), operators: keys, recovery: [], rootKey: nil, address: address,
            shares: keys.count, threshold: threshold, clientSide: false,
            lineage: CeremonyRecord.Lineage(generation: 1, previousSHA256: nil, target: nil, namespace: name))
    }
}
