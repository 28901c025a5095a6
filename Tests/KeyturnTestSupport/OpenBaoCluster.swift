import Foundation

/// A raft cluster of OpenBao nodes on loopback: the first leads, the others join it.
public final class OpenBaoCluster: @unchecked Sendable {
    /// The nodes, leader first.
    public let nodes: [OpenBaoServer]

    /// The root token `initializeAndUnseal` got.
    public private(set) var rootToken: String?

    private init(nodes: [OpenBaoServer]) { self.nodes = nodes }

    /// Starts `count` nodes (uninitialised); followers retry-join the first.
    public static func start(_ count: Int = 3, listenerExtra: [String] = []) async throws -> OpenBaoCluster {
        let leader = try await OpenBaoServer.start(.init(nodeID: "n1", listenerExtra: listenerExtra))
        var nodes = [leader]
        for i in 2...count {
            nodes.append(
                try await OpenBaoServer.start(
                    .init(joinLeader: leader.address, nodeID: "n\(i)", listenerExtra: listenerExtra)))
        }
        return OpenBaoCluster(nodes: nodes)
    }

    /// Initialises the leader with `shares`/`threshold`, unseals every node with the first
    /// `threshold` keys, and waits until the followers are unsealed standbys.
    public func initializeAndUnseal(shares: Int = 1, threshold: Int = 1) async throws -> [String] {
        let leader = nodes[0]
        let (keys, token) = try await leader.initialize(shares: shares, threshold: threshold)
        rootToken = token
        try await leader.unseal(with: Array(keys.prefix(threshold)))
        try await leader.waitUntil(timeout: 120) {
            try await $0.call("GET", "sys/leader").1["is_self"] as? Bool == true
        }
        for follower in nodes.dropFirst() {
            try await follower.waitUntilJoined(leader: leader.address)
            try await unsealFollower(follower, keys: Array(keys.prefix(threshold)))
        }
        return keys
    }

    /// Unseals a follower that has joined, and waits until it is a standby. The last key makes
    /// a follower finish its raft join; in a CI run on a loaded machine a follower took its keys
    /// and was still not a standby 120 s later, logging only "security barrier not initialized".
    /// So a follower found sealed with no progress after 20 s gets the keys again, as an
    /// operator (or keyturn's `unseal --wait`) would give them.
    private func unsealFollower(_ follower: OpenBaoServer, keys: [String]) async throws {
        try await follower.unseal(with: keys)
        var submitted = Date()
        let deadline = Date().addingTimeInterval(240)
        while Date() < deadline {
            if (try? await follower.call("GET", "sys/health").0) == 429 { return }
            if Date().timeIntervalSince(submitted) > 20, let seal = try? await follower.sealStatus(),
                seal["sealed"] as? Bool == true, seal["progress"] as? Int == 0
            {
                try? await follower.unseal(with: keys)
                submitted = Date()
            }
            try await Task.sleep(nanoseconds: 200_000_000)
        }
        let seal = (try? await follower.sealStatus()) ?? [:]
        throw HarnessError(
            "\(follower.address) is not a standby 240 s after its keys; seal status \(seal); log: \(follower.logDigest)"
        )
    }

    /// The nodes' addresses.
    public var addresses: [String] { nodes.map(\.address) }

    /// Stops every node.
    public func stop() { nodes.forEach { $0.stop() } }

    deinit { stop() }
}
