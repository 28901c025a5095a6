import Foundation
import VaultClient

/// The checks of one node: reachable, its TLS, what server it is, its seal state for the
/// ceremony, which ceremony API its listener serves, its clock.
struct NodeChecks: Sendable {
    let client: VaultClient
    let status: NodeStatus
    let ceremony: Doctor.Ceremony
    let warnDays: Int
    /// `--namespace`: the namespace, and its seal as this node shows it (nil: not asked).
    let namespace: String?
    let space: NamespaceState?

    struct Result: Sendable {
        var findings: [Doctor.Finding] = []
        /// Whether the listener serves the unauthenticated rekey or generate-root API; nil when
        /// not looked at.
        var legacyOn: Bool?
    }

    /// OpenBao's seal-status carries `commit_date`, HashiCorp Vault's `build_date`.
    static func product(_ fields: [String: JSONValue]) -> String {
        if fields["commit_date"] != nil { return "OpenBao" }
        if fields["build_date"] != nil { return "Vault" }
        return "a Vault-compatible server"
    }

    private var address: String { client.address }

    private func finding(
        _ check: String, _ level: Doctor.Finding.Level, _ detail: String, _ situation: String? = nil,
        facts: [String: String] = [:], scope: Doctor.Finding.Scope = .node
    ) -> Doctor.Finding {
        Doctor.Finding(
            scope, address, check, level, detail, situation: situation,
            facts: facts.merging(["node": address]) { a, _ in a })
    }

    func run() async -> Result {
        var result = Result()
        guard let seal = status.seal else {
            let why = status.error.map { shortReason($0.reason) } ?? "no answer"
            if let code = status.error?.code, [.tlsUntrusted, .tlsNameMismatch, .tlsExpired].contains(code) {
                result.findings.append(finding("tls", .fail, why, "tlsUnverified"))
                return result
            }
            result.findings.append(finding("reachable", .fail, why, "unreachable"))
            return result
        }
        let product = Self.product(status.fields)
        let storage = seal.storageType.map { ", \($0) storage" } ?? ""
        result.findings.append(finding("reachable", .ok, "\(product) \(seal.version ?? "?")\(storage)"))
        if address.lowercased().hasPrefix("https://") { result.findings.append(await tls()) }
        // A namespace's ceremony needs its cluster unsealed, as a seal of the cluster does.
        result.findings += sealState(seal, for: namespace == nil ? ceremony : .seal)
        if let namespace, let space {
            result.findings.append(
                space.finding(
                    namespace, ceremony: ceremony, standby: status.haMode?.hasSuffix("standby") == true,
                    short: shortReason
                ) { scope, level, detail, situation in
                    finding("namespace", level, detail, situation, facts: ["namespace": namespace], scope: scope)
                })
        }
        let ready = namespace == nil ? seal.initialized && !seal.sealed : space?.sealed == false
        if let kind = ceremony.quorum, ready {
            let (f, legacy) = await endpoints(kind, target: seal.recoverySeal == true ? .recovery : .unseal)
            result.findings.append(f)
            result.legacyOn = legacy
        }
        result.findings.append(await clock())
        return result
    }

    private func tls() async -> Doctor.Finding {
        let check = await ListenerCheck.run(client, warnDays: warnDays)
        switch check.finding {
        case .ok:
            return finding("tls", .ok, "chain and name verified; the certificate has \(check.daysLeft) days left")
        case .unverified(let e):
            return finding("tls", .fail, shortReason(e.reason), "tlsUnverified")
        case .expiring(let days, let expired):
            return finding(
                "tls", expired ? .fail : .warn,
                expired ? "the certificate expired \(-days) days ago" : "the certificate expires in \(days) days",
                "tlsExpiring")
        case .failed(let f):
            return finding("tls", .fail, shortReason(f.reason), "tlsFailed")
        }
    }

