import ArgumentParser
import Ceremony
import Foundation
import Shamir
import TLSMaterial

extension Secure {
    /// `keyturn secure gossip`.
    struct Gossip: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "gossip", abstract: "Print a fresh 32-byte base64 key for Consul's gossip 'encrypt' setting.")

        func run() throws {
            var key = [UInt8](repeating: 0, count: 32)
            defer { secureZero(&key) }
            do { try key.withUnsafeMutableBytes { try SecureRandom.fill($0) } } catch {
                throw CLIError("the random number generator failed")
            }
            Terminal.stdoutLine(Data(key).base64EncodedString())
        }
    }
}
