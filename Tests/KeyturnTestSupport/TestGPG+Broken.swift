import Foundation

/// Keys a ceremony must not use, made for real by gpg: one that has expired, one revoked.
extension TestGPG {
    /// An RSA key made in 2020 (gpg's faked system time) that expired a day later.
    public func makeExpiredKey(_ name: String) throws -> String {
        try gpg([
            "--faked-system-time", "20200101T000000!", "--pinentry-mode", "loopback", "--passphrase", "",
            "--quick-generate-key", "\(name) <\(name)@keyturn.test>", "rsa2048", "sign,encrypt", "1d",
        ])
        return try home.write("\(name).asc", try gpg(["--armor", "--export", "\(name)@keyturn.test"]).stdout)
    }

    /// An RSA key revoked with the revocation certificate gpg made beside it.
    public func makeRevokedKey(_ name: String) throws -> String {
        let key = try makeKey(name)
        let certificate = String(
            decoding: readBytes(home.file("openpgp-revocs.d/\(key.fingerprint).rev")) ?? [], as: UTF8.self)
        // gpg guards the certificate against an accidental import with a leading colon.
        let armour = certificate.replacingOccurrences(
            of: ":-----BEGIN PGP PUBLIC KEY BLOCK-----", with: "-----BEGIN PGP PUBLIC KEY BLOCK-----")
        try gpg(["--import"], stdin: Array(armour.utf8))
        return try home.write("\(name).asc", try gpg(["--armor", "--export", key.fingerprint]).stdout, mode: 0o644)
    }
}
