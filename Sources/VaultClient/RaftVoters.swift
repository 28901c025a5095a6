/// Which nodes are raft voters, as the cluster says with a token: `sys/ha-status` names each
/// node's API and cluster address, `sys/storage/raft/configuration` each cluster address's vote.
/// A follower that joined seconds ago is a non-voter until autopilot promotes it (about 10 s on
/// OpenBao 2.7.2): killing the leader then leaves no quorum.
extension VaultClient {
    /// API address (as the nodes advertise it) -> voter.
    package func raftVoters() async throws(VaultError) -> [String: Bool] {
        let ha: (Wrapped<HAStatus>, [String: JSONValue]) = try await call(
            "GET", "sys/ha-status", accept: [200], token: true)
        let raft: (Wrapped<RaftConfiguration>, [String: JSONValue]) = try await call(
            "GET", "sys/storage/raft/configuration", accept: [200], token: true)
        var voteByCluster: [String: Bool] = [:]
        for server in raft.0.data.config.servers { voteByCluster[server.address] = server.voter }
        var voters: [String: Bool] = [:]
        for node in ha.0.data.nodes {
            let cluster = node.clusterAddress.split(separator: "/").last.map(String.init) ?? node.clusterAddress
            if let vote = voteByCluster[cluster] { voters[Self.trimmed(node.apiAddress)] = vote }
        }
        return voters
    }

    static func trimmed(_ address: String) -> String { address.hasSuffix("/") ? String(address.dropLast()) : address }
}

extension NodeStatus {
    /// Fills in `raftVoter` of every node whose address the cluster advertises, asking every
    /// unsealed node whose client carries a token at once (so a silent one costs one round, not
    /// one per node) and believing the first in the given order that answers; nodes stay nil
    /// when none can say.
    package static func addingVoters(_ nodes: [NodeStatus], clients: [VaultClient]) async -> [NodeStatus] {
        let answers: [[String: Bool]?] = await concurrentMap(clients) { i, client in
            guard nodes[i].isUnsealed, client.token != nil else { return nil }
            return try? await client.raftVoters()
        }
        guard let voters = answers.compactMap({ $0 }).first else { return nodes }
        return nodes.map { n in
            var n = n
            n.raftVoter = voters[VaultClient.trimmed(n.address)]
            return n
        }
    }
}

struct HAStatus: Decodable {
    struct Node: Decodable {
        var apiAddress: String
        var clusterAddress: String
        enum CodingKeys: String, CodingKey {
            case apiAddress = "api_address", clusterAddress = "cluster_address"
        }
    }
    var nodes: [Node]
}

struct RaftConfiguration: Decodable {
    struct Server: Decodable {
        var address: String
        var voter: Bool
    }
    struct Config: Decodable { var servers: [Server] }
    var config: Config
}
