/// Any JSON value, to carry Vault's replies through unchanged (for `--format json`).
package enum JSONValue: Codable, Sendable, Hashable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    package init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() {
            self = .null
        } else if let b = try? c.decode(Bool.self) {
            self = .bool(b)
        } else if let n = try? c.decode(Double.self) {
            self = .number(n)
        } else if let s = try? c.decode(String.self) {
            self = .string(s)
        } else if let a = try? c.decode([JSONValue].self) {
            self = .array(a)
        } else {
            self = .object(try c.decode([String: JSONValue].self))
        }
    }

    package func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .null: try c.encodeNil()
        case .bool(let b): try c.encode(b)
        case .number(let n):
            if n.rounded() == n, abs(n) < 1e15 { try c.encode(Int64(n)) } else { try c.encode(n) }
        case .string(let s): try c.encode(s)
        case .array(let a): try c.encode(a)
        case .object(let o): try c.encode(o)
        }
    }
}

/// `GET sys/seal-status`: whether the node is initialised and sealed, and unseal progress.
package struct SealStatus: Codable, Sendable, Hashable {
    /// The seal type (`shamir`, or an auto-unseal type).
    package var type: String?
    /// Whether `sys/init` has run.
    package var initialized: Bool
    /// Whether the node is sealed.
    package var sealed: Bool
    /// The threshold: shares needed to unseal.
    package var t: Int
    /// The number of shares.
    package var n: Int
    /// Shares submitted so far in the current unseal attempt.
    package var progress: Int
    /// Identifies the current unseal attempt (changes on reset).
    package var nonce: String
    /// The server's version.
    package var version: String?
    /// The cluster's name, once unsealed.
    package var clusterName: String?
    /// The cluster's id, once unsealed.
    package var clusterID: String?
    /// Whether a seal migration is in progress.
    package var migration: Bool?
    /// Whether the node uses recovery keys (auto-unseal).
    package var recoverySeal: Bool?
    /// The storage backend.
    package var storageType: String?

    /// An initialised auto-unseal node with no recovery keys: one that initialised itself
    /// (OpenBao >= 2.4's `initialize` stanza; seal-status `recovery_seal`, `t` = `n` = 0), or one
    /// initialised with no recovery shares. `rekey --target recovery` makes the first ones.
    package var lacksRecoveryKeys: Bool { initialized && recoverySeal == true && t == 0 && n == 0 }

    enum CodingKeys: String, CodingKey {
        case type, initialized, sealed, t, n, progress, nonce, version, migration
        case clusterName = "cluster_name", clusterID = "cluster_id", recoverySeal = "recovery_seal", storageType =
            "storage_type"
    }
}

/// `GET sys/health`: the node's health as load balancers see it.
package struct HealthStatus: Codable, Sendable, Hashable {
    package var initialized: Bool
    package var sealed: Bool
    package var standby: Bool
    package var performanceStandby: Bool?
    package var version: String?
    package var clusterName: String?
    package var clusterID: String?

    enum CodingKeys: String, CodingKey {
        case initialized, sealed, standby, version
        case performanceStandby = "performance_standby", clusterName = "cluster_name", clusterID = "cluster_id"
    }
}

/// `GET sys/leader`: high availability, and who leads.
package struct LeaderStatus: Codable, Sendable, Hashable {
    /// Whether the storage supports HA (raft does).
    package var haEnabled: Bool
    /// Whether this node is the active one.
    package var isSelf: Bool
    /// The active node's API address; absent while no leader is elected (after a restart).
    package var leaderAddress: String?

    enum CodingKeys: String, CodingKey {
        case haEnabled = "ha_enabled", isSelf = "is_self", leaderAddress = "leader_address"
    }

    package init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        haEnabled = try c.decode(Bool.self, forKey: .haEnabled)
        isSelf = try c.decodeIfPresent(Bool.self, forKey: .isSelf) ?? false
        leaderAddress = try c.decodeIfPresent(String.self, forKey: .leaderAddress)
    }
}

