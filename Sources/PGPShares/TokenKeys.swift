internal import CGPGME
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A key whose secret lives on a token (a YubiKey, a smartcard), as this machine's gpg-agent
/// files it: what `doctor` checks is plugged in before a ceremony.
package struct TokenKey: Sendable, Equatable {
    /// The keygrip gpg-agent files it under (hex, upper case).
    package let keygrip: String
    /// The serial number of the card that holds it, as the agent's stub records it.
    package let serial: String?

    /// Whether its token is here.
    package enum State: Sendable, Equatable {
        case present
        /// No token answers, or the one that answers does not hold the key.
        case absent
        /// A token answers with another serial number (another holder's YubiKey).
        case other(serial: String)
        /// gpg-agent has no scdaemon to ask (Debian's `scdaemon` package is not installed).
        case noDaemon
        /// The agent did not answer (in time).
        case unknown
    }
}

/// The token gpg-agent's scdaemon sees now (`SCD SERIALNO`), asked once for every key.
package enum TokenSeen: Sendable, Equatable {
    case serial(String)
    /// No token answers.
    case none
    /// gpg-agent has no scdaemon to ask.
    case noDaemon
    /// The agent did not answer (in time).
    case unknown
}

extension PGPShares {
    /// The keys the running gpg-agent keeps on a token (`KEYINFO --list`, type `T`): nil when
    /// no agent runs or it does not answer (none is started for the question).
    package static func agentTokenKeys(timeout: TimeInterval) -> [TokenKey]? {
        guard let reply = AgentQuery.send("KEYINFO --list", timeout: timeout).reply, reply.code == 0 else {
            return nil
        }
        return reply.status.filter { $0.keyword == "KEYINFO" }.compactMap { status in
            let fields = status.args.split(separator: " ").map(String.init)
            guard fields.count >= 3, fields[1] == "T", fields[0].count == 40, fields[0].allSatisfy(\.isHexDigit)
            else { return nil }
            return TokenKey(
                keygrip: fields[0].uppercased(), serial: fields[2] == "-" ? nil : String(fields[2].prefix(64)))
        }
    }

    /// Whether gpg-agent files the secret of `keygrip` as a token's stub (its key file under
    /// `private-keys-v1.d` says `shadowed`): read from the file, so that no agent is started.
    package static func onToken(keygrip: String) -> Bool {
        _ = initialised
        guard keygrip.count == 40, keygrip.allSatisfy(\.isHexDigit), let home = gpgme_get_dirinfo("homedir") else {
            return false
        }
        let path = "\(String(cString: home))/private-keys-v1.d/\(keygrip.uppercased()).key"
        // A regular file only: a FIFO there would block an open for reading, a device never end.
        let fd = open(path, O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { return false }
        var head = [UInt8](repeating: 0, count: 4096)
        let n = read(fd, &head, head.count)
        return n > 0 && String(decoding: head[..<n], as: UTF8.self).contains("shadowed")
    }

    /// The token the running gpg-agent's scdaemon sees, as `gpg --card-status` asks (`SCD
    /// SERIALNO`). No PIN is asked for; no agent is started (the agent may start its scdaemon).
    package static func tokenSeen(timeout: TimeInterval) -> TokenSeen {
        guard let answer = AgentQuery.send("SCD SERIALNO", timeout: timeout).reply else { return .unknown }
        if answer.code == GPG_ERR_NO_SCDAEMON.rawValue { return .noDaemon }
        guard answer.code == 0,
            let serial = answer.status.first(where: { $0.keyword == "SERIALNO" })?.args.split(separator: " ").first
        else { return .none }
        return .serial(String(serial.prefix(64)))
    }

    /// Whether `key`'s token is plugged in, given the token the agent sees: one of another
    /// serial number is another token; one of the same, asked for the key itself (`SCD READKEY`
    /// by keygrip: gnupg-pkcs11-scd names a slot even when it is empty, and says "Not found").
    package static func tokenState(_ key: TokenKey, seen: TokenSeen, timeout: TimeInterval) -> TokenKey.State {
        let serial: String
        switch seen {
        case .none: return .absent
        case .noDaemon: return .noDaemon
        case .unknown: return .unknown
        case .serial(let s): serial = s
        }
        if let expected = key.serial, expected.uppercased() != serial.uppercased() { return .other(serial: serial) }
        guard let read = AgentQuery.send("SCD READKEY \(key.keygrip)", timeout: timeout).reply else { return .unknown }
        let gone = [GPG_ERR_NOT_FOUND, GPG_ERR_CARD_REMOVED, GPG_ERR_CARD_NOT_PRESENT, GPG_ERR_ENODEV].map(\.rawValue)
        if read.code == 0 { return .present }
        if gone.contains(read.code) { return .absent }
        // Another error (an scdaemon that takes no keygrip there): the serial number said it.
        return key.serial == nil ? .unknown : .present
    }

    /// The keygrips of `key`'s valid subkeys that can encrypt (what gpg-agent files their
    /// secrets under), from a scratch keyring it is imported into; empty when gpg cannot say.
    package static func encryptionKeygrips(of key: PublicKeyInfo, scratchHome: String) -> [String] {
        _ = initialised
        var ctx: gpgme_ctx_t?
        guard gpgme_new(&ctx) == 0, let ctx else { return [] }
        defer { gpgme_release(ctx) }
        _ = gpgme_set_protocol(ctx, GPGME_PROTOCOL_OpenPGP)
        _ = gpgme_ctx_set_engine_info(ctx, GPGME_PROTOCOL_OpenPGP, nil, scratchHome)
        _ = gpgme_set_keylist_mode(
            ctx, gpgme_keylist_mode_t(GPGME_KEYLIST_MODE_LOCAL | GPGME_KEYLIST_MODE_WITH_KEYGRIP))
        guard let handle = try? imported(key, ctx: ctx) else { return [] }
        defer { gpgme_key_unref(handle) }
        var grips: [String] = []
        var sub = handle.pointee.subkeys
        while let s = sub {
            if encrypts(s), let grip = s.pointee.keygrip {
                grips.append(String(cString: grip).uppercased())
            }
            sub = s.pointee.next
        }
        return grips
    }
}
