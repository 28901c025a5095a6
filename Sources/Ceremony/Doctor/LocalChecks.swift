import Foundation
import KeyturnFailure
import PGPShares

#if canImport(Glibc)
    import Glibc
#endif

/// The checks of this machine and of the holders' key files: gpg and its agent, a pinentry
/// that can ask here, and each key: it parses, is neither expired nor revoked, can be
/// encrypted to (a trial encryption in a scratch keyring), of an algorithm the server takes.
struct LocalChecks {
    let keyFiles: [String]
    let ceremony: Doctor.Ceremony
    let warnDays: Int
    /// The products the nodes said they are (`OpenBao`, `Vault`, ...).
    let products: Set<String>
    var environment = ProcessInfo.processInfo.environment

    func run() -> [Doctor.Finding] {
        var out: [Doctor.Finding] = []
        guard let gpg = PGPShares.engine() else {
            return [
                Doctor.Finding(.local, "gpg", "gpg", .fail, "GPGME finds no gpg", situation: "noGPG")
            ]
        }
        out.append(Doctor.Finding(.local, "gpg", "gpg", .ok, "gpg \(gpg.version) (\(gpg.path)) through GPGME"))
        let agent = ceremony.decrypts ? PGPShares.agent() : .notRunning
        if ceremony.decrypts {
            out.append(self.agent(agent, gpgVersion: gpg.version))
            out.append(pinentry())
        }
        let keys = keys()
        out += keys.findings
        if ceremony.decrypts { out += TokenChecks(given: keys.parsed, agent: agent).run() }
        return out
    }

    private func which(_ name: String) -> String? {
        let dirs = (environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":").map(String.init) + ["/usr/bin"]
        return dirs.map { "\($0)/\(name)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// gpg-agent installed, and the one running (if any) of gpg's version: an agent left running
    /// across an upgrade answers with the old one's behaviour, and something on its socket that
    /// does not answer would hang every decryption.
    private func agent(_ state: AgentState, gpgVersion: String) -> Doctor.Finding {
        guard let path = which("gpg-agent") else {
            return Doctor.Finding(
                .local, "gpg", "gpg-agent", .fail, "no gpg-agent: share files cannot be decrypted here",
                situation: "noAgent")
        }
        switch state {
        case .notRunning:
            return Doctor.Finding(.local, "gpg", "gpg-agent", .ok, "\(path), not running (gpg starts it when needed)")
        case .notAnswering:
            return Doctor.Finding(
                .local, "gpg", "gpg-agent", .fail, "something on gpg-agent's socket does not answer as an agent",
                situation: "agentHung")
        case .running(let version) where version != gpgVersion:
            return Doctor.Finding(
                .local, "gpg", "gpg-agent", .warn, "gpg-agent \(version) is running, gpg is \(gpgVersion)",
                situation: "agentVersion")
        case .running(let version):
            return Doctor.Finding(.local, "gpg", "gpg-agent", .ok, "gpg-agent \(version) running (\(path))")
        }
    }

    /// Whether gpg-agent can ask a holder for a passphrase here.
    private func pinentry() -> Doctor.Finding {
        let programs = ["pinentry", "pinentry-tty", "pinentry-curses", "pinentry-gnome3", "pinentry-qt"]
        guard let found = programs.lazy.compactMap(which).first else {
            return Doctor.Finding(
                .local, "gpg", "pinentry", .warn, "no pinentry program: a key with a passphrase cannot be asked for",
                situation: "noPinentry")
        }
        guard isatty(0) == 1 else {
            return Doctor.Finding(
                .local, "gpg", "pinentry", .ok,
                "\(found); no terminal here: keys with a passphrase need a passphrase file (or a graphical pinentry)")
        }
        guard let tty = environment["GPG_TTY"], !tty.isEmpty else {
            return Doctor.Finding(
                .local, "gpg", "pinentry", .warn,
                "GPG_TTY is not set: pinentry may ask on another screen, or fail over SSH", situation: "noGPGTTY")
        }
        return Doctor.Finding(.local, "gpg", "pinentry", .ok, "\(found) asks on \(tty)")
    }

    /// Each key file on its own (one bad file does not hide the others), then the set; and,
    /// for a ceremony that decrypts here, the keys that parsed.
    private func keys() -> (findings: [Doctor.Finding], parsed: [TokenChecks.Given]) {
        var out: [Doctor.Finding] = []
        var seen: [String: String] = [:]
        var parsed: [TokenChecks.Given] = []
        // One scratch keyring for every trial encryption (each imports only its own key).
        let scratch = keyFiles.isEmpty ? nil : try? ScratchGnuPGHome(noAutostart: true)
        for file in keyFiles {
            let key: OperatorKey
            do { key = try OperatorKey.inspect([file])[0] } catch {
                let reason = (error as? any KeyturnFailure)?.reason ?? "\(error)"
                out.append(
                    Doctor.Finding(
                        .local, file, "key", .fail, reason, situation: "badKey"))
                continue
            }
            if let other = seen[key.info.fingerprint] {
                out.append(
                    Doctor.Finding(
                        .local, file, "key", .fail, "the same key as \(other)", situation: "sameKey"))
                continue
            }
            seen[key.info.fingerprint] = file
            out.append(check(key, scratch: scratch))
            // Its keygrips only where the token checks run (another import and listing).
            guard ceremony.decrypts, let scratch else { continue }
            let grips = PGPShares.encryptionKeygrips(of: key.info, scratchHome: scratch.path)
            parsed.append(TokenChecks.Given(userID: key.info.userID, keygrips: grips))
        }
        return (out, parsed)
    }

    private func check(_ key: OperatorKey, scratch: ScratchGnuPGHome?) -> Doctor.Finding {
        let info = key.info
        let algorithm = info.encryptionAlgorithm ?? "?"
        // A trial encryption, as the server's will be, into a scratch keyring.
        do {
            guard let scratch else { throw CeremonyError("cannot create a temporary directory") }
            let probe = [UInt8](repeating: 0x2a, count: 32)
            _ = try probe.withUnsafeBytes { try PGPShares.encrypt($0, to: info, scratchHome: scratch.path) }
        } catch {
            return Doctor.Finding(
                .local, key.file, "key", .fail,
                "\(info.userID): a trial encryption failed (\((error as? any KeyturnFailure)?.reason ?? "\(error)"))",
                situation: "badKey")
        }
        var detail = "\(info.userID), \(algorithm)"
        if let ends = info.encryptionExpires {
            let days = Int(ends.timeIntervalSinceNow / 86400)
            detail += ", expires in \(days) days"
            if days < warnDays {
                return Doctor.Finding(.local, key.file, "key", .warn, detail, situation: "keyExpiring")
            }
        } else {
            detail += ", no expiry"
        }
        if !info.isRSA && products != ["OpenBao"] {
            return Doctor.Finding(
                .local, key.file, "key", .warn, detail + ": an elliptic-curve key", situation: "eccKey")
        }
        return Doctor.Finding(.local, key.file, "key", .ok, detail + "; a trial encryption worked")
    }
}
