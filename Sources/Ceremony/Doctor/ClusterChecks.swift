import Foundation
import VaultClient

/// The checks of the cluster as a whole: an active node for the ceremonies that need one, and
/// the token: valid, and allowed exactly what the ceremony will ask (`sys/capabilities-self`).
struct ClusterChecks: Sendable {
    let clients: [VaultClient]
    let nodes: [NodeStatus]
    let ceremony: Doctor.Ceremony
    /// A node's listener does not serve the unauthenticated API: the ceremony needs the token.
    let legacyOff: Bool
    /// A sealable namespace whose ceremony it is: every call it makes needs the token.
    let namespace: String?

    /// The paths the ceremony calls with a token, and the capabilities each needs.
    var tokenPaths: [(path: String, needs: [String])] {
        if let namespace { return ceremony.tokenPaths(namespace: namespace) }
        let recovery = nodes.contains { $0.seal?.recoverySeal == true }
        switch ceremony {
        case .seal: return [("sys/seal", ["update", "sudo"])]
        case .rekey:
            let e = QuorumEndpoints.rotate(recovery ? .recovery : .unseal)
            return [(e.statusPath, ["update"]), (e.updatePath, ["update"])]
        case .generateRoot:
            let e = QuorumEndpoints.generateRootToken
            return [(e.statusPath, ["update"]), (e.updatePath, ["update"])]
        case .initialise, .unseal: return []
        }
    }

    func run() async -> [Doctor.Finding] {
        // No node answered: the node lines say so already.
        guard namespace != nil || (ceremony != .initialise && ceremony != .unseal),
            nodes.contains(where: { $0.seal != nil })
        else {
            return []
        }
        let unsealed = zip(clients, nodes).filter { $0.1.isUnsealed }
        guard let active = unsealed.first(where: { $0.1.haMode == "active" || $0.1.haMode == "disabled" })?.0 else {
            return [
                Doctor.Finding(
                    .cluster, "cluster", "active node", .fail, "no node given is unsealed and active",
                    situation: "noActiveNode", facts: ["ceremony": ceremony.rawValue])
            ]
        }
        var out = [Doctor.Finding(.cluster, "cluster", "active node", .ok, active.address)]
        let needsToken = ceremony == .seal || legacyOff || namespace != nil
        guard active.token != nil else {
            if needsToken {
                out.append(
                    Doctor.Finding(
                        .local, "token", "token", .fail, "none given, and the \(ceremony.rawValue) needs one",
                        situation: "noToken"))
            }
            return out
        }
        guard let me = try? await active.look("auth/token/lookup-self", token: true) else {
            out.append(Doctor.Finding(.local, "token", "token", .fail, "\(active.address) did not answer lookup-self"))
            return out
        }
        guard me.status == 200 else {
            out.append(
                Doctor.Finding(
                    .local, "token", "token", .fail,
                    "refused by \(active.address) (HTTP \(me.status)): invalid, expired or revoked",
                    situation: "tokenRefused"))
            return out
        }
        out.append(tokenValidity(me.fields))
        if needsToken || ceremony.quorum != nil { out.append(await capabilities(active)) }
        return out
    }

    private func tokenValidity(_ fields: [String: JSONValue]) -> Doctor.Finding {
        var policies: [String] = []
        if case .array(let list)? = fields["policies"] {
            policies = list.compactMap { if case .string(let s) = $0 { s } else { nil } }
        }
        var ttl: Double?
        if case .number(let n)? = fields["ttl"], n.isFinite, n >= 0, n < 1e10 { ttl = n }
        let lasts = ttl.map { $0 == 0 ? "no expiry" : "expires in \(Self.duration($0))" } ?? "expiry unknown"
        let detail = "valid, \(lasts), policies \(policies.isEmpty ? "-" : policies.joined(separator: ","))"
        if let ttl, ttl > 0, ttl < 3600 {
            return Doctor.Finding(.local, "token", "token", .warn, detail, situation: "tokenShort")
        }
        return Doctor.Finding(.local, "token", "token", .ok, detail)
    }

    private func capabilities(_ active: VaultClient) async -> Doctor.Finding {
        let paths = tokenPaths
        guard !paths.isEmpty else {
            return Doctor.Finding(.cluster, "token", "capabilities", .ok, "nothing to check")
        }
        let body: [String: JSONValue] = ["paths": .array(paths.map { .string($0.path) })]
        guard let answer = try? await active.look("sys/capabilities-self", method: "POST", body: body, token: true),
            answer.status == 200
        else {
            return Doctor.Finding(
                .cluster, "token", "capabilities", .warn, "sys/capabilities-self did not answer",
                situation: "capabilitiesUnknown")
        }
        var missing: [String] = []
        for (path, needs) in paths {
            var has: [String] = []
            if case .array(let list)? = answer.fields[path] {
                has = list.compactMap { if case .string(let s) = $0 { s } else { nil } }
            }
            if has.contains("root") { continue }
            let lacking = needs.filter { !has.contains($0) }
            if !lacking.isEmpty { missing.append("\(lacking.joined(separator: "+")) on \(path)") }
        }
        let listed = paths.map(\.path).joined(separator: ", ")
        guard missing.isEmpty else {
            return Doctor.Finding(
                .cluster, "token", "capabilities", .fail, "the token lacks \(missing.joined(separator: "; "))",
                situation: "capabilitiesMissing")
        }
        return Doctor.Finding(.cluster, "token", "capabilities", .ok, "allowed on \(listed)")
    }

    static func duration(_ seconds: Double) -> String {
        if seconds >= 86400 { return "\(Int(seconds / 86400)) days" }
        if seconds >= 3600 { return "\(Int(seconds / 3600)) h" }
        return "\(Int(seconds / 60)) min"
    }
}
