import Ceremony
import VaultClient

extension Rekey {
    /// What the submit that completes a rekey does with its answer: the new files, the
    /// transcript, and what the operator is told.
    struct Completion {
        let state: QuorumState
        let plan: ShareFilePlan?
        let newKeys: RekeyFiles.NewKeys
        let previous: (CeremonyRecord, String)?
        let log: TranscriptLog?
        let target: QuorumEndpoints.Target
        /// The first recovery keys of a node that had none: no predecessor to name.
        var first = false

        func save(_ s: QuorumState, ceremony: QuorumCeremony, nonce: String) throws {
            let address = ceremony.client.address
            guard let plan else {
                // No files were planned for it, but the answer comes only once: it goes to stdout.
                Terminal.stdoutLine(Output.jsonText(s))
                throw CLIError(
                    "\(address) completed the rekey sooner than its progress said; its whole answer (the new "
                        + "shares) is on standard output above",
                    hint: "save that output now: it holds every new share", status: .serverFailure)
            }
            if previous == nil && !first {
                Terminal.warn(
                    "no previous ceremony.json was given (--manifest): the new record cannot name its predecessor")
            }
            try OneShotAnswer.save(
                done: "the rekey is complete", unsaved: "the new share files", shown: "the whole answer",
                hint: "save that output now: it holds every new share", answer: { Output.jsonText(s) }
            ) {
                try RekeyFiles.write(
                    s, before: state, plan: plan, newKeys: newKeys, previous: previous, address: address,
                    target: target, first: first, namespace: ceremony.client.namespace)
            }
            let required = state.required ?? 0
            log?.record(node: address, result: "completed", progress: "\(required)/\(required)", nonce: nonce)
            for f in plan.shareFiles + plan.recoveryFiles { Terminal.stdoutLine(f) }
            Terminal.stdoutLine(plan.manifest)
            tell(s, namespace: NamespaceOption.flag(ceremony.client.namespace))
        }

        /// What the operator is told once the files are written.
        private func tell(_ s: QuorumState, namespace: String) {
            if s.verificationRequired == true, let v = s.verificationNonce {
                Terminal.stderrLine(
                    "keyturn: the rekey is complete; the new keys take over once a threshold of their holders "
                        + "ran: keyturn rekey verify\(target == .recovery ? " --target recovery" : "")\(namespace) --nonce \(v) "
                        + "THEIR-NEW-FILE")
                Terminal.stderrLine(
                    first
                        ? "keyturn: until then the node has no recovery keys"
                        : target == .unseal
                            ? "keyturn: until then the old shares still unseal"
                            : "keyturn: until then the old recovery keys still count")
            } else {
                Terminal.stderrLine(
                    target == .unseal
                        ? "keyturn: the rekey is complete: the new shares are in force, the old ones no longer "
                            + "unseal; hand each holder their file"
                        : "keyturn: the rekey is complete: the new recovery keys are in force, the old ones no "
                            + "longer count; hand each holder their file")
            }
        }
    }
}
