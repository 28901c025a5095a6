import Dispatch
import Foundation
import KeyturnFailure
import Shamir
import TLSMaterial

/// One recombination of share files into the secret: every share is opened and checked (same
/// length, distinct x-coordinates) first; the secret goes to a 0600 file published at the end
/// (never overwriting), or to a sink (standard output) only once every share's text has been
/// checked, since what is written there cannot be taken back (it is recombined into memory once,
/// checked, then written: the bytes checked are the bytes written).
package struct CombineRun {
    package let files: [String]
    package let output: String?
    package let passphrase: PassphraseSource

    package init(files: [String], output: String?, passphrase: PassphraseSource) {
        self.files = files
        self.output = output
        self.passphrase = passphrase
    }

    /// Secret bytes per pass.
    static let chunkSize = 1 << 20

    /// Recombines; without `output`, hands the secret to `standardOutput` piece by piece (false:
    /// it could not be written). Returns the secret's length in bytes.
    @discardableResult
    package func execute(standardOutput: (UnsafeRawBufferPointer) -> Bool) throws -> Int {
        if let output { try SecretFiles.requireAbsent(output) }
        var shares: [OpenShareFile] = []
        defer { for s in shares { s.release() } }
        for path in files { shares.append(try OpenShareFile.open(path, passphrase: passphrase)) }

        for (i, a) in shares.enumerated() {
            if let b = shares[(i + 1)...].first(where: { $0.yHexLength != a.yHexLength }) {
                throw CeremonyError(
                    "\(quoted(a.path)) and \(quoted(b.path)) are shares of different secrets: their lengths differ")
            }
            if let b = shares[(i + 1)...].first(where: { $0.x == a.x }) {
                throw CeremonyError(
                    "\(quoted(a.path)) and \(quoted(b.path)) are the same share (x-coordinate \(a.x))",
                    code: .sameShareTwice)
            }
        }
        let length = shares[0].yHexLength / 2
        let check = try SplitChecking(shares, length: length)
        let combiner = try ShamirCombiner(xCoordinates: shares.map(\.x))

        if output == nil {
            // Standard output cannot be taken back, so find bad hex, and a result that is not the
            // secret, before writing a byte. The secret is recombined once, into memory, and what
            // was checked is what is written: reading the shares a second time would let a holder
            // who owns their file change it between the check and the write.
            let mac = try check.digest(shares, length: length)
            let secret = SecretBuffer(count: max(length, 1))
            var at = 0
            try stream(shares, length: length, combiner: combiner, mac: mac?.gmac) { (piece) throws in
                UnsafeMutableRawBufferPointer(rebasing: secret.bytes[at..<(at + piece.count)]).copyMemory(from: piece)
                at += piece.count
            }
            try mac?.verify()
            var written = 0
            while written < length {
                let n = min(Self.chunkSize, length - written)
                guard standardOutput(UnsafeRawBufferPointer(rebasing: secret.bytes[written..<(written + n)])) else {
                    throw CeremonyError("cannot write the secret to standard output: \(SecretFiles.describe(errno))")
                }
                written += n
            }
            return length
        }
        let pending = try output.map { (path) throws in try PendingFile(path: path) }
        let mac = output == nil ? nil : try check.digest(shares, length: length)
        try stream(shares, length: length, combiner: combiner, mac: mac?.gmac) { (piece) throws in
            if let pending {
                try pending.write(piece)
            } else if !standardOutput(piece) {
                throw CeremonyError("cannot write the secret to standard output: \(SecretFiles.describe(errno))")
            }
        }
        // Not published (the pending file is discarded) unless the result is the secret.
        try mac?.verify()
        if let pending, let output {
            try FileBatch.publish([pending], directory: SecretFiles.directory(of: output))
        }
        return length
    }

    /// Decodes every share chunk by chunk; with a combiner, hands each recombined chunk to `sink`
    /// and, with `mac`, to the MAC on another core (two secret buffers take turns, so the MAC of
    /// one chunk runs while the next is decoded: the digest then adds little to combine's time).
    private func stream(
        _ shares: [OpenShareFile], length: Int, combiner: ShamirCombiner?, mac: GMAC?,
        _ sink: (UnsafeRawBufferPointer) throws -> Void
    ) throws {
        let text = SecretBuffer(count: 2 * Self.chunkSize)
        let ys = shares.map { _ in SecretBuffer(count: Self.chunkSize) }
        let secrets = [SecretBuffer(count: Self.chunkSize), SecretBuffer(count: Self.chunkSize)]
        let hashing = mac.map(BackgroundMAC.init)
        // The buffers must outlive the hashing of them, on every path out (a Swift local may
        // be released after its last use, before the scope ends).
        defer { withExtendedLifetime(secrets) { hashing?.finish() } }
        var offset = 0
        var turn = 0
        while offset < length {
            let n = min(Self.chunkSize, length - offset)
            for (j, share) in shares.enumerated() {
                let hexText = try share.text(at: 2 * offset, count: 2 * n, buffer: text.bytes)
                guard ShareHex.decode(hexText, into: ys[j].bytes) else {
                    throw CeremonyError("\(quoted(share.path)) is not a share: it holds characters that are not hex")
                }
            }
            if let combiner {
                let secret = secrets[turn]
                hashing?.wait(turn)
                secret.wipe()
                let out = UnsafeMutableRawBufferPointer(rebasing: secret.bytes[0..<n])
                combiner.combine(ys.map { UnsafeRawBufferPointer(rebasing: $0.bytes[0..<n]) }, into: out)
                hashing?.update(turn, UnsafeRawBufferPointer(out))
                try sink(UnsafeRawBufferPointer(out))
                turn ^= 1
            }
            offset += n
        }
        hashing?.finish()
        for secret in secrets { secret.wipe() }
    }
}

/// A MAC fed on a serial queue, one buffer per turn: `update(turn, bytes)` starts hashing the
/// bytes, which must stay unchanged until `wait(turn)` (or `finish`) returns. The MAC is used
/// by one thread at a time (the queue is serial), and the caller touches a buffer only after
/// waiting for its turn: hence `@unchecked Sendable`.
private final class BackgroundMAC: @unchecked Sendable {
    private let mac: GMAC
    private let queue = DispatchQueue(label: "keyturn.combine.mac")
    private let groups = [DispatchGroup(), DispatchGroup()]

    init(_ mac: GMAC) { self.mac = mac }

    func update(_ turn: Int, _ bytes: UnsafeRawBufferPointer) {
        let pointer = PointerBox(bytes)
        queue.async(group: groups[turn]) { self.mac.update(pointer.bytes) }
    }

    func wait(_ turn: Int) { groups[turn].wait() }

    /// Waits until everything handed over is in the MAC.
    func finish() {
        for group in groups { group.wait() }
    }
}

/// A buffer's address handed to the MAC's queue (the buffer outlives the hashing; see
/// BackgroundMAC).
private struct PointerBox: @unchecked Sendable {
    let bytes: UnsafeRawBufferPointer
    init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }
}
