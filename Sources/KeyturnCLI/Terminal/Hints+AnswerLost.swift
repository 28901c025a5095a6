extension Hints {
    /// After a one-shot request whose answer was cut off.
    static func afterCutOff(_ code: String, _ facts: [String: String]) -> String? {
        if code == "ceremony.answerLost" { return answerLost(facts) }
        guard code == "ceremony.refused", facts["situation"] == "initCutOff" else { return nil }
        return "it holds no key in force (it still says it is not initialised): stop the node, empty its raft "
            + "storage directory (storage \"raft\" path), start it and run keyturn init again"
    }

    /// What to do after a submit to a rekey or generate-root whose answer was lost, by what
    /// the cluster said after it (LostAnswer).
    static func answerLost(_ facts: [String: String]) -> String? {
        let operation = facts["operation"] ?? "rekey"
        switch facts["next"] {
        case "again" where facts["verification"] == "true":
            return "submit the same new share again (keyturn rekey verify)"
        case "again": return "submit the same share again (keyturn \(operation) submit)"
        case "counted": return "nothing to redo; keyturn \(operation) status shows the progress"
        case "restart":
            return "cancel it (keyturn rekey cancel) and start it again: nothing was lost, the old shares still unseal"
        case "startAgain":
            return "start it again (keyturn rekey start): nothing was lost, the old shares still unseal"
        case "halfApplied":
            return "keep every node running and unsealed: do not seal or restart one; restore the raft snapshot of "
                + "rekey start --snapshot now (README: restoring a snapshot), then prove the old shares on one node"
        case let next? where next.hasPrefix("firstKeys"): return firstKeys(next)
        case "verified":
            return "the new shares are in force: hand them out; keyturn verify checks each new file offline"
        case "ended" where operation == "generate-root":
            return "with a token, find the root token no one holds (bao list auth/token/accessors, then bao token "
                + "lookup -accessor A), revoke it (bao token revoke -accessor A), and generate again"
        case "ended" where facts["backup"] == "true":
            return "the server kept a backup: keyturn rekey backup retrieve --out-dir DIR (with a token) writes the "
                + "new files; they are unproven until a rekey verify or an unseal with them succeeds"
        case "ended":
            return "keep every node running; to tell, start a rekey and submit the old shares: if they are refused, "
                + "only the raft snapshot (rekey start --snapshot) brings the old keys back (README: restoring a "
                + "snapshot)"
        default:
            return "run keyturn \(operation) status once the cluster answers: the same progress means submit again; "
                + "none running means it probably completed"
        }
    }

    /// After the start of the first recovery keys whose answer was lost (LostAnswer.firstKeysLost).
    private static func firstKeys(_ next: String) -> String? {
        switch next {
        case "firstKeysLost":
            return "a raft snapshot from before (rekey start --snapshot) brings back the state without them (README: "
                + "restoring a snapshot); without one, what needs recovery keys (generate-root, another recovery "
                + "rekey) can no longer be done on this cluster"
        case "firstKeysCancel":
            return "cancel it (keyturn rekey cancel --target recovery) and start it again: no recovery keys were put "
                + "in force"
        case "firstKeysAgain": return "run the same keyturn rekey start again"
        case "firstKeysUnknown":
            return "keyturn status shows it once the node answers: no recovery keys means start again; a threshold "
                + "means they were made and no one holds them"
        default: return nil
        }
    }
}
