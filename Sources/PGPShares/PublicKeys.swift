internal import CGPGME
import Foundation

/// An operator's public key, checked: exactly one key, able to encrypt, neither expired nor
/// revoked, no secret part.
package struct PublicKeyInfo: Sendable, Hashable {
    /// The key's fingerprint (hex, upper case).
    package let fingerprint: String
    /// Its first user id ("Alice <alice@example.org>").
    package let userID: String
    /// The binary (unarmoured) key, as Vault's `pgp_keys` wants it in base64.
    package let binary: [UInt8]
    /// The subkey a share is encrypted to: its algorithm as gpg names it (`rsa3072`,
    /// `cv25519`), and when it (or the primary key) expires, nil: never. Unknown (nil) for a
    /// key known by fingerprint only.
    package var encryptionAlgorithm: String?
    package var encryptionExpires: Date?

    /// A key known by these facts (for a holder known only by the fingerprint a server reports,
    /// `binary` is empty).
    package init(fingerprint: String, userID: String, binary: [UInt8]) {
        self.fingerprint = fingerprint
        self.userID = userID
        self.binary = binary
    }

    /// Whether servers built on Go's OpenPGP libraries take it: RSA everywhere; elliptic-curve
    /// keys only where the server uses ProtonMail's go-crypto (OpenBao, and HashiCorp Vault
    /// since 1.11); older Vault refuses them (hashicorp/vault#2846).
    package var isRSA: Bool { encryptionAlgorithm?.hasPrefix("rsa") ?? true }
}

extension PGPShares {
    /// Reads a public key file's bytes (ASCII-armoured, binary, or base64 of binary as Vault
    /// takes it) and checks it, without importing anything into a keyring. `scratchHome` is an
    /// empty directory gpg may use (it writes nothing there for a listing).
    package static func inspectPublicKey(
        _ data: [UInt8], name: String, scratchHome: String
    ) throws(PGPError) -> PublicKeyInfo {
        _ = initialised
        guard let binary = binaryKey(data) else {
            throw PGPError(.notPGP, "\(name) is not a PGP public key (expected an armoured, binary or base64 key)")
        }
        var ctx: gpgme_ctx_t?
        guard gpgme_new(&ctx) == 0, let ctx else {
            throw PGPError(.engine, "gpgme could not start (is gnupg installed?)")
        }
        defer { gpgme_release(ctx) }
        _ = gpgme_set_protocol(ctx, GPGME_PROTOCOL_OpenPGP)
        _ = gpgme_ctx_set_engine_info(ctx, GPGME_PROTOCOL_OpenPGP, nil, scratchHome)
        var keyData: gpgme_data_t?
        let created = binary.withUnsafeBytes {
            gpgme_data_new_from_mem(&keyData, $0.baseAddress?.assumingMemoryBound(to: CChar.self), $0.count, 1)
        }
        guard created == 0, let keyData else { throw PGPError(.engine, "gpgme could not read \(name)") }
        defer { gpgme_data_release(keyData) }
        guard gpgme_op_keylist_from_data_start(ctx, keyData, 0) == 0 else {
            throw PGPError(.notPGP, "\(name) is not a PGP public key")
        }
        var keys: [gpgme_key_t] = []
        defer { keys.forEach { gpgme_key_unref($0) } }
        while true {
            var key: gpgme_key_t?
            if gpgme_op_keylist_next(ctx, &key) != 0 { break }
            if let key { keys.append(key) }
        }
        _ = gpgme_op_keylist_end(ctx)
        guard !keys.isEmpty else { throw PGPError(.notPGP, "\(name) holds no PGP key") }
        guard keys.count == 1 else {
            throw PGPError(
                .notPGP, "\(name) holds \(keys.count) keys; give each operator's key in its own file",
                facts: ["situation": "severalKeys"])
        }
        let key = keys[0].pointee
        let fingerprint =
            key.fpr.map { String(cString: $0) } ?? key.subkeys.pointee.fpr.map { String(cString: $0) } ?? "?"
        let uid = key.uids.flatMap { $0.pointee.uid }.map { String(cString: $0) } ?? fingerprint
        if key.secret != 0 || binary.first.map(isSecretPacket) == true {
            throw PGPError(
                .notPGP, "\(name) holds a private key; give the public key only, and keep the private one safe",
                facts: ["situation": "privateKey", "fingerprint": fingerprint])
        }
        if key.revoked != 0 { throw PGPError(.notPGP, "the key in \(name) (\(uid)) is revoked") }
        if key.expired != 0 { throw PGPError(.notPGP, "the key in \(name) (\(uid)) has expired") }
        if key.disabled != 0 || key.invalid != 0 {
            throw PGPError(.notPGP, "the key in \(name) (\(uid)) is not usable")
        }
        // The primary key's flag says whether any valid subkey can encrypt.
        var canEncrypt = false
        var info = PublicKeyInfo(fingerprint: fingerprint, userID: uid, binary: binary)
        var sub = key.subkeys
        while let s = sub {
            if encrypts(s) {
                canEncrypt = true
                if let algo = gpgme_pubkey_algo_string(s) {
                    info.encryptionAlgorithm = String(cString: algo)
                    gpgme_free(algo)
                }
                // The sooner of the subkey's expiry and the primary key's.
                let ends = [s.pointee.expires, key.subkeys.pointee.expires].filter { $0 > 0 }.min()
                info.encryptionExpires = ends.map { Date(timeIntervalSince1970: TimeInterval($0)) }
            }
            sub = s.pointee.next
        }
        guard canEncrypt else {
            throw PGPError(.notPGP, "the key in \(name) (\(uid)) has no subkey that can encrypt (or it has expired)")
        }
        return info
    }

