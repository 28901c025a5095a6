import Foundation
import PGPShares
import VaultClient

/// `sys/init`, the one-shot call: everything local is checked first (keys, paths,
/// permissions), then one request, then its answer written into share files all or none.
package struct InitCeremony {
    /// What the operator asked for.
    package struct Settings {
        package var shares: Int
        package var threshold: Int
        /// An auto-unseal seal: recovery keys only (the server refuses secret_shares for it).
        package var autoUnseal: Bool
        package var recoveryShares: Int?
        package var recoveryThreshold: Int?
        package var recoveryCount: Int
        package var recoveryQuorum: Int
        package var keyFiles: [String]
        package var recoveryKeyFiles: [String]
        package var rootTokenKeyFile: String?
        package var outDir: String
        /// Shares and token go to stdout only (dev servers, CI).
        package var noPGP: Bool
        package var clientSideEncryption: Bool

        package init(
            shares: Int, threshold: Int, autoUnseal: Bool, recoveryShares: Int?, recoveryThreshold: Int?,
            recoveryCount: Int, recoveryQuorum: Int, keyFiles: [String], recoveryKeyFiles: [String],
            rootTokenKeyFile: String?, outDir: String, noPGP: Bool, clientSideEncryption: Bool
        ) {
            self.shares = shares
            self.threshold = threshold
            self.autoUnseal = autoUnseal
            self.recoveryShares = recoveryShares
            self.recoveryThreshold = recoveryThreshold
            self.recoveryCount = recoveryCount
            self.recoveryQuorum = recoveryQuorum
            self.keyFiles = keyFiles
            self.recoveryKeyFiles = recoveryKeyFiles
            self.rootTokenKeyFile = rootTokenKeyFile
            self.outDir = outDir
            self.noPGP = noPGP
            self.clientSideEncryption = clientSideEncryption
        }
    }

    package let settings: Settings
    package let operators: [OperatorKey]
    package let recovery: [OperatorKey]
    package let rootKey: OperatorKey?
    /// The files to write; nil with `noPGP`.
    package let plan: ShareFilePlan?
    package let request: InitRequest

    /// Checks every key file and the output directory and files; sends nothing.
    package init(_ settings: Settings) throws {
        self.settings = settings
        operators = try OperatorKey.inspect(settings.keyFiles)
        recovery = try OperatorKey.inspect(settings.recoveryKeyFiles)
        rootKey = try settings.rootTokenKeyFile.map { try OperatorKey.inspect([$0])[0] }
        plan =
            try settings.noPGP
            ? nil
            : ShareFilePlan(
                directory: settings.outDir, keyFiles: settings.keyFiles, recoveryKeyFiles: settings.recoveryKeyFiles,
                rootToken: rootKey != nil)
        func base64(_ keys: [OperatorKey]) -> [String] { keys.map { Data($0.info.binary).base64EncodedString() } }
        request = InitRequest(
            secretShares: settings.autoUnseal ? nil : settings.shares,
            secretThreshold: settings.autoUnseal ? nil : settings.threshold,
            pgpKeys: settings.noPGP || settings.clientSideEncryption ? nil : base64(operators),
            rootTokenPGPKey: rootKey.map { Data($0.info.binary).base64EncodedString() },
            recoveryShares: settings.autoUnseal ? settings.recoveryCount : settings.recoveryShares,
            recoveryThreshold: settings.autoUnseal ? settings.recoveryQuorum : settings.recoveryThreshold,
            recoveryPGPKeys: recovery.isEmpty ? nil : base64(recovery))
    }

    /// Refuses a node that says it is initialised already, and one that does not say: the
    /// check fails closed. A node that cannot answer `GET sys/init` (paused, overloaded, behind a
    /// proxy that drops answers) might take the one-shot request and never answer it either, so
    /// it gets none.
    package func requireUninitialised(_ client: VaultClient) async throws {
        let status: InitStatus
        do throws(VaultError) { status = try await client.initStatus() } catch {
            let said =
                error.reason.hasPrefix(client.address + " ")
                ? String(error.reason.dropFirst(client.address.count + 1)) : error.reason
            throw CeremonyError(
                "\(client.address) did not say whether it is initialised (\(said)); nothing was sent",
                code: .refused, facts: ["node": client.address])
        }
        if status.initialized {
            // A node that initialised itself (OpenBao's `initialize` stanza) never had an init.
            let selfInitialised = (try? await client.sealStatus().0)?.lacksRecoveryKeys == true
            throw CeremonyError(
                "\(client.address) is already initialised"
                    + (selfInitialised
                        ? ", with no recovery keys: it initialised itself (OpenBao's initialize stanza)" : ""),
                code: .alreadyInitialised,
                facts: ["node": client.address, "when": selfInitialised ? "itself" : "before"])
        }
    }

    /// Sends `sys/init` and waits for its answer (up to VaultTransport.oneShotReplyTimeout).
    package func send(to client: VaultClient) async throws -> InitResponse {
        do throws(VaultError) { return try await client.initialize(request) } catch {
            if error.serverErrors.contains(where: { $0.lowercased().contains("already initialized") }) {
                throw CeremonyError(
                    "\(client.address) is already initialised", code: .alreadyInitialised,
                    facts: ["node": client.address, "when": "sent"])
            }
            // OpenBao bootstraps raft first: an init cut off after that leaves a node that says
            // it is not initialised and refuses every init (OpenBao 2.7.2, found by the soak).
            if error.serverErrors.contains(where: { $0.contains("cluster already has state") }) {
                // Or another init (another operator, a deployment job) won a race with this one.
                try? await Task.sleep(nanoseconds: 2_000_000_000)
                if (try? await client.initStatus())?.initialized != false {
                    throw CeremonyError(
                        "\(client.address) refused sys/init (\(error.serverErrors.joined(separator: "; "))) and now "
                            + "says it is initialised, or does not say: another init may have run at the same time",
                        code: .alreadyInitialised, facts: ["node": client.address, "when": "sent"])
                }
                throw CeremonyError(
                    "\(client.address) refused sys/init: an earlier init made its raft storage and never finished, "
                        + "so it says it is not initialised but cannot be initialised",
                    code: .refused, facts: ["node": client.address, "situation": "initCutOff"])
            }
            if error.isUnreachable && error.code != .unreachable {
                throw CeremonyError(
                    "\(error.reason); the request was sent, so the node may now be initialised",
                    code: .mayBeInitialised, facts: ["node": client.address])
            }
            throw error
        }
    }

    /// Writes the answer's files (all or none); `beforeWriting` runs between the last check and
    /// the first write (tests make the directory vanish there).
    package func write(_ answer: InitResponse, address: String, beforeWriting: (() -> Void)? = nil) throws {
        guard let plan else { return }
        try plan.write(
            IssuedKeys(answer), operators: operators, recovery: recovery, rootKey: rootKey, address: address,
            shares: settings.autoUnseal ? settings.recoveryCount : settings.shares,
            threshold: settings.autoUnseal ? settings.recoveryQuorum : settings.threshold,
            clientSide: settings.clientSideEncryption,
            lineage: settings.autoUnseal
                ? CeremonyRecord.Lineage(generation: 1, previousSHA256: nil, target: "recovery") : nil,
            beforeWriting: beforeWriting)
    }
}
