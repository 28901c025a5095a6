/// Everything `status` shows about one node: Vault's seal status, health and leader, as typed
/// values and as the raw fields Vault sent, or why the node could not be asked.
package struct NodeStatus: Sendable {
    /// The node's address.
    package let address: String
    /// `sys/seal-status`, if it answered.
    package var seal: SealStatus?
    /// `sys/health`, if it answered.
    package var health: HealthStatus?
    /// `sys/leader`, if it answered (a sealed node does not).
    package var leader: LeaderStatus?
    /// Every field of the three replies, seal-status's winning where names repeat.
    package var fields: [String: JSONValue]
    /// The first failure, if any request failed.
    package var error: VaultError?
    /// Whether raft counts the node's vote; nil when unknown (no token, not raft, not listed).
    package var raftVoter: Bool?

    /// Whether the node answered at all.
    package var reachable: Bool { seal != nil || health != nil || !(error?.isUnreachable ?? false) }

    /// Initialised and unsealed.
    package var isUnsealed: Bool { seal.map { $0.initialized && !$0.sealed } ?? false }

    /// The node's part in HA: active, standby, perf-standby, disabled; nil when unknown
    /// (sealed, uninitialised or unreachable).
    package var haMode: String? {
        guard isUnsealed else { return nil }
        if let leader {
            if !leader.haEnabled { return "disabled" }
            if leader.isSelf { return "active" }
            return health?.performanceStandby == true ? "perf-standby" : "standby"
        }
        if let health { return health.standby ? "standby" : "active" }
        return nil
    }

    /// Asks one node for its seal status, health and leader, concurrently.
    package static func fetch(_ client: VaultClient) async -> NodeStatus {
        async let sealResult = Result.capturing { () async throws(VaultError) in try await client.sealStatus() }
        async let healthResult = Result.capturing { () async throws(VaultError) in try await client.health() }
        async let leaderResult = Result.capturing { () async throws(VaultError) in try await client.leader() }
        let (s, h, l) = await (sealResult, healthResult, leaderResult)
        var status = NodeStatus(address: client.address, fields: [:])
        var errors: [VaultError] = []
        switch l {
        case .success(let value): if let value { status.leader = value.0; status.fields.merge(value.1) { $1 } }
        case .failure(let e): errors.append(e)
        }
        switch h {
        case .success(let value): status.health = value.0; status.fields.merge(value.1) { $1 }
        case .failure(let e): errors.append(e)
        }
        switch s {
        case .success(let value): status.seal = value.0; status.fields.merge(value.1) { $1 }
        case .failure(let e): errors.insert(e, at: 0)
        }
        status.error = errors.first
        return status
    }

    /// Asks every node at once; results keep the order of `clients`.
    package static func fetchAll(_ clients: [VaultClient]) async -> [NodeStatus] {
        await concurrentMap(clients) { _, client in await fetch(client) }
    }
}

/// What `status --until` waits for on every node.
package enum NodeCondition: String, CaseIterable, Sendable {
    case reachable, initialized, unsealed, sealed

    /// Whether `node` is in this state now.
    package func holds(for node: NodeStatus) -> Bool {
        switch self {
        case .reachable: return node.seal != nil
        case .initialized: return node.seal?.initialized == true
        case .unsealed: return node.isUnsealed && node.error == nil
        case .sealed: return node.seal.map { $0.initialized && $0.sealed } ?? false
        }
    }

    /// How a node that is not in this state is described ("not sealed yet").
    package var missing: String {
        switch self {
        case .reachable: return "does not answer"
        case .initialized: return "is not initialised"
        case .unsealed: return "is not unsealed"
        case .sealed: return "is not sealed"
        }
    }
}
