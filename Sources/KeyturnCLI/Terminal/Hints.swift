import Ceremony
import KeyturnFailure

/// The one table that turns a module's failure code into what the user is told to do and the
/// exit status: modules say what happened (a code, a reason, facts), never which keyturn flag
/// or command helps.
enum Hints {
    /// The exit status for a module's failure.
    static func status(for failure: any KeyturnFailure) -> ExitStatus {
        let code = failure.failureCode
        if code == "vault.invalidAddress" { return .localFailure }
        if code.hasPrefix("vault.") { return .serverFailure }
        switch code {
        case "ceremony.refused", "ceremony.alreadyInitialised", "ceremony.mayBeInitialised", "ceremony.sharesRefused",
            "ceremony.noActiveNode", "ceremony.needsTokenOrListener", "ceremony.tokenRefused",
            "ceremony.noRecoveryKeys", "ceremony.alreadyRunning", "ceremony.notRunning", "ceremony.nonceMismatch",
            "ceremony.noBackup", "ceremony.answerLost":
            return .serverFailure
        default:
            return .localFailure
        }
    }

    /// What to do about a module's failure, if anything useful can be said.
    static func hint(for failure: any KeyturnFailure) -> String? {
        let facts = failure.facts
        let code = failure.failureCode
        if code.hasPrefix("vault.") { return vault(code, facts) }
        if code.hasPrefix("pgp.") { return pgp(code, facts) }
        return ceremony(code, facts)
    }

    private static func vault(_ code: String, _ facts: [String: String]) -> String? {
        let situation = facts["situation"]
        let node = facts["node"] ?? "NODE"
        switch (code, situation) {
        case ("vault.timedOut", _): return "raise --timeout if the node is only slow"
        case ("vault.tlsNameMismatch", _):
            return "connect by a name the certificate lists, or pass --tls-server-name NAME"
        case ("vault.tlsUntrusted", "noCAGiven"?):
            return "pass the CA that signed it with --ca-cert FILE (or VAULT_CACERT)"
        case ("vault.tlsUntrusted", "caGiven"?):
            return "check that --ca-cert / --ca-path hold the CA that signed the server's certificate"
        case ("vault.clientCertificateUnusable", _):
            return "check that --client-cert and --client-key are a matching PEM certificate and key"
        case ("vault.clientCertificateRequired", "rejected"?):
            return "use a client certificate signed by a CA the server trusts"
        case ("vault.clientCertificateRequired", _):
            return "pass --client-cert and --client-key (or VAULT_CLIENT_CERT and VAULT_CLIENT_KEY)"
        case ("vault.tlsFailure", "plaintextListener"?): return "use http:// for a listener with tls_disable"
        case ("vault.malformedReply", "notHTTP"?): return "if the listener uses TLS, use https://"
        case ("vault.malformedReply", "notJSON"?): return "is this the address of a Vault or OpenBao node?"
        case ("vault.invalidAddress", _): return addressHints[situation ?? ""] ?? addressHints[""]
        case ("vault.redirect", _): return "give the address of the node itself (its api_addr)"
        case ("vault.server", "notInitialised"?):
            return "run keyturn init; a new raft follower only learns it is initialised once its leader is unsealed, "
                + "so unseal the leader first, then run again for the followers; one that stays so may have had its "
                + "raft join cut off (its log: cluster already has state): empty its raft directory, restart it"
        case ("vault.server", "unsealSharesRefused"?):
            return "every operator must submit their share again; keyturn verify checks a share file offline"
        case ("vault.server", "unsealSharesRefusedOthersUnsealed"?):
            return "if keyturn verify passes each holder's file, unseal that node alone with the previous generation's "
                + "shares (keyturn unseal -a \(node) FILE); unsealed, it catches up, and the new shares unseal it after"
        default: return nil
        }
    }

    /// An address that is not one, or a name that found no node.
    private static let addressHints = [
        "": "use a URL such as https://127.0.0.1:8200, dns:NAME:PORT or srv:_service._proto.DOMAIN",
        "dnsNoName": "check the name; --dns-server ADDR:PORT asks another server",
        "dnsForeignTarget":
            "a forged DNS answer would look so; give the nodes with -a ADDRESS, or their service with dns:NAME:PORT",
        "dnsNoAnswer": "check that the DNS server answers (dig @SERVER NAME); --dns-server ADDR:PORT picks it",
    ]

    private static func pgp(_ code: String, _ facts: [String: String]) -> String? {
        switch (code, facts["situation"]) {
        case ("pgp.notYourKey", _):
            return "each operator unseals with their own file; check GNUPGHOME if your key lives elsewhere"
        case ("pgp.tokenAbsent", _):
            return "insert the token that holds it (a YubiKey or smartcard), touch it if it blinks, and run again"
        case ("pgp.wrongPIN", _):
            return "check the PIN (--passphrase-file); the token counts wrong PINs and blocks after a few (a YubiKey "
                + "after 3), and keyturn tries each PIN once"
        case ("pgp.pinBlocked", _):
            return "unblock the PIN with the token's PUK or admin PIN (gpg --card-edit, admin, passwd), then run again"
        case ("pgp.noPinentry", _):
            return "run keyturn on a terminal, or pass --passphrase-file FILE or --passphrase-fd N"
        case ("pgp.notPGP", "severalKeys"?): return "export one key: gpg --armor --export FINGERPRINT > name.asc"
        case ("pgp.notPGP", "privateKey"?):
            return "export the public key: gpg --armor --export \(facts["fingerprint"] ?? "FINGERPRINT") > name.asc"
        default: return nil
        }
    }

