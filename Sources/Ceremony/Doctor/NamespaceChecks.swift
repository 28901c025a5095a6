import Foundation
import VaultClient

/// `doctor --namespace NAME`: a sealable namespace's own seal, as each node shows it (OpenBao
/// 2.6+; `sys/namespaces/NAME/seal-status`, with the token), judged for its ceremony.
enum NamespaceState: Sendable {
    /// No such namespace: what `namespace create` needs.
    case missing
    case seal(SealStatus)
    case failed(VaultError)

    /// Asks `client`'s node (nil: its cluster is not unsealed, so there is nothing to ask).
    static func fetch(_ client: VaultClient, node: NodeStatus, namespace: String) async -> NamespaceState? {
        guard node.isUnsealed else { return nil }
        var inside = client
        inside.namespace = namespace
        do {
            return .seal(try await inside.sealStatus().0)
        } catch {
            // A namespace that does not exist answers 500; a token may read one and not the other.
            guard (try? await client.namespaceExists(namespace)) == false else { return .failed(error) }
            return .missing
        }
    }

    var sealed: Bool? {
        if case .seal(let s) = self { return s.sealed }
        return nil
    }

    /// The node's line for the namespace; `short` takes the node's address off a reason. A
    /// standby shows a namespace unsealed about 12 s after the active node does (OpenBao 2.7.2),
    /// and the ceremony runs on the active node: a standby that still shows it sealed is a warning.
    func finding(
        _ namespace: String, ceremony: Doctor.Ceremony, standby: Bool, short: (String) -> String,
        emit: (Doctor.Finding.Scope, Doctor.Finding.Level, String, String?) -> Doctor.Finding
    ) -> Doctor.Finding {
        func make(_ level: Doctor.Finding.Level, _ detail: String, _ situation: String?) -> Doctor.Finding {
            emit(.node, level, detail, situation)
        }
        switch self {
        case .missing:
            return ceremony == .initialise
                ? make(.ok, "\(namespace) does not exist yet: ready to be created", nil)
                : make(.fail, "\(namespace) does not exist", "namespaceMissing")
        case .failed(let e) where e.httpStatus == 403:
            // The token's problem (exit 1), not the node's.
            return emit(.local, .fail, "the token may not read \(namespace)'s seal (HTTP 403)", "namespaceRefused")
        case .failed(let e) where e.serverErrors.contains(where: { $0.contains("not sealable") }):
            return make(.fail, "\(namespace): \(short(e.reason))", "namespaceNotSealable")
        case .failed(let e):
            return make(.fail, "\(namespace): \(short(e.reason))", "namespaceUnreadable")
        case .seal(let s):
            let keys = "\(s.type ?? "?") seal, \(s.t) of \(s.n) shares"
            if ceremony == .initialise {
                return make(.fail, "\(namespace) exists already (\(keys))", "namespaceExists")
            }
            if !s.sealed {
                return make(.ok, "\(namespace): \(keys), unsealed\(ceremony == .unseal ? " already" : "")", nil)
            }
            if ceremony == .unseal {
                return make(.ok, "\(namespace): \(keys), sealed; \(s.progress) given so far", nil)
            }
            return standby
                ? make(.warn, "\(namespace): \(keys), sealed on this standby", "namespaceStandby")
                : make(.fail, "\(namespace): \(keys), sealed", "namespaceSealed")
        }
    }
}

extension Doctor.Ceremony {
    /// What a namespace's state calls for, once its cluster is unsealed: creating it when a
    /// node says it does not exist, an unseal when it is sealed or cannot be read (what its
    /// holders do first), else a rekey.
    static func called(for nodes: [NodeStatus], namespaces: [NamespaceState?]?) -> Doctor.Ceremony {
        let root = called(for: nodes)
        guard let namespaces, root == .rekey else { return root }
        if namespaces.contains(where: { if case .missing? = $0 { true } else { false } }) { return .initialise }
        if namespaces.contains(where: { $0?.sealed != false }) { return .unseal }
        return .rekey
    }

    /// The paths a namespace's ceremony calls with the token, and the capabilities each needs
    /// (tried on OpenBao 2.7.2: creating it is `update`, its seal needs no `sudo`).
    func tokenPaths(namespace: String) -> [(path: String, needs: [String])] {
        let base = "sys/namespaces/\(namespace)"
        switch self {
        case .initialise: return [(base, ["update"])]
        case .unseal: return [("\(base)/seal-status", ["read"]), ("\(base)/unseal", ["update"])]
        case .seal: return [("\(base)/seal", ["update"])]
        case .rekey, .generateRoot:
            let e = QuorumEndpoints.namespaced(self == .rekey ? .rekey : .generateRoot, namespace)
            return [(e.statusPath, ["update"]), (e.updatePath, ["update"])]
        }
    }
}
