import Foundation
import KeyturnFailure
import VaultClient

extension LostAnswer {
    /// The start that gives a node its first recovery keys (it has none: the start completes at
    /// once, OpenBao 2.7.2) was sent and its answer lost: the node is asked whether the keys
    /// were made. In force (`--no-verify`), their only copy was the lost answer; awaiting
    /// verification, no one can give it, and nothing is in force; neither, the start did not
    /// take effect.
    package static func firstKeysLost(
        _ lost: VaultError, ceremony: QuorumCeremony, electionWait: TimeInterval = 60, settle: TimeInterval = 2
    ) async -> CeremonyError {
        try? await Task.sleep(nanoseconds: UInt64(settle * 1e9))
        let head = "\(lost.reason) after the start of the first recovery keys was sent"
        func failure(_ reason: String, _ next: String) -> CeremonyError {
            CeremonyError(
                reason, code: .answerLost,
                facts: ["operation": "rekey", "next": next, "verification": "false", "backup": "false"])
        }
        do {
            let active = try await QuorumCeremony.activeNode(ceremony.cluster, electionWait: electionWait)
            let seal = try await active.sealStatus().0
            guard seal.lacksRecoveryKeys else {
                return failure(
                    "\(head): the first recovery keys are now in force (\(seal.t) of \(seal.n)), and their only copy "
                        + "was in the lost answer: no one holds them", "firstKeysLost")
            }
            let now = QuorumCeremony(client: active, endpoints: ceremony.endpoints, cluster: ceremony.cluster)
            if try await now.state().started == true {
                return failure(
                    "\(head): the first recovery keys went out in the lost answer and await a verification that no "
                        + "one can give; the node still has no recovery keys", "firstKeysCancel")
            }
            return failure(
                "\(head): the node still has no recovery keys and no rekey runs, so the start did not take effect",
                "firstKeysAgain")
        } catch {
            let why = (error as? any KeyturnFailure)?.reason ?? "\(error)"
            return failure("\(head), and no node said whether the keys were made (\(why))", "firstKeysUnknown")
        }
    }
}