/// `GET sys/init`.
package struct InitStatus: Codable, Sendable, Hashable {
    package var initialized: Bool
}

/// `PUT sys/init`: how to split the root key, and to whom to encrypt the shares.
package struct InitRequest: Encodable, Sendable, Hashable {
    /// Nil for an auto-unseal seal, which takes recovery shares only.
    package var secretShares: Int?
    package var secretThreshold: Int?
    /// Base64 of each binary PGP public key, one per share, in order.
    package var pgpKeys: [String]?
    /// Base64 of the binary PGP key to encrypt the root token to.
    package var rootTokenPGPKey: String?
    package var recoveryShares: Int?
    package var recoveryThreshold: Int?
    package var recoveryPGPKeys: [String]?

    /// A request for `shares` shares, `threshold` of which unseal.
    package init(
        secretShares: Int?, secretThreshold: Int?, pgpKeys: [String]? = nil, rootTokenPGPKey: String? = nil,
        recoveryShares: Int? = nil, recoveryThreshold: Int? = nil, recoveryPGPKeys: [String]? = nil
    ) {
        self.secretShares = secretShares
        self.secretThreshold = secretThreshold
        self.pgpKeys = pgpKeys
        self.rootTokenPGPKey = rootTokenPGPKey
        self.recoveryShares = recoveryShares
        self.recoveryThreshold = recoveryThreshold
        self.recoveryPGPKeys = recoveryPGPKeys
    }

    enum CodingKeys: String, CodingKey {
        case secretShares = "secret_shares", secretThreshold = "secret_threshold", pgpKeys = "pgp_keys"
        case rootTokenPGPKey = "root_token_pgp_key", recoveryShares = "recovery_shares"
        case recoveryThreshold = "recovery_threshold", recoveryPGPKeys = "recovery_pgp_keys"
    }
}

/// `PUT sys/init`'s answer: the shares (hex and base64; PGP messages when keys were given)
/// and the root token. It cannot be asked for twice.
package struct InitResponse: Codable, Sendable {
    package var keys: [String]
    package var keysBase64: [String]
    package var recoveryKeys: [String]?
    package var recoveryKeysBase64: [String]?
    package var rootToken: String

    enum CodingKeys: String, CodingKey {
        case keys, keysBase64 = "keys_base64", recoveryKeys = "recovery_keys"
        case recoveryKeysBase64 = "recovery_keys_base64", rootToken = "root_token"
    }
}

/// `PUT sys/unseal`: one share, or a reset of the attempt.
package struct UnsealRequest: Encodable, Sendable {
    package var key: String?
    package var reset: Bool?
    package var migrate: Bool?

    /// Submits `key` (hex or base64), or resets with `reset`.
    package init(key: String? = nil, reset: Bool? = nil, migrate: Bool? = nil) {
        self.key = key
        self.reset = reset
        self.migrate = migrate
    }
}

/// A server's answer whose numbers keyturn computes with: each is range-checked when the answer
/// is decoded (a share count, a threshold or a progress beyond what Shamir allows is a hostile
/// or broken answer, refused as malformed), so no later arithmetic on it can trap.
package protocol RangeChecked {
    /// The first field out of its range, or nil.
    var outOfRange: String? { get }
}

/// A Shamir split's numbers: at most 255 shares, so every count and threshold is in 0...255.
let shamirRange = 0...255

extension SealStatus: RangeChecked {
    package var outOfRange: String? {
        if !shamirRange.contains(t) { return "t" }
        if !shamirRange.contains(n) { return "n" }
        if !shamirRange.contains(progress) { return "progress" }
        return nil
    }
}

extension Wrapped: RangeChecked {
    var outOfRange: String? { (data as? any RangeChecked)?.outOfRange.map { "data.\($0)" } }
}
