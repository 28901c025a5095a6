import Foundation
import VaultClient

/// `keyturn doctor`: the checklist a key ceremony runs before anyone touches a key (the DNSSEC
/// root-key ceremonies run theirs on paper). Every node, the token, this machine's gpg, each
/// holder's key: one finding per check, ok, warn or fail, with a hint for what is not ok.
/// Nothing is changed anywhere: every request is a read (a GET, `sys/capabilities-self`), and
/// keys are looked at in a scratch keyring.
package struct Doctor: Sendable {
    /// The ceremony the checks are for (`--for`).
    package enum Ceremony: String, CaseIterable, Sendable {
        case initialise = "init", unseal, rekey, generateRoot = "generate-root", seal

        /// The quorum operation it runs, if any.
        var quorum: QuorumEndpoints.Kind? {
            switch self {
            case .rekey: .rekey
            case .generateRoot: .generateRoot
            default: nil
            }
        }

        /// Whether holders decrypt their share files on this machine for it.
        var decrypts: Bool { self == .unseal || self == .rekey || self == .generateRoot }

        /// What the cluster's state calls for: init when a node is not initialised, unseal
        /// when one is sealed, else a rekey.
        static func called(for nodes: [NodeStatus]) -> Ceremony {
            let seals = nodes.compactMap(\.seal)
            if seals.contains(where: { !$0.initialized }) { return .initialise }
            if seals.contains(where: \.sealed) { return .unseal }
            return .rekey
        }
    }

    /// One check's outcome.
    package struct Finding: Sendable, Equatable {
        package enum Level: String, Sendable { case ok, warn, fail }
        /// Where the problem would be: a node or the cluster (exit 2), or this machine and the
        /// key files (exit 1).
        package enum Scope: String, Sendable { case node, cluster, local }

        package let scope: Scope
        /// The node's address, the key file, or `gpg`, `cluster`, `token`.
        package let subject: String
        /// reachable, tls, server, seal, endpoints, clock, token, capabilities, gpg, pinentry, key.
        package let check: String
        package let level: Level
        package let detail: String
        /// What is not ok, for the CLI's hint table ("unreachable", "sealed", ...; nil when ok),
        /// and the facts its hint names.
        package let situation: String?
        package let facts: [String: String]

        init(
            _ scope: Scope, _ subject: String, _ check: String, _ level: Level, _ detail: String,
            situation: String? = nil, facts: [String: String] = [:]
        ) {
            self.scope = scope
            self.subject = subject
            self.check = check
            self.level = level
            self.detail = detail
            self.situation = level == .ok ? nil : situation
            self.facts = facts
        }
    }

    /// What a run found.
    package struct Report: Sendable {
        package let ceremony: Ceremony
        /// The sealable namespace whose ceremony it is (`--namespace`), nil for the cluster's.
        package let namespace: String?
        /// With `--namespace` and no `--for`: the cluster itself needs `ceremony` first (it is
        /// sealed or not initialised), before anything of the namespace's.
        package var clusterFirst = false
        package let findings: [Finding]

        /// 2 when a node or the cluster fails a check, else 1 when this machine or a key does,
        /// else 0 (warnings do not change it).
        package var exitCode: Int32 {
            let failed = findings.filter { $0.level == .fail }
            if failed.contains(where: { $0.scope != .local }) { return 2 }
            return failed.isEmpty ? 0 : 1
        }
    }

    package let clients: [VaultClient]
    package let keyFiles: [String]
    package let ceremony: Ceremony?
    /// Certificates and keys that expire within this many days are a warning.
    package let warnDays: Int
    /// A sealable namespace (OpenBao 2.6+) whose ceremony it is; its cluster must be unsealed.
    package let namespace: String?

    package init(
        clients: [VaultClient], keyFiles: [String], ceremony: Ceremony?, warnDays: Int = 30, namespace: String? = nil
    ) {
        self.clients = clients
        self.keyFiles = keyFiles
        self.ceremony = ceremony
        self.warnDays = warnDays
        self.namespace = namespace
    }

    /// Runs every check: the nodes at once, then the cluster and token, then this machine.
    package func run() async -> Report {
        let nodes = await NodeStatus.fetchAll(clients)
        let namespace = self.namespace
        let spaces: [NamespaceState?]? =
            if let namespace {
                await concurrentMap(Array(zip(clients, nodes))) { _, pair in
                    await NamespaceState.fetch(pair.0, node: pair.1, namespace: namespace)
                }
            } else { nil }
        let ceremony = self.ceremony ?? Ceremony.called(for: nodes, namespaces: spaces)
        let warnDays = self.warnDays
        let perNode = await concurrentMap(Array(clients.indices)) { _, i in
            await NodeChecks(
                client: clients[i], status: nodes[i], ceremony: ceremony, warnDays: warnDays, namespace: namespace,
                space: spaces?[i]
            ).run()
        }
        var findings = perNode.flatMap(\.findings)
        // Where a node serves the old unauthenticated API, the ceremony needs no token there.
        let legacyOff = perNode.contains { $0.legacyOn == false }
        findings += await ClusterChecks(
            clients: clients, nodes: nodes, ceremony: ceremony, legacyOff: legacyOff, namespace: namespace
        ).run()
        let products = Set(nodes.map { NodeChecks.product($0.fields) })
        findings += LocalChecks(keyFiles: keyFiles, ceremony: ceremony, warnDays: warnDays, products: products).run()
        var report = Report(ceremony: ceremony, namespace: namespace, findings: findings)
        report.clusterFirst = namespace != nil && self.ceremony == nil && Ceremony.called(for: nodes) != .rekey
        return report
    }
}
