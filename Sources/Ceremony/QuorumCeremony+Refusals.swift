import Foundation
import KeyturnFailure
import VaultClient

extension QuorumCeremony {
    /// A sealable namespace offers only OpenBao's token API, and no recovery keys (its
    /// `sys/rotate/recovery` answers "recovery not supported"; the legacy endpoints "operation
    /// only available in root namespace").
    static func namespaced(
        _ client: VaultClient, kind: QuorumEndpoints.Kind, target: QuorumEndpoints.Target, namespace: String
    ) throws -> [QuorumEndpoints] {
        guard target == .unseal else {
            throw CeremonyError(
                "the namespace \(namespace) has no recovery keys: OpenBao offers recovery keys in the root "
                    + "namespace only", code: .noRecoveryKeys, facts: ["node": client.address])
        }
        guard client.token != nil else {
            throw CeremonyError(
                "a namespace's \(kind.rawValue) needs a token: OpenBao serves it only on its token API", code: .noToken,
                facts: ["operation": kind.rawValue])
        }
        return [QuorumEndpoints.namespaced(kind, namespace)]
    }

    /// The one-line reason why neither API could be used.
    static func unavailable(
        _ client: VaultClient, kind: QuorumEndpoints.Kind, refusals: [(QuorumEndpoints, VaultError)], hasToken: Bool
    ) -> CeremonyError {
        let what = kind == .rekey ? "rekey" : "generate-root"
        let legacy = refusals.first { !$0.0.authenticated }
        let legacyDisabled = legacy.map { $0.1.serverErrors.contains { $0.contains("unsupported operation") } } ?? false
        let tokenRefused = refusals.first { $0.0.authenticated }?.1
        let parameter = (kind == .rekey ? QuorumEndpoints.legacyRekey(.unseal) : .generateRoot).listenerParameter
        if legacyDisabled && !hasToken {
            return CeremonyError(
                "\(client.address) offers no \(what) that keyturn can use without a token: its unauthenticated "
                    + "endpoints are disabled (OpenBao >= 2.5)",
                code: .needsTokenOrListener, facts: ["operation": what, "parameter": parameter])
        }
        if legacyDisabled, let tokenRefused {
            return CeremonyError(
                "\(client.address) refused the token for its authenticated \(what) endpoints "
                    + "(\(oneLine(tokenRefused.serverErrors.joined(separator: "; ")))) and its unauthenticated "
                    + "ones are disabled",
                code: .tokenRefused, facts: ["operation": what, "parameter": parameter])
        }
        let said = refusals.map { $0.1.reason }.first ?? "no \(what) endpoint answered"
        return CeremonyError(said, code: .refused)
    }
}
