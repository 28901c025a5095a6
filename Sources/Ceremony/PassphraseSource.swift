import Foundation
import PGPShares
import ProcessHygiene
import Shamir

#if canImport(Glibc)
    import Glibc
#endif

/// Where the operator's PGP passphrase comes from when pinentry cannot ask (automation,
/// tests): gpg-agent's pinentry by default, or the first line of a file or descriptor.
package enum PassphraseSource: Sendable {
    /// gpg-agent asks (pinentry).
    case agent
    /// The first line of this file.
    case file(String)
    /// The first line read from this open descriptor.
    case descriptor(Int32)

    /// The passphrase (first line, without its line ending), or nil to let gpg-agent ask.
    package func read() throws -> SecretBuffer? {
        switch self {
        case .agent: return nil
        case .file(let path): return try SecretFiles.firstLine(.path(path))
        case .descriptor(let n): return try SecretFiles.firstLine(.descriptor(n, name: "file descriptor \(n)"))
        }
    }
}
