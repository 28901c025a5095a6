import Foundation
import KeyturnFailure
import PGPShares
import Shamir
import TLSMaterial
import VaultClient

#if canImport(Glibc)
    import Glibc
#endif

/// A key file and what it holds.
package struct OperatorKey {
    package let file: String
    package let info: PublicKeyInfo

    package init(file: String, info: PublicKeyInfo) {
        self.file = file
        self.info = info
    }

    /// Checks each key file (one usable public key each, no key twice).
    package static func inspect(_ files: [String]) throws -> [OperatorKey] {
        guard !files.isEmpty else { return [] }
        let scratch = try ScratchGnuPGHome()
        var seen: [String: String] = [:]
        return try files.map { file in
            let fd = try SecretFiles.openInput(file)
            let buffer = [UInt8](unsafeUninitializedCapacity: 1 << 20) { b, n in
                n = (try? SecretFiles.readFully(fd, into: UnsafeMutableRawBufferPointer(b), name: quoted(file))) ?? 0
            }
            close(fd)
            let info = try PGPShares.inspectPublicKey(buffer, name: quoted(file), scratchHome: scratch.path)
            if let other = seen[info.fingerprint] {
                throw CeremonyError(
                    "\(quoted(file)) and \(quoted(other)) hold the same key (\(info.fingerprint))", code: .sameKeyTwice)
            }
            seen[info.fingerprint] = file
            return OperatorKey(file: file, info: info)
        }
    }
}
