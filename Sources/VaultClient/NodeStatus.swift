/// Everything `status` shows about one node: Vault's seal status, health and leader, as typed
/// values and as the raw fields Vault sent, or why the node could not be asked.
public struct NodeStatus: Sendable {
    /// The node's address.
    public let address: String
    /// `sys/seal-status`, if it answered.
    public var seal: SealStatus?
    /// `sys/health`, if it answered.
    public var health: HealthStatus?
    /// `sys/leader`, if it answered (a sealed node does not).
    public var leader: LeaderStatus?
    /// Every field of the three replies, seal-status's winning where names repeat.
    public var fields: [String: JSONValue]
    /// The first failure, if any request failed.
    public var error: VaultError?

    /// Whether the node answered at all.
    public var reachable: Bool { seal != nil || health != nil || !(error?.isUnreachable ?? false) }

    /// Initialised and unsealed.
    public var isUnsealed: Bool { seal.map { $0.initialized && !$0.sealed } ?? false }

    /// The node's part in HA: active, standby, perf-standby, disabled; nil when unknown
    /// (sealed, uninitialised or unreachable).
    public var haMode: String? {
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
    public static func fetch(_ client: VaultClient) async -> NodeStatus {
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
    public static func fetchAll(_ clients: [VaultClient]) async -> [NodeStatus] {
        await concurrentMap(clients) { _, client in await fetch(client) }
    }
}
