internal import COpenSSL
import Foundation
import KeyturnFailure

/// An X.509 certificate, owned and freed by this value.
package final class Certificate: @unchecked Sendable {
    let pointer: OpaquePointer

    init(_ pointer: OpaquePointer) { self.pointer = pointer }
    deinit { X509_free(pointer) }

    /// Reads the first PEM certificate of `pem`.
    package init(pem: [UInt8], name: String) throws(TLSMaterialError) {
        let bio = try MemoryBIO(pem)
        guard let c = PEM_read_bio_X509(bio.pointer, nil, nil, nil) else {
            ERR_clear_error()  // OpenSSL's per-thread error queue would otherwise grow
            throw TLSMaterialError(.unreadable, "\(name) is not a PEM certificate")
        }
        pointer = c
    }

    /// PEM.
    package func pem() throws(TLSMaterialError) -> [UInt8] {
        let bio = try MemoryBIO()
        guard PEM_write_bio_X509(bio.pointer, pointer) == 1 else {
            throw TLSMaterialError(.openssl, "openssl could not write the certificate")
        }
        return bio.bytes()
    }

    /// The subject, as OpenSSL prints it ("CN = vault.example").
    package var subject: String { Self.name(X509_get_subject_name(pointer)) }
    /// The issuer.
    package var issuer: String { Self.name(X509_get_issuer_name(pointer)) }
    /// The subject alternative names ("DNS:vault.example", "IP Address:127.0.0.1").
    package var subjectAltNames: [String] {
        let index = X509_get_ext_by_NID(pointer, NID_subject_alt_name, -1)
        guard index >= 0, let ext = X509_get_ext(pointer, index), let bio = try? MemoryBIO() else { return [] }
        guard X509V3_EXT_print(bio.pointer, ext, 0, 0) == 1 else { return [] }
        return String(decoding: bio.bytes(), as: UTF8.self).split(separator: ",").map {
            $0.trimmingCharacters(in: .whitespaces)
        }
    }
    /// The serial number, hex.
    package var serial: String {
        guard let bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(pointer), nil) else { return "?" }
        defer { BN_free(bn) }
        guard let hex = BN_bn2hex(bn) else { return "?" }
        defer { CRYPTO_free(hex, #file, #line) }
        return String(cString: hex)
    }
    /// Start of validity.
    package var notBefore: Date { Self.date(X509_get0_notBefore(pointer)) }
    /// End of validity.
    package var notAfter: Date { Self.date(X509_get0_notAfter(pointer)) }

    /// Whether `key` is this certificate's private key.
    package func matches(_ key: PrivateKey) -> Bool { X509_check_private_key(pointer, key.pointer) == 1 }

    /// Checks that this certificate chains to `ca` (and is valid now); throws the reason if not.
    package func verify(against ca: Certificate) throws(TLSMaterialError) {
        guard let store = X509_STORE_new() else { throw TLSMaterialError(.openssl, "openssl could not make a store") }
        defer { X509_STORE_free(store) }
        X509_STORE_add_cert(store, ca.pointer)
        guard let ctx = X509_STORE_CTX_new() else {
            throw TLSMaterialError(.openssl, "openssl could not make a context")
        }
        defer { X509_STORE_CTX_free(ctx) }
        guard X509_STORE_CTX_init(ctx, store, pointer, nil) == 1 else {
            throw TLSMaterialError(.openssl, "openssl could not start verification")
        }
        if X509_verify_cert(ctx) != 1 {
            let text = String(cString: X509_verify_cert_error_string(Int(X509_STORE_CTX_get_error(ctx))))
            throw TLSMaterialError(.untrusted, text)
        }
    }

    /// "CN=vault.example, O=..." from OpenSSL's one-line "/CN=vault.example/O=...".
    private static func name(_ n: OpaquePointer?) -> String {
        guard let n, let line = X509_NAME_oneline(n, nil, 0) else { return "" }
        defer { CRYPTO_free(line, #file, #line) }
        return String(cString: line).split(separator: "/").joined(separator: ", ")
    }

    private static func date(_ t: UnsafePointer<ASN1_TIME>?) -> Date {
        var tm = tm()
        guard let t, ASN1_TIME_to_tm(t, &tm) == 1 else { return .distantPast }
        return Date(timeIntervalSince1970: TimeInterval(timegm(&tm)))
    }
}

extension Certificate {
    /// Issues a certificate for `key` as `request` says, signed by `issuer` (or self-signed
    /// when nil, for a CA), with a random 128-bit serial.
    package static func issue(
        _ request: CertificateRequest, key: PrivateKey, issuer: (Certificate, PrivateKey)?
    ) throws(TLSMaterialError) -> Certificate {
        guard let x = X509_new() else { throw TLSMaterialError(.openssl, "openssl could not make a certificate") }
        let cert = Certificate(x)
        X509_set_version(x, 2)
        var serialBytes = [UInt8](repeating: 0, count: 16)
        do { try serialBytes.withUnsafeMutableBytes { try SecureRandom.fill($0) } } catch {
            throw TLSMaterialError(.openssl, "the random number generator failed")
        }
        serialBytes[0] &= 0x7f  // positive
        guard let bn = BN_bin2bn(serialBytes, Int32(serialBytes.count), nil) else {
            throw TLSMaterialError(.openssl, "openssl could not make a serial")
        }
        defer { BN_free(bn) }
        BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x))
        X509_gmtime_adj(X509_getm_notBefore(x), -300)  // a little slack for clock skew
        X509_time_adj_ex(X509_getm_notAfter(x), Int32(request.days), 0, nil)
        X509_set_pubkey(x, key.pointer)
        let name = X509_get_subject_name(x)
        X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, request.commonName, -1, -1, 0)
        X509_set_issuer_name(x, issuer.map { X509_get_subject_name($0.0.pointer) } ?? name)
        var ctx = X509V3_CTX()
        kt_x509v3_ctx_init(&ctx, issuer?.0.pointer ?? x, x)
        var extensions: [(Int32, String)] = []
        if request.isCA {
            extensions += [
                (NID_basic_constraints, "critical,CA:TRUE,pathlen:0"), (NID_key_usage, "critical,keyCertSign,cRLSign"),
            ]
        } else {
            extensions += [
                (NID_basic_constraints, "critical,CA:FALSE"),
                (NID_key_usage, "critical,digitalSignature,keyEncipherment"),
                (NID_ext_key_usage, request.clientAuth ? "serverAuth,clientAuth" : "serverAuth"),
            ]
            let sans = request.dnsNames.map { "DNS:\($0)" } + request.ipAddresses.map { "IP:\($0)" }
            if !sans.isEmpty { extensions.append((NID_subject_alt_name, sans.joined(separator: ","))) }
        }
        extensions.append((NID_subject_key_identifier, "hash"))
        if issuer != nil { extensions.append((NID_authority_key_identifier, "keyid:always")) }
        for (nid, value) in extensions {
            guard let ext = X509V3_EXT_conf_nid(nil, &ctx, nid, value) else {
                throw TLSMaterialError(.openssl, "openssl refused the extension '\(value)'")
            }
            X509_add_ext(x, ext, -1)
            X509_EXTENSION_free(ext)
        }
        guard X509_sign(x, issuer?.1.pointer ?? key.pointer, EVP_sha256()) > 0 else {
            throw TLSMaterialError(.openssl, "openssl could not sign the certificate")
        }
        return cert
    }
}
