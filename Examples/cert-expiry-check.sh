#!/usr/bin/env bash
# Cron job: warn before the listeners' certificates expire (or stop verifying).
#   VAULT_ADDR=https://vault1:8200,https://vault2:8200 VAULT_CACERT=/etc/keyturn/ca.pem \
#   ./cert-expiry-check.sh [WARN_DAYS]
# Silent when all is well (cron mails only output); on a problem it prints keyturn's report,
# logs it with logger when available, and exits 2 (or 1 when a node cannot be reached).
set -uo pipefail
warn_days=${1:-30}
keyturn=${KEYTURN:-keyturn}
report=$("$keyturn" secure check --warn-days "$warn_days" 2>&1)
rc=$?
if [ "$rc" != 0 ]; then
  echo "keyturn certificate check failed (exit $rc):"
  echo "$report"
  command -v logger >/dev/null 2>&1 && logger -t keyturn-cert-check "certificate check failed (exit $rc)"
fi
exit "$rc"
