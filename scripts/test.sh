#!/usr/bin/env bash
# Runs the whole test suite against real PostgreSQL and Redis on loopback, then prints
# "N passed, N failed[, N skipped]" from the TRX files. Exit status is non-zero on any failure
# or when no test ran.
#
# Servers: uses MICROSECURE_TEST_POSTGRES / MICROSECURE_TEST_REDIS when set; otherwise starts the
# local PostgreSQL cluster and a Redis server on 127.0.0.1 (installing redis-server with apt when it
# is missing and this runs as root). The browser tests use MICROSECURE_CHROMIUM or /usr/bin/chromium,
# installed with apt when missing. Screenshots land in artifacts/screenshots.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
results="${TEST_RESULTS_DIR:-$root/artifacts/test-results}"
log_name=test.sh
# shellcheck source=servers.sh
source "$root/scripts/servers.sh"

# Sums one attribute of the <Counters> element over all TRX files.
sum_counter() {
  local name="$1"
  { grep -ho "<Counters [^>]*" "$results"/*.trx 2>/dev/null || true; } \
    | grep -o " $name=\"[0-9]*\"" | grep -o '[0-9]*' | awk '{ s += $1 } END { print s + 0 }'
}

ensure_postgres
ensure_redis
ensure_chromium

rm -rf "$results" "$root/artifacts/screenshots"
mkdir -p "$results"
cd "$root"

log "dotnet test (results in $results)"
set +e
# One test module at a time: the end-to-end tests start a whole AppHost, and this runs on small machines.
dotnet test --solution MicroSecure.Aspire.sln --max-parallel-test-modules 1 \
  --results-directory "$results" --report-trx
test_exit=$?
set -e

# The dependency audit of the solution (what it restores) against the offline OSV advisories; a finding of
# high severity or worse fails the run after the summary. The SARIF goes next to the test results.
log "dependency audit (tools/advisories/osv)"
set +e
dotnet run --project tools/MicroSecure.Audit.Cli --no-build -- --osv tools/advisories/osv --solution MicroSecure.Aspire.sln \
  --fail-on high --sarif "$results/dependency-audit.sarif" >&2
audit_exit=$?
set -e

total=$(sum_counter total)
passed=$(sum_counter passed)
failed=$(( $(sum_counter failed) + $(sum_counter error) + $(sum_counter timeout) + $(sum_counter aborted) ))
skipped=$(sum_counter notExecuted)

# The failures' names and messages, so a red run in a log that keeps only the tail is diagnosable.
if [ "$failed" -gt 0 ]; then
  log "failed tests:"
  awk '
    /<UnitTestResult / && /outcome="(Failed|Error|Timeout|Aborted)"/ {
      match($0, /testName="[^"]*"/); name = substr($0, RSTART + 10, RLENGTH - 11)
      gsub(/&quot;/, "\"", name); print "  FAILED " name; inside = 1; lines = 0; next }
    inside && /<\/UnitTestResult>/ { inside = 0; next }
    inside && /<(Message|StackTrace)>/ { show = 1 }
    inside && show && lines < 12 { gsub(/<\/?(Message|StackTrace|ErrorInfo|Output)>/, ""); print "    " $0; lines++ }
    inside && /<\/(Message|StackTrace)>/ { show = 0 }
  ' "$results"/*.trx >&2 || true
fi

summary="$passed passed, $failed failed"
[ "$skipped" -gt 0 ] && summary="$summary, $skipped skipped"
echo "$summary"

if [ "$total" -eq 0 ]; then
  log "no test ran"
  exit 1
fi
if [ "${CI:-}" = "true" ] && [ "$skipped" -gt 0 ]; then
  log "tests were skipped under CI=true: a skipped test counts as a failure here"
  exit 1
fi
if [ "$failed" -gt 0 ] || [ "$test_exit" -ne 0 ]; then
  exit 1
fi
if [ "$audit_exit" -ne 0 ]; then
  log "the dependency audit found packages with high or critical advisories (exit $audit_exit); see above"
  exit 1
fi
