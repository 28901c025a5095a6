import Foundation
import PGPShares
import Shamir
import TLSMaterial
import VaultClient

#if canImport(Glibc)
    import Glibc
#endif

/// An empty, private GnuPG home for listing key files without touching the user's keyring.
package final class ScratchGnuPGHome {
    package let path: String
    /// `noAutostart`: gpg starts no gpg-agent in it (`gpg.conf`: `no-autostart`), for what
    /// needs none (importing and encrypting to public keys) and must start nothing (`doctor`).
    package init(noAutostart: Bool = false) throws {
        var template = Array(SecretFiles.join(NSTemporaryDirectory(), "keyturn-gpg.XXXXXX").utf8CString)
        guard let made = mkdtemp(&template) else { throw CeremonyError("cannot create a temporary directory") }
        path = String(cString: made)
        if noAutostart {
            guard FileManager.default.createFile(atPath: path + "/gpg.conf", contents: Data("no-autostart\n".utf8))
            else { throw CeremonyError("cannot write in a temporary directory") }
        }
    }
    deinit {
        // gpg may have started an agent in it, which removes its sockets as it notices the
        // directory going: a removal that races it leaves the directory, so try again briefly.
        for _ in 0..<20 {
            try? FileManager.default.removeItem(atPath: path)
            if !FileManager.default.fileExists(atPath: path) { return }
            usleep(25_000)
        }
    }
}