    /// Initialised, sealed, HA role and seal type, judged for the ceremony.
    private func sealState(_ seal: SealStatus, for ceremony: Doctor.Ceremony) -> [Doctor.Finding] {
        let type = seal.type ?? "?"
        let role = status.haMode.map { ", \($0)" } ?? ""
        var out: [Doctor.Finding] = []
        if seal.migration == true {
            out.append(finding("seal", .warn, "a seal migration is pending", "migration"))
        }
        guard seal.initialized else {
            out.append(
                ceremony == .initialise
                    ? finding("seal", .ok, "\(type) seal, not initialised: ready for init")
                    : finding("seal", .fail, "not initialised", "notInitialised"))
            return out
        }
        let keys =
            seal.lacksRecoveryKeys
            ? "no recovery keys"
            : "\(seal.t) of \(seal.n) \(seal.recoverySeal == true ? "recovery keys" : "shares")"
        if ceremony == .initialise {
            out.append(
                seal.lacksRecoveryKeys
                    ? finding(
                        "seal", .fail, "initialised itself (no init ceremony, no recovery keys)", "noRecoveryKeys")
                    : finding("seal", .fail, "already initialised", "alreadyInitialised"))
            return out
        }
        if seal.lacksRecoveryKeys {
            out.append(
                finding(
                    "recovery keys", .warn, "none: the node initialised itself (OpenBao's initialize stanza)",
                    "noRecoveryKeys"))
        }
        if seal.sealed {
            out.append(
                ceremony == .unseal
                    ? finding("seal", .ok, "\(type) seal, sealed: \(keys); \(seal.progress) given so far")
                    : finding("seal", .fail, "\(type) seal, sealed", "sealed"))
        } else {
            out.append(
                finding("seal", .ok, "\(type) seal, \(keys), unsealed\(role)\(ceremony == .unseal ? " already" : "")"))
        }
        return out
    }

    /// Which API for `kind` the listener serves: the old unauthenticated one, OpenBao's
    /// token one (looked at with the token when there is one).
    private func endpoints(
        _ kind: QuorumEndpoints.Kind, target: QuorumEndpoints.Target
    ) async -> (
        Doctor.Finding, Bool?
    ) {
        // A namespace has only the token API ("only available in root namespace").
        if let namespace { return (await tokenEndpoint(.namespaced(kind, namespace)), nil) }
        let legacy = kind == .rekey ? QuorumEndpoints.legacyRekey(target) : .generateRoot
        let modern = kind == .rekey ? QuorumEndpoints.rotate(target) : .generateRootToken
        guard let old = try? await client.look(legacy.statusPath) else {
            return (finding("endpoints", .fail, "no answer to GET \(legacy.statusPath)"), nil)
        }
        let legacyOn = old.status == 200
        var parts = ["\(legacy.statusPath): \(legacyOn ? "on" : "off (HTTP \(old.status))")"]
        var modernOn = false
        if client.token != nil, let new = try? await client.look(modern.statusPath, token: true) {
            modernOn = new.status == 200
            parts.append(
                "\(modern.statusPath) with the token: "
                    + (modernOn ? "on" : new.status == 403 ? "refused (HTTP 403)" : "HTTP \(new.status)"))
        } else if client.token == nil {
            parts.append("\(modern.statusPath): not tried (no token)")
        }
        let detail = parts.joined(separator: "; ")
        if legacyOn || modernOn { return (finding("endpoints", .ok, detail), legacyOn) }
        let situation = client.token == nil ? "endpointsNeedToken" : "endpointsRefused"
        let facts = ["listener": legacy.listenerParameter, "path": modern.statusPath]
        return (finding("endpoints", .fail, detail, situation, facts: facts), legacyOn)
    }

    /// A namespace's quorum API, looked at with the token.
    private func tokenEndpoint(_ e: QuorumEndpoints) async -> Doctor.Finding {
        guard let answer = try? await client.look(e.statusPath, token: true) else {
            return finding("endpoints", .fail, "no answer to GET \(e.statusPath)")
        }
        let detail = "\(e.statusPath) with the token: " + (answer.status == 200 ? "on" : "HTTP \(answer.status)")
        if answer.status == 200 { return finding("endpoints", .ok, detail) }
        return finding("endpoints", .fail, detail, "endpointsRefused", facts: ["path": e.statusPath])
    }

    /// The node's clock against this machine's, from its `Date` header (half the round trip
    /// allowed for).
    private func clock() async -> Doctor.Finding {
        let sent = Date()
        guard let answer = try? await client.look("sys/health"), let date = answer.date else {
            return finding("clock", .warn, "the node sent no Date header", "noDate")
        }
        let received = Date()
        let skew = date.timeIntervalSince(sent.addingTimeInterval(received.timeIntervalSince(sent) / 2))
        let seconds = Int(skew.rounded())
        if abs(skew) <= 30 { return finding("clock", .ok, "within \(max(1, abs(seconds))) s of this machine's") }
        return finding(
            "clock", .warn, "\(abs(seconds)) s \(skew > 0 ? "ahead of" : "behind") this machine's", "clockSkew")
    }

    private func shortReason(_ reason: String) -> String {
        reason.hasPrefix(address + " ") ? String(reason.dropFirst(address.count + 1)) : reason
    }
}
