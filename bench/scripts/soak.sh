#!/usr/bin/env bash
# The soak: the AppHost in existing mode (the local PostgreSQL, a Redis of the run's own, two gateway
# replicas) under honest and hostile clients through the gateway, while faults are injected one after another,
# then the ledger: answers by client and status, every 5xx with its fault window, rejections seen by the
# clients against the events the dashboard stored, orders, dropped events, recovery times, memory and threads.
# Exits non-zero when an invariant does not hold. See docs/reliability.md.
#   bench/scripts/soak.sh [seconds, default 120] [faults: all | none | comma list of redis,collector,identity,gateway,postgres]
# The ledger is printed and kept in artifacts/soak/. CI runs the same test for 30 s with the Redis fault.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
seconds="${1:-120}"
faults="${2:-all}"
log_name=soak.sh
# shellcheck source=../../scripts/servers.sh
source "$root/scripts/servers.sh"
ensure_postgres
ensure_redis

mkdir -p "$root/artifacts/soak"
ledger="$root/artifacts/soak/ledger-$(date -u +%Y%m%dT%H%M%SZ).txt"
cd "$root"
dotnet build tests/MicroSecure.EndToEnd.Tests -v quiet -nologo >/dev/null
log "soak: $seconds s, faults: $faults (the AppHost starts first, which takes about a minute)"
set +e
MICROSECURE_SOAK_SECONDS="$seconds" MICROSECURE_SOAK_FAULTS="$faults" MICROSECURE_SOAK_LEDGER="$ledger" \
  dotnet test --project tests/MicroSecure.EndToEnd.Tests --no-build -- --filter-class "*SoakTests" > "$ledger.test.log" 2>&1
status=$?
set -e
if [ -f "$ledger" ]; then cat "$ledger"; else tail -40 "$ledger.test.log"; fi
log "ledger: $ledger (test output: $ledger.test.log)"
exit "$status"
