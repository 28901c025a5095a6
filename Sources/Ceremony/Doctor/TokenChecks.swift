import Foundation
import PGPShares

/// Whether the tokens (YubiKeys, smartcards) that hold keys of this machine's keyring are
/// plugged in, asked of the gpg-agent that runs (none is started: doctor changes nothing). A
/// key given with `--pgp-keys` whose token is missing is a failure; the keyring's other tokens
/// are warnings (a share here may not be encrypted to them), one line per card.
struct TokenChecks {
    /// A key given with `--pgp-keys`: its holder, and the keygrips of its encryption subkeys.
    struct Given {
        let userID: String
        let keygrips: [String]
    }

    let given: [Given]
    let agent: AgentState
    /// One deadline for every question to the agent, however many tokens it lists.
    let deadline = Date().addingTimeInterval(20)
    /// The tokens of the keyring beyond the given keys' that get a line of their own.
    static let otherCards = 8

    private var left: TimeInterval { deadline.timeIntervalSinceNow }

    func run() -> [Doctor.Finding] {
        guard case .running = agent else {
            guard agent == .notRunning else { return [] }  // the gpg-agent line says it
            // No agent to ask: a given key that the keyring files as a token's stub is named.
            return given.filter { $0.keygrips.contains(where: PGPShares.onToken) }.map {
                Doctor.Finding(
                    .local, $0.userID, "token", .warn,
                    "its secret is on a token; not asked whether it is plugged in: no gpg-agent runs (doctor starts "
                        + "none)", situation: "tokenNotAsked")
            }
        }
        guard let cards = PGPShares.agentTokenKeys(timeout: left) else {
            return [
                Doctor.Finding(
                    .local, "gpg", "token", .warn, "gpg-agent did not list its keys", situation: "tokenUnknown")
            ]
        }
        guard !cards.isEmpty else { return [] }
        let seen = PGPShares.tokenSeen(timeout: left)
        var out: [Doctor.Finding] = []
        var covered = Set<String>()
        for key in given {
            guard let card = cards.first(where: { key.keygrips.contains($0.keygrip) }) else { continue }
            covered.insert(card.serial ?? card.keygrip)
            out.append(finding(card, seen: seen, subject: key.userID, what: "the key", given: true))
        }
        var others: [String: [TokenKey]] = [:]
        for card in cards where !covered.contains(card.serial ?? card.keygrip) {
            others[card.serial ?? card.keygrip, default: []].append(card)
        }
        for (serial, keys) in others.sorted(by: { $0.key < $1.key }).prefix(Self.otherCards) {
            let what = keys.count == 1 ? "1 key of this keyring" : "\(keys.count) keys of this keyring"
            out.append(finding(keys[0], seen: seen, subject: "card \(serial.prefix(32))", what: what, given: false))
        }
        if others.count > Self.otherCards {
            out.append(
                Doctor.Finding(
                    .local, "gpg", "token", .warn,
                    "\(others.count - Self.otherCards) more tokens of this keyring not asked",
                    situation: "tokenUnknown"))
        }
        return out
    }

    private func finding(
        _ card: TokenKey, seen: TokenSeen, subject: String, what: String, given: Bool
    ) -> Doctor.Finding {
        let on = card.serial.map { " (card \($0.prefix(32)))" } ?? ""
        switch PGPShares.tokenState(card, seen: seen, timeout: left) {
        case .present:
            return Doctor.Finding(.local, subject, "token", .ok, "the token holding \(what)\(on) is plugged in")
        case .absent:
            return Doctor.Finding(
                .local, subject, "token", given ? .fail : .warn, "the token holding \(what)\(on) is not plugged in",
                situation: "tokenAbsent")
        case .other(let serial):
            return Doctor.Finding(
                .local, subject, "token", .warn, "another token (card \(serial)) is plugged in; \(what) is\(on)",
                situation: "tokenOther")
        case .noDaemon:
            return Doctor.Finding(
                .local, subject, "token", given ? .fail : .warn,
                "gpg-agent has no scdaemon to read the token holding \(what)", situation: "noScdaemon")
        case .unknown:
            return Doctor.Finding(
                .local, subject, "token", .warn,
                "gpg-agent did not say whether the token holding \(what) is plugged in",
                situation: "tokenUnknown")
        }
    }
}
