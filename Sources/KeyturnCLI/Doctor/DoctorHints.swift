import Ceremony

/// What to do about each thing `doctor` finds not ok: the hint under its line. Kept here, in
/// the CLI, like every other hint that names a keyturn command or flag.
enum DoctorHints {
    static func hint(_ f: Doctor.Finding) -> String? {
        guard let situation = f.situation, let make = table[situation] else { return nil }
        return make(f.facts)
    }

    private static let table: [String: @Sendable ([String: String]) -> String] = [
        "unreachable": {
            "is the node running, and is this its API address and scheme? keyturn status -a \($0["node"] ?? "ADDRESS")"
        },
        "tlsUnverified": { _ in
            "give the CA that signed it (--ca-cert, VAULT_CACERT) and the name it was issued for; keyturn secure "
                + "check shows what it serves"
        },
        "tlsExpiring": { _ in "renew it before the ceremony: keyturn secure cert, then restart or SIGHUP the node" },
        "tlsFailed": { "keyturn secure check -a \($0["node"] ?? "ADDRESS")" },
        "migration": { _ in "finish it first: keyturn unseal --migrate with a threshold of shares on every node" },
        "notInitialised": { _ in "keyturn init comes first" },
        "alreadyInitialised": { _ in
            "its keys were handed out when it was initialised; keyturn status shows its state"
        },
        "noRecoveryKeys": { _ in
            "with a token, keyturn rekey start --target recovery --pgp-keys FILES makes the first recovery keys"
        },
        "sealed": { _ in "unseal it first (keyturn unseal), or leave it out of -a" },
        "endpointsNeedToken": {
            "give a token (VAULT_TOKEN, BAO_TOKEN or --token-file), or set \($0["listener"] ?? "") in the listener"
        },
        "endpointsRefused": { "the token cannot use \($0["path"] ?? "that API"): see the capabilities check" },
        "namespaceMissing": {
            "keyturn namespace create \($0["namespace"] ?? "NAME") --pgp-keys FILES makes it, with its holders' shares"
        },
        "namespaceExists": {
            "its shares were handed out when it was created; keyturn status\(NamespaceOption.flag($0["namespace"])) "
                + "shows it"
        },
        "namespaceSealed": {
            "unseal it first: keyturn unseal\(NamespaceOption.flag($0["namespace"])), a holder at a time"
        },
        "namespaceStandby": { _ in
            "standbys show a namespace unsealed about 12 s after the active node; if it stays, unseal it again there"
        },
        "namespaceRefused": {
            "a token whose policy grants read on sys/namespaces/\($0["namespace"] ?? "NAME")/seal-status"
        },
        "namespaceNotSealable": { _ in
            "only a namespace created with its own seal (OpenBao 2.6+) has one; this one shares the cluster's"
        },
        "namespaceUnreadable": {
            "keyturn status\(NamespaceOption.flag($0["namespace"])) -a \($0["node"] ?? "NODE") shows what the node answers"
        },
        "noDate": { _ in "compare its clock by hand" },
        "clockSkew": { _ in "fix NTP on one of them: transcripts, certificates and token expiry compare times" },
        "noActiveNode": {
            "the \($0["ceremony"] ?? "ceremony") runs on the active node: unseal the cluster first, and give every "
                + "node with -a"
        },
        "noToken": { _ in "VAULT_TOKEN or BAO_TOKEN in the environment, or --token-file FILE (0600)" },
        "tokenRefused": { _ in
            "get a fresh token from whoever issues them (keyturn generate-root makes a root token)"
        },
        "tokenShort": { _ in "a ceremony can take longer; bring a token that lasts" },
        "capabilitiesUnknown": { _ in "check the token's policy by hand: bao token capabilities PATH" },
        "capabilitiesMissing": { _ in "a policy that grants them (a root token has them all), or another token" },
        "noGPG": { _ in "apt-get install gnupg" },
        "noAgent": { _ in "apt-get install gpg-agent" },
        "agentVersion": { _ in "restart it (gpgconf --kill gpg-agent); gpg starts the installed one when needed" },
        "noPinentry": { _ in "apt-get install pinentry-tty (or pinentry-curses); until then only --passphrase-file" },
        "noGPGTTY": { _ in "export GPG_TTY=$(tty)" },
        "badKey": { _ in "ask the holder for a current key (gpg --armor --export), or replace the holder" },
        "sameKey": { _ in "one key file per holder" },
        "keyExpiring": { _ in
            "the holder extends it (gpg --quick-set-expire) and sends the key again, before the ceremony"
        },
        "tokenAbsent": { _ in
            "plug in the YubiKey or smartcard that holds it (gpg --card-status shows what gpg sees), then run doctor "
                + "again"
        },
        "tokenOther": { _ in "plug in the token that holds this key (and only that one), then run doctor again" },
        "tokenUnknown": { _ in "gpg --card-status asks gpg-agent the same question by hand" },
        "tokenNotAsked": { _ in "gpg --card-status starts the agent and asks; then run doctor again" },
        "noScdaemon": { _ in "apt-get install scdaemon (gpg-agent reads tokens through it)" },
        "agentHung": { _ in
            "stop what holds the socket (gpgconf --kill gpg-agent; gpgconf --list-dirs agent-socket names it), then "
                + "run doctor again"
        },
        "eccKey": { _ in
            "OpenBao and HashiCorp Vault 1.11 and later take it; older Vault refuses it (use RSA there)"
        },
    ]
}
