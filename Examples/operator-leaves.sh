#!/usr/bin/env bash
# Runbook: an operator leaves (or a share is suspected lost): rekey to the new set of holders,
# and let the new shares take over only once their holders have checked them (--verify).
#   export VAULT_ADDR=https://vault1:8200,https://vault2:8200,https://vault3:8200 VAULT_CACERT=/etc/keyturn/ca.pem
#   (OpenBao >= 2.5: also VAULT_TOKEN for sys/rotate, or the listener's disable_unauthed_rekey_endpoints = false)
# 1. The coordinator starts it with the new holders' public keys and tells everyone the nonce:
#      ./operator-leaves.sh start bob.asc,carol.asc,dave.asc [THRESHOLD]
# 2. Each current holder, at their own desk (keyturn shows the rekey and asks to confirm):
#      ./operator-leaves.sh submit NONCE ~/bob.asc.key bob.asc,carol.asc,dave.asc generation-2
#    The last one writes generation-2/ (one .key file per new holder and ceremony.json, chained to
#    the previous record) and prints the verification nonce.
# 3. Each new holder checks their new file offline, then turns it in for verification:
#      ./operator-leaves.sh verify VERIFICATION-NONCE generation-2/dave.asc.key
#    Until a threshold of them has, the old shares still unseal; after, only the new ones do.
# Exit codes are keyturn's: 0 done, 1 bad input (nothing sent), 2 the server said no.
set -euo pipefail
keyturn=${KEYTURN:-keyturn}
# At a terminal the operator confirms what they sign off; a script run by automation cannot.
confirm=(); [ -t 0 ] || confirm=(--yes)
step=${1:?usage: operator-leaves.sh start|submit|verify ...}
case "$step" in
  start)
    keys=${2:?usage: operator-leaves.sh start NEW-KEYS [THRESHOLD]}
    "$keyturn" rekey start --verify --pgp-keys "$keys" ${3:+--key-threshold "$3"} ;;
  submit)
    nonce=${2:?usage: operator-leaves.sh submit NONCE KEYFILE NEW-KEYS OUT-DIR}
    keyfile=${3:?usage: operator-leaves.sh submit NONCE KEYFILE NEW-KEYS OUT-DIR}
    keys=${4:?usage: operator-leaves.sh submit NONCE KEYFILE NEW-KEYS OUT-DIR}
    "$keyturn" rekey submit --nonce "$nonce" "$keyfile" --pgp-keys "$keys" --out-dir "${5:?usage: operator-leaves.sh submit NONCE KEYFILE NEW-KEYS OUT-DIR}" "${confirm[@]}" ;;
  verify)
    nonce=${2:?usage: operator-leaves.sh verify VERIFICATION-NONCE NEW-KEYFILE}
    newfile=${3:?usage: operator-leaves.sh verify VERIFICATION-NONCE NEW-KEYFILE}
    "$keyturn" verify "$newfile"
    "$keyturn" rekey verify --nonce "$nonce" "$newfile" ;;
  *) echo "operator-leaves.sh: unknown step '$step' (start, submit or verify)" >&2; exit 1 ;;
esac