    private static func ceremony(_ code: String, _ facts: [String: String]) -> String? {
        let path = facts["path"] ?? "FILE"
        switch code {
        case "ceremony.fileExists":
            return "keyturn never overwrites a key or share file: move it away or choose another path"
        case "ceremony.fileRaced":
            return "another program created it while keyturn was writing; nothing was overwritten"
        case "ceremony.notPrivate": return "chmod 600 \(quoted(path))"
        case "ceremony.unsafeDirectory":
            return "write into a directory only you can write to (mkdir -m 700 DIR), named by its own path"
        case "ceremony.shareOnCommandLine":
            return "put the share in a file only you can read (chmod 600), or pipe it in with '-'"
        case "ceremony.noShareSource": return "pass a key file, or '-' and pipe the share in"
        case "ceremony.secretOnTerminal": return "name a file, or pipe the secret in: keyturn split ... - < secret"
        case "ceremony.decryptFailed": return pgp("pgp." + (facts["pgpCode"] ?? ""), facts)
        case "ceremony.commitmentMismatch":
            return facts["when"] == "verify"
                ? "do not use it to unseal; ask for the ceremony record and your file again"
                : "it is wrong or corrupt; check it with keyturn verify and ask for your file again"
        case "ceremony.sameShareTwice": return "give each share once; you need shares from different holders"
        case "ceremony.sameKeyTwice": return "each operator needs their own key"
        case "ceremony.sameFileName": return "give the key files distinct names"
        case "ceremony.keyOrder": return "give the key files in the order given to rekey start"
        case "ceremony.padMismatch": return "use the OTP file that generate-root start wrote for this generation"
        case "ceremony.keyMismatch": return "pass the key that was made with this certificate"
        case "ceremony.notGossipKey": return "make one with keyturn secure gossip"
        case "ceremony.noToken": return "set VAULT_TOKEN or BAO_TOKEN, or pass --token-file FILE (0600)"
        case "ceremony.planMismatch":
            return "use the rekey-plan.json that rekey start wrote for this rekey, or pass --pgp-keys"
        case "ceremony.mixedSplits":
            return "give shares of one split; the id on each file's second line tells them apart"
        case "ceremony.tooFewShares": return "bring \(facts["threshold"] ?? "more") shares of this split"
        case "ceremony.noRecord": return "pass the ceremony.json that lists the file with --manifest"
        case "ceremony.noBackup":
            return "the server keeps the new shares only of a rekey started with keyturn rekey start --backup"
        case "ceremony.notTheSecret":
            return "ask each holder for their file again: one of them is damaged or not from this split"
        default: return operation(code, facts)
        }
    }

    /// An init refused: the node was initialised before, or initialised itself.
    private static let alreadyInitialised = [
        "before": "its keys were handed out when it was initialised; keyturn status shows its state",
        "itself": "there is no init ceremony for it; with a token, keyturn rekey start --target recovery "
            + "--pgp-keys FILES gives its holders their first recovery keys",
        "namespace": "its shares were handed out when it was created; keyturn status --namespace NAME shows its seal",
    ]

    /// A namespace whose creation's answer was lost.
    private static func namespaceLost(_ facts: [String: String]) -> String {
        "a namespace made with its shares lost holds nothing yet: if bao namespace lookup "
            + "\(facts["namespace"] ?? "NAME") finds it, delete it (bao namespace delete) and create it again"
    }

    /// Hints for failures of a node or of a running rekey or generate-root.
    private static func operation(_ code: String, _ facts: [String: String]) -> String? {
        let operation = facts["operation"] ?? "rekey"
        switch code {
        case "ceremony.alreadyInitialised":
            return alreadyInitialised[facts["when"] ?? ""] ?? "keyturn status shows its state"
        case "ceremony.mayBeInitialised" where facts["situation"] == "namespace": return namespaceLost(facts)
        case "ceremony.mayBeInitialised":
            return "check with keyturn status -a \(facts["node"] ?? "ADDRESS") before trying again: Vault hands out "
                + "the keys only once"
        case "ceremony.sharesRefused":
            return "every operator must submit again (keyturn \(operation) status shows the progress); keyturn verify "
                + "checks a share file offline"
        case "ceremony.noActiveNode":
            return "the operation runs on the active node: unseal the cluster first (keyturn status shows which node "
                + "leads)"
        case "ceremony.needsTokenOrListener":
            return "give a token in VAULT_TOKEN or BAO_TOKEN, or with --token-file, for OpenBao's authenticated "
                + "endpoints; or set \(facts["parameter"] ?? "") on the listener"
        case "ceremony.tokenRefused" where operation == "seal":
            return "use a token whose policy allows update on sys/seal (a root token does)"
        case "ceremony.tokenRefused":
            return "use a token with sudo on sys/rotate (or sys/generate-root-token), or set "
                + "\(facts["parameter"] ?? "") on the listener"
        case "ceremony.noRecoveryKeys": return "rekey its unseal keys instead (--target unseal)"
        case "ceremony.alreadyRunning":
            return "submit to it with --nonce \(facts["nonce"] ?? "NONCE"), or cancel it first with keyturn "
                + "\(operation) cancel"
        case "ceremony.notRunning":
            return facts["verification"] == "true"
                ? "the new keys are verified once a threshold of them was submitted; keyturn rekey status shows the "
                    + "state"
                : "someone must start it first (keyturn \(operation) start), or it was cancelled"
        case "ceremony.nonceMismatch":
            return
                "ask the operator who started the ceremony which nonce is right; cancel the unknown one with keyturn "
                + "\(operation) cancel"
        default: return afterCutOff(code, facts)
        }
    }
}
