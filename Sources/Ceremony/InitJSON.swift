import Foundation
import KeyturnFailure
import Shamir
import VaultClient

/// A dev or CI server's init answer saved as JSON (`keyturn init --no-pgp --format json`, or
/// `bao operator init -format=json`): its plaintext unseal keys, for `unseal --init-json`. Meant
/// for throwaway servers only: such a file holds every key in the clear.
package struct InitJSON {
    package let shares: [ShareInput.Share]
    /// The threshold the file names (bao's `unseal_threshold`); keyturn's answer has none, and
    /// the node's seal status says it.
    package let threshold: Int?

    /// Reads the keys of the file at `path`, which only its owner may read.
    package init(_ path: String) throws {
        let text = try SecretFiles.readSmall(.path(path), privateHolding: "unseal keys")
        let object = withExtendedLifetime(text) {
            try? JSONSerialization.jsonObject(with: Data(text.bytes)) as? [String: Any]
        }
        guard let object else {
            throw CeremonyError("\(quoted(path)) is not a JSON init answer (keys or unseal_keys_hex)")
        }
        let keys =
            object["unseal_keys_hex"] as? [String] ?? object["keys"] as? [String] ?? object["unseal_keys_b64"]
            as? [String] ?? object["keys_base64"] as? [String] ?? []
        guard !keys.isEmpty else {
            throw CeremonyError("\(quoted(path)) holds no unseal keys (keys or unseal_keys_hex)")
        }
        shares = try keys.enumerated().map { i, key in
            let buffer = SecretBuffer(count: key.utf8.count)
            var copy = key
            copy.withUTF8 { buffer.bytes.copyMemory(from: UnsafeRawBufferPointer($0)) }
            return try ShareInput.decode(buffer, source: "key \(i + 1) of \(quoted(path))")
        }
        threshold = object["unseal_threshold"] as? Int
    }

    /// The keys a node with threshold `t` needs, refused (nothing sent) when the file has fewer.
    package func keys(threshold t: Int, path: String) throws -> [ShareInput.Share] {
        let needed = threshold ?? t
        guard shares.count >= needed else {
            throw CeremonyError(
                "\(quoted(path)) holds \(shares.count) unseal key\(shares.count == 1 ? "" : "s") but the threshold is "
                    + "\(needed); nothing was sent")
        }
        return Array(shares.prefix(needed))
    }
}
