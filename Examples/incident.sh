#!/usr/bin/env bash
# Runbook: a share or the root token is suspected compromised.
#   export VAULT_ADDR=https://vault1:8200,https://vault2:8200,https://vault3:8200 VAULT_CACERT=/etc/keyturn/ca.pem
#   export VAULT_TOKEN=...   # the current (suspect) root token, or one allowed to seal, rotate and revoke
# 1. Stop the bleeding: seal every node (standbys first, the active node last). At a terminal
#    keyturn lists the nodes and asks; nothing is served until a quorum unseals.
#      ./incident.sh seal
# 2. A quorum of holders, each at their own desk, turns their key (every node at once):
#      ./incident.sh unseal ~/bob.asc.key
# 3. New shares, so that a leaked one is worth nothing. The coordinator starts the rekey with
#    the new holders' public keys; each current holder submits; the last one writes OUT-DIR:
#      ./incident.sh rekey-start bob.asc,carol.asc,dave.asc OUT-DIR [THRESHOLD]
#      ./incident.sh rekey-submit NONCE ~/bob.asc.key OUT-DIR
# 4. A new root token, encrypted to the requester's key; holders submit their NEW shares:
#      ./incident.sh root-start alice.asc
#      ./incident.sh root-submit NONCE OUT-DIR/bob.asc.key TOKEN-DIR
#    The requester: gpg -d TOKEN-DIR/root-token.asc
# 5. Revoke the old root token (VAULT_TOKEN still holds it): bao token revoke -self
#      ./incident.sh revoke-old
# Exit codes are keyturn's: 0 done, 1 bad input (nothing sent), 2 the server said no.
set -euo pipefail
keyturn=${KEYTURN:-keyturn}
# At a terminal the operator confirms; a script run by automation cannot.
confirm=(); [ -t 0 ] || confirm=(--yes)
step=${1:?usage: incident.sh seal|unseal|rekey-start|rekey-submit|rekey-verify|root-start|root-submit|revoke-old ...}
case "$step" in
  seal) "$keyturn" seal "${confirm[@]}" ;;
  unseal) "$keyturn" unseal --wait 120 "${2:?usage: incident.sh unseal KEYFILE}" ;;
  rekey-start)
    "$keyturn" rekey start --pgp-keys "${2:?usage: incident.sh rekey-start NEW-KEYS OUT-DIR [THRESHOLD]}" \
      --out-dir "${3:?usage: incident.sh rekey-start NEW-KEYS OUT-DIR [THRESHOLD]}" ${4:+--key-threshold "$4"} ;;
  rekey-submit)
    "$keyturn" rekey submit --nonce "${2:?usage: incident.sh rekey-submit NONCE KEYFILE OUT-DIR}" \
      "${3:?usage: incident.sh rekey-submit NONCE KEYFILE OUT-DIR}" \
      --out-dir "${4:?usage: incident.sh rekey-submit NONCE KEYFILE OUT-DIR}" "${confirm[@]}" ;;
  rekey-verify)
    # The new shares take over once a threshold of their holders verified them (rekey start's default).
    "$keyturn" rekey verify --nonce "${2:?usage: incident.sh rekey-verify VERIFICATION-NONCE NEW-KEYFILE}" \
      "${3:?usage: incident.sh rekey-verify VERIFICATION-NONCE NEW-KEYFILE}" ;;
  root-start) "$keyturn" generate-root start --pgp-key "${2:?usage: incident.sh root-start PUBLIC-KEY}" ;;
  root-submit)
    "$keyturn" generate-root submit --nonce "${2:?usage: incident.sh root-submit NONCE KEYFILE OUT-DIR}" \
      "${3:?usage: incident.sh root-submit NONCE KEYFILE OUT-DIR}" \
      --out-dir "${4:?usage: incident.sh root-submit NONCE KEYFILE OUT-DIR}" "${confirm[@]}" ;;
  revoke-old)
    # bao takes one address: the first node of VAULT_ADDR.
    VAULT_ADDR=${VAULT_ADDR%%,*} "${BAO:-bao}" token revoke -self ;;
  *) echo "incident.sh: unknown step '$step'" >&2; exit 1 ;;
esac
