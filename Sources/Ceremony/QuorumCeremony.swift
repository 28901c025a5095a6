import Foundation
import Shamir
import VaultClient

/// The engine of the ceremonies that need a quorum of the current shares after `init`:
/// `rekey` (new shares) and `generate-root` (a new root token). Someone starts the operation
/// (parameters, nonce); each operator submits a share after checking that the running
/// operation is the one they were told about; the submit that reaches the threshold gets the
/// result; anyone may read its state or cancel it. `unseal` is the third use of the same
/// share reading and checks (ShareInput), with its own concurrent run over every node
/// (UnsealRun), since there every node takes the share, not one.
package struct QuorumCeremony: Sendable {
    /// The node that holds the operation: the active node of the cluster.
    package let client: VaultClient
    /// The API the server offers for it.
    package let endpoints: QuorumEndpoints
    /// Every node given: asked again when the active node's answer is lost.
    package let cluster: [VaultClient]

    /// What one submit achieved.
    package enum Submitted: Sendable {
        /// The share counted; `state` says how many more are needed.
        case progressed(QuorumState)
        /// The share completed the operation: `state` holds the result (the new keys, the
        /// encoded root token) or, for a verification round, that the new keys are in force.
        case completed(QuorumState)
    }

    package init(client: VaultClient, endpoints: QuorumEndpoints, cluster: [VaultClient]? = nil) {
        self.client = client
        self.endpoints = endpoints
        self.cluster = cluster ?? [client]
    }

    /// Finds the active node among `clients` and the API it offers for `kind` on `target`'s
    /// keys: OpenBao's authenticated one first when the clients carry a token, else (or when it
    /// is not there) the unauthenticated one. When it offers neither, the error names what is
    /// missing: a token, or the listener parameter that re-enables the old endpoints.
    package static func connect(
        _ clients: [VaultClient], kind: QuorumEndpoints.Kind, target: QuorumEndpoints.Target,
        waiting: (@Sendable (String) -> Void)? = nil
    ) async throws -> QuorumCeremony {
        let client = try await activeNode(clients, waiting: waiting)
        let hasToken = client.token != nil
        var candidates: [QuorumEndpoints]
        switch kind {
        case .rekey: candidates = [.legacyRekey(target)]
        case .generateRoot: candidates = [.generateRoot]
        }
        if hasToken {
            switch kind {
            case .rekey: candidates.insert(.rotate(target), at: 0)
            case .generateRoot: candidates.insert(.generateRootToken, at: 0)
            }
        }
        if let namespace = client.namespace {
            candidates = try namespaced(client, kind: kind, target: target, namespace: namespace)
        }
        var refusals: [(QuorumEndpoints, VaultError)] = []
        for e in candidates {
            do {
                _ = try await client.quorumState(e)
                return QuorumCeremony(client: client, endpoints: e, cluster: clients)
            } catch {
                if error.code != .server { throw error }
                if target == .recovery, error.serverErrors.contains(where: { $0.contains("recovery not supported") }) {
                    throw CeremonyError(
                        "\(client.address) has no recovery keys: its seal is Shamir, so its unseal keys are the "
                            + "ones to rekey",
                        code: .noRecoveryKeys, facts: ["node": client.address])
                }
                refusals.append((e, error))
            }
        }
        throw unavailable(client, kind: kind, refusals: refusals, hasToken: hasToken)
    }

    /// The cluster's active node: the one whose `sys/leader` says `is_self`. Standbys redirect
    /// the quorum endpoints to the active node, and keyturn follows no redirect. While unsealed
    /// nodes answer but none is active, it asks again every half second for up to
    /// `electionWait` seconds: during an election (after the whole cluster was sealed and
    /// unsealed, OpenBao 2.7.2 was seen without an active node for about 17 s), and when the
    /// leader the standbys still name does not answer (killed or paused: the others elect
    /// another once raft notices, in a few seconds). `waiting` hears once why it waits.
    static func activeNode(
        _ clients: [VaultClient], electionWait: TimeInterval = 60, waiting: (@Sendable (String) -> Void)? = nil
    ) async throws -> VaultClient {
        if clients.count == 1 { return clients[0] }
        let deadline = Date().addingTimeInterval(electionWait)
        var told = false
        while true {
            let leaders: [(VaultClient, Result<LeaderStatus?, VaultError>)] = await concurrentMap(clients) {
                _, client in
                let leader = await Result.capturing { () async throws(VaultError) in try await client.leader()?.0 }
                return (client, leader)
            }
            if let active = leaders.first(where: { (try? $0.1.get())??.isSelf == true }) { return active.0 }
            let named = leaders.compactMap { (try? $0.1.get())??.leaderAddress }.first { !$0.isEmpty }
            let electing = leaders.contains { (try? $0.1.get())??.haEnabled == true }
            let reasons = leaders.compactMap { if case .failure(let e) = $0.1 { return e.reason } else { return nil } }
            if electing && Date() < deadline {
                if !told {
                    told = true
                    waiting?(
                        named.map { "the leader the standbys name, \($0), is not active" }
                            ?? "no node is active yet")
                }
                try await Task.sleep(nanoseconds: 500_000_000)
                continue
            }
            let said = reasons.isEmpty ? "" : ": " + reasons.joined(separator: "; ")
            let waited = electing ? " after waiting \(Int(electionWait)) s for an election" : ""
            throw CeremonyError(
                "no active node among \(clients.map(\.address).joined(separator: ", "))\(waited)\(said)",
                code: .noActiveNode)
        }
    }

    /// The operation's state (or, with `verification`, its verification round's).
    package func state(verification: Bool = false) async throws -> QuorumState {
        verification ? try await client.quorumVerification(endpoints) : try await client.quorumState(endpoints)
    }

    /// Whether starting this operation completes it: a recovery rekey on a node with no recovery
    /// keys yet (a self-initialised OpenBao) answers its start with the first keys, just once.
    package func startCompletesAtOnce() async throws -> Bool {
        guard endpoints.kind == .rekey, endpoints.target == .recovery else { return false }
        return try await client.sealStatus().0.lacksRecoveryKeys
    }

    /// Starts the operation; if one is running already, says so with its nonce.
    package func start<Body: Encodable>(_ body: Body) async throws -> QuorumState {
        try await requireIdle()
        return try await client.startQuorum(endpoints, body)
    }

    /// Refuses when an operation is running already, naming its nonce.
    package func requireIdle() async throws {
        if let running = try? await state(), running.started == true {
            throw CeremonyError(
                "a \(endpoints.kind.rawValue) is already running on \(client.address) (nonce \(running.nonce ?? "?"))",
                code: .alreadyRunning,
                facts: ["operation": endpoints.kind.rawValue, "nonce": running.nonce ?? "NONCE"])
        }
    }

    /// The request that starts the operation, as a dry run lists it.
    package var startRequest: (method: String, path: String, node: String) {
        ("PUT", "/v1/" + endpoints.statusPath, client.address)
    }

    /// Cancels the running operation (or only its verification round).
    package func cancel(verification: Bool = false) async throws {
        try await client.cancelQuorum(endpoints, verification: verification)
    }

    /// Reads the running operation and checks that its nonce is `nonce`; returns its state.
    /// Anyone who can reach the endpoint can cancel or restart an operation, so an operator
    /// submits only to the one they were told about. Nothing secret is sent.
    package func expect(nonce: String, verification: Bool = false) async throws -> QuorumState {
        let s = try await state(verification: verification)
        let what = verification ? "verification of the \(endpoints.kind.rawValue)" : endpoints.kind.rawValue
        guard s.started == true, let running = s.nonce, !running.isEmpty else {
            throw CeremonyError(
                "no \(what) is running on \(client.address); nothing was sent", code: .notRunning,
                facts: ["operation": endpoints.kind.rawValue, "verification": String(verification)])
        }
        guard running == nonce else {
            throw CeremonyError(
                "the \(what) running on \(client.address) has nonce \(running), not \(nonce): someone else started "
                    + "or restarted it; nothing was sent",
                code: .nonceMismatch, facts: ["operation": endpoints.kind.rawValue])
        }
        return s
    }

    /// Submits one share to the operation with `nonce` (call `expect(nonce:)` first, whose
    /// state is `before`); a share that cannot belong to the keys (wrong length) is refused
    /// before it is sent. When the answer is lost after the request was sent, the cluster is
    /// asked what became of the operation (waiting up to `electionWait` seconds for a new
    /// active node) and the error says it (LostAnswer).
    package func submit(
        _ share: ShareInput.Share, nonce: String, verification: Bool = false, before: QuorumState? = nil,
        electionWait: TimeInterval = 60
    ) async throws -> Submitted {
        guard ShareText.acceptedLengths.contains(share.count) else {
            throw CeremonyError("the share from \(share.source) is \(share.count) bytes long; nothing was sent")
        }
        // The state just before sending, not the one read before the confirmation and the
        // passphrase prompt (minutes, during which other holders submit): what a lost answer
        // is measured against.
        var latest = before
        if before != nil, let s = try? await state(verification: verification) { latest = s }
        do {
            let s = try await client.submitQuorumShare(
                endpoints, share: share.bytes, nonce: nonce, verification: verification)
            return s.complete == true ? .completed(s) : .progressed(s)
        } catch  where LostAnswer.answerLost(error) {
            let was = latest ?? QuorumState()
            let finding = await LostAnswer.find(
                self, nonce: nonce, before: was, verification: verification, electionWait: electionWait)
            throw LostAnswer.error(
                error, finding: finding, ceremony: self, verification: verification, completing: was.nextShareCompletes,
                backup: was.backup == true)
        } catch {
            let said = error.serverErrors.joined(separator: "; ").lowercased()
            if endpoints.kind == .rekey, LostAnswer.halfApplied(said) {
                throw LostAnswer.halfAppliedError(error, address: client.address, verification: verification)
            }
            // What Vault and OpenBao say when the threshold-th share shows the shares do not
            // combine to the key: unseal keys fail to decrypt the keyring, recovery keys fail
            // their check; either way the operation's progress is reset.
            let lost = [
                "authentication failed", "failed to decrypt", "unable to authenticate",
                "does not match submitted values", "verification failed",
            ]
            if lost.contains(where: said.contains) {
                throw CeremonyError(
                    "\(client.address) refused the shares: together they do not open the key, so one of them was "
                        + "wrong or belongs to another cluster; the \(endpoints.kind.rawValue)'s progress is lost",
                    code: .sharesRefused, facts: ["operation": endpoints.kind.rawValue])
            }
            throw error
        }
    }
}
