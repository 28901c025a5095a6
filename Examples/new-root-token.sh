#!/usr/bin/env bash
# Runbook: the root token was revoked after set-up (as Vault advises) and the team needs one
# again, for an hour's work. It comes back encrypted to the requester's PGP key.
#   export VAULT_ADDR=https://vault1:8200 VAULT_CACERT=/etc/keyturn/ca.pem
#   (OpenBao >= 2.5: the listener needs disable_unauthed_generate_root_endpoints = false)
# 1. The requester starts it with their public key and tells the holders the nonce:
#      ./new-root-token.sh start alice.asc
# 2. Each holder, at their own desk (keyturn shows the operation and asks to confirm):
#      ./new-root-token.sh submit NONCE ~/bob.asc.key token-dir
#    The last one writes token-dir/root-token.asc (0600): only the requester can read it.
# 3. The requester:  gpg -d token-dir/root-token.asc   ... and revokes the token when done.
set -euo pipefail
keyturn=${KEYTURN:-keyturn}
confirm=(); [ -t 0 ] || confirm=(--yes)
step=${1:?usage: new-root-token.sh start|submit ...}
case "$step" in
  start) "$keyturn" generate-root start --pgp-key "${2:?usage: new-root-token.sh start PUBLIC-KEY}" ;;
  submit)
    "$keyturn" generate-root submit --nonce "${2:?usage: new-root-token.sh submit NONCE KEYFILE OUT-DIR}" \
      "${3:?usage: new-root-token.sh submit NONCE KEYFILE OUT-DIR}" --out-dir "${4:?usage: new-root-token.sh submit NONCE KEYFILE OUT-DIR}" "${confirm[@]}" ;;
  *) echo "new-root-token.sh: unknown step '$step' (start or submit)" >&2; exit 1 ;;
esac
