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
pg_password="${MICROSECURE_TEST_PG_PASSWORD:-microsecure-test}"
pg_port="${MICROSECURE_TEST_PG_PORT:-5432}"
redis_port="${MICROSECURE_TEST_REDIS_PORT:-6379}"

log() { printf '[test.sh] %s\n' "$*" >&2; }
die() { printf '[test.sh] error: %s\n' "$*" >&2; exit 1; }
is_root() { [ "$(id -u)" = "0" ]; }

apt_install() {
  is_root || die "$1 is missing and this script is not root: install it (apt-get install -y $1) or set the connection variables."
  if [ -z "${apt_updated:-}" ]; then
    log "apt-get update"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
    apt_updated=1
  fi
  log "installing $1"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

wait_for() { # description, command...
  local what="$1"; shift
  for _ in $(seq 1 60); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.5
  done
  die "$what did not become ready within 30 s"
}

ensure_postgres() {
  if [ -n "${MICROSECURE_TEST_POSTGRES:-}" ]; then
    log "PostgreSQL: using MICROSECURE_TEST_POSTGRES"
    return
  fi
  command -v pg_ctlcluster >/dev/null || apt_install postgresql
  if ! pg_isready -q -h 127.0.0.1 -p "$pg_port"; then
    local cluster
    cluster="$(pg_lsclusters -h | awk -v port="$pg_port" '$3 == port { print $1 " " $2; exit }')"
    [ -n "$cluster" ] || die "no PostgreSQL cluster on port $pg_port (see pg_lsclusters)"
    log "starting PostgreSQL cluster $cluster"
    # shellcheck disable=SC2086
    pg_ctlcluster $cluster start
    wait_for "PostgreSQL" pg_isready -q -h 127.0.0.1 -p "$pg_port"
  fi
  is_root || die "setting the postgres password needs root; set MICROSECURE_TEST_POSTGRES instead"
  # The cluster listens on localhost only (Debian's default); the password is for loopback TCP logins.
  su postgres -c "psql -q -p $pg_port -c \"ALTER USER postgres PASSWORD '$pg_password'\"" >/dev/null
  export MICROSECURE_TEST_POSTGRES="Host=127.0.0.1;Port=$pg_port;Username=postgres;Password=$pg_password"
  PGPASSWORD="$pg_password" psql -q -h 127.0.0.1 -p "$pg_port" -U postgres -c 'SELECT 1' >/dev/null \
    || die "cannot log in to PostgreSQL on 127.0.0.1:$pg_port with the test password"
  log "PostgreSQL ready on 127.0.0.1:$pg_port"
}

ensure_redis() {
  if [ -n "${MICROSECURE_TEST_REDIS:-}" ]; then
    log "Redis: using MICROSECURE_TEST_REDIS"
    return
  fi
  command -v redis-server >/dev/null || apt_install redis-server
  if ! redis-cli -h 127.0.0.1 -p "$redis_port" ping 2>/dev/null | grep -q PONG; then
    log "starting Redis on 127.0.0.1:$redis_port"
    redis-server --bind 127.0.0.1 --port "$redis_port" --daemonize yes --save '' --appendonly no >/dev/null
    wait_for "Redis" sh -c "redis-cli -h 127.0.0.1 -p $redis_port ping | grep -q PONG"
  fi
  export MICROSECURE_TEST_REDIS="127.0.0.1:$redis_port"
  log "Redis ready on 127.0.0.1:$redis_port"
}

ensure_chromium() {
  # The dashboard's browser tests drive Debian's Chromium through Playwright; Playwright never downloads one.
  if [ -n "${MICROSECURE_CHROMIUM:-}" ]; then
    log "Chromium: using MICROSECURE_CHROMIUM"
    return
  fi
  [ -x /usr/bin/chromium ] || apt_install chromium
  export MICROSECURE_CHROMIUM=/usr/bin/chromium
  log "Chromium ready at $MICROSECURE_CHROMIUM"
}

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