    /// Tag of a secret-key packet (old or new format), checked on the first packet.
    private static func isSecretPacket(_ tagByte: UInt8) -> Bool {
        let tag = tagByte & 0x40 != 0 ? tagByte & 0x3f : (tagByte >> 2) & 0x0f
        return tag == 5 || tag == 7
    }

    /// The binary key inside armour or base64, or the bytes as they are if already binary.
    static func binaryKey(_ data: [UInt8]) -> [UInt8]? {
        guard let first = data.first else { return nil }
        if first & 0x80 != 0 { return data }  // a binary OpenPGP packet
        let text = String(decoding: data, as: UTF8.self)
        if text.contains("-----BEGIN PGP") {
            return Armor.decode(text)
        }
        let compact = text.filter { !$0.isWhitespace }
        guard let decoded = Data(base64Encoded: compact), let b = decoded.first, b & 0x80 != 0 else { return nil }
        return [UInt8](decoded)
    }
}

/// OpenPGP ASCII armour (RFC 4880 §6): base64 in 64-column lines with a CRC-24 checksum.
package enum Armor {
    /// Armours `binary` as a PGP MESSAGE (or another block type).
    package static func encode(_ binary: [UInt8], type: String = "PGP MESSAGE") -> String {
        let body = Data(binary).base64EncodedString()
        var lines: [String] = []
        var index = body.startIndex
        while index < body.endIndex {
            let end = body.index(index, offsetBy: 64, limitedBy: body.endIndex) ?? body.endIndex
            lines.append(String(body[index..<end]))
            index = end
        }
        let crc = crc24(binary)
        let checksum = Data([UInt8(crc >> 16 & 0xff), UInt8(crc >> 8 & 0xff), UInt8(crc & 0xff)]).base64EncodedString()
        return "-----BEGIN \(type)-----\n\n" + lines.joined(separator: "\n") + "\n=\(checksum)\n-----END \(type)-----\n"
    }

    /// The binary inside the first armoured block of `text`, or nil.
    package static func decode(_ text: String) -> [UInt8]? {
        let lines = text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
        guard let begin = lines.firstIndex(where: { $0.hasPrefix("-----BEGIN PGP") }),
            let end = lines[begin...].firstIndex(where: { $0.hasPrefix("-----END PGP") })
        else { return nil }
        var body = lines[(begin + 1)..<end]
        // Header lines ("Comment: ...") end at the first blank line.
        if let blank = body.firstIndex(of: "") { body = body[(blank + 1)...] }
        let payload = body.filter { !$0.hasPrefix("=") && !$0.isEmpty }.joined()
        return Data(base64Encoded: payload).map { [UInt8]($0) }
    }

    static func crc24(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xB704CE
        for b in bytes {
            crc ^= UInt32(b) << 16
            for _ in 0..<8 {
                crc <<= 1
                if crc & 0x1000000 != 0 { crc ^= 0x1864CFB }
            }
        }
        return crc & 0xFFFFFF
    }
}

extension PGPShares {
    /// Encrypts `plaintext` to one operator's key, armoured. The key is imported into
    /// `scratchHome` (an empty directory of the caller's), never into the user's keyring; it is
    /// trusted because the operator named the key file.
    package static func encrypt(
        _ plaintext: UnsafeRawBufferPointer, to key: PublicKeyInfo, scratchHome: String
    ) throws(PGPError) -> [UInt8] {
        _ = initialised
        var ctx: gpgme_ctx_t?
        guard gpgme_new(&ctx) == 0, let ctx else {
            throw PGPError(.engine, "gpgme could not start (is gnupg installed?)")
        }
        defer { gpgme_release(ctx) }
        _ = gpgme_set_protocol(ctx, GPGME_PROTOCOL_OpenPGP)
        _ = gpgme_ctx_set_engine_info(ctx, GPGME_PROTOCOL_OpenPGP, nil, scratchHome)
        gpgme_set_armor(ctx, 1)
        let handle = try imported(key, ctx: ctx)
        defer { gpgme_key_unref(handle) }
        var plain: gpgme_data_t?, cipher: gpgme_data_t?
        guard
            gpgme_data_new_from_mem(
                &plain, plaintext.baseAddress?.assumingMemoryBound(to: CChar.self), plaintext.count, 0) == 0, let plain,
            gpgme_data_new(&cipher) == 0, let cipher
        else { throw PGPError(.engine, "gpgme could not allocate buffers") }
        defer { gpgme_data_release(plain) }
        var recipients: [gpgme_key_t?] = [handle, nil]
        let err = gpgme_op_encrypt(
            ctx, &recipients, gpgme_encrypt_flags_t(rawValue: GPGME_ENCRYPT_ALWAYS_TRUST.rawValue), plain, cipher)
        var size = 0
        let raw = gpgme_data_release_and_get_mem(cipher, &size)
        defer { if let raw { gpgme_free(raw) } }
        guard err == 0, let raw else {
            throw PGPError(
                .engine, "gpg could not encrypt to \(key.userID): \(String(cString: gpgme_strerror(err)).lowercased())")
        }
        return [UInt8](UnsafeRawBufferPointer(start: raw, count: size))
    }
}

extension PGPShares {
    /// The OpenPGP engine GPGME drives: gpg's version and path, nil when gpg is missing.
    package static func engine() -> (version: String, path: String)? {
        _ = initialised
        var info: gpgme_engine_info_t?
        guard gpgme_get_engine_info(&info) == 0 else { return nil }
        var e = info
        while let current = e {
            if current.pointee.protocol == GPGME_PROTOCOL_OpenPGP {
                guard let version = current.pointee.version, let path = current.pointee.file_name else { return nil }
                return (String(cString: version), String(cString: path))
            }
            e = current.pointee.next
        }
        return nil
    }
}
