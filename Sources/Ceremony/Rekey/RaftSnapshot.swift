import Foundation
import VaultClient

/// A raft snapshot saved before a rekey: OpenBao 2.7.2's rekey completion is not crash-atomic
/// (the active node killed a few milliseconds after the completing submit left every node
/// refusing the old shares while the new ones were never sent), and restoring the snapshot
/// brings the old keys back (README: restoring a snapshot).
package enum RaftSnapshot {
    /// Checks that `path` can be written (it must not exist), before anything is asked.
    package static func check(_ path: String) throws {
        try SecretFiles.requireAbsent(path)
    }

    /// Fetches the snapshot from `client` (the active node, with a token) and writes it to
    /// `path` (0600, atomically, never over a file); returns its size in bytes.
    package static func save(_ client: VaultClient, to path: String) async throws -> Int {
        let data = try await client.raftSnapshot()
        try SecretFiles.writeNew(path, contents: [UInt8](data))
        return data.count
    }
}
