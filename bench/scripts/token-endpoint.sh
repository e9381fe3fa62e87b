#!/usr/bin/env bash
# Token endpoint throughput (client credentials) of the real identity service on PostgreSQL, with wrk on
# loopback, next to the discovery document served by the same process in the same run (the baseline:
# same pipeline, no client authentication, no signing). Needs wrk, PostgreSQL and a Release build:
#   dotnet build -c Release services/Identity
#   MICROSECURE_BENCH_POSTGRES="Host=127.0.0.1;Username=postgres;Password=..." bench/scripts/token-endpoint.sh [seconds]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
seconds="${1:-10}"
port="${MICROSECURE_BENCH_PORT:-5199}"
secret="bench-client-secret-0123456789abcdefghij"
work="$(mktemp -d)"
trap 'kill "$pid" 2>/dev/null || true; cp "$work/identity.log" /tmp/identity-bench.log 2>/dev/null; rm -rf "$work"' EXIT

cat > "$work/token.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.body = "grant_type=client_credentials&client_id=orders-service&client_secret=$secret&scope=catalog%3Aread"
LUA

# env: the client's variable name has a '-', which a shell assignment cannot carry. The service reads its
# appsettings.json from its working directory, the build output.
cd "$root/services/Identity/bin/Release/net10.0"
env ASPNETCORE_ENVIRONMENT=Development ASPNETCORE_URLS="http://127.0.0.1:$port" \
  Logging__LogLevel__Default=Warning \
  Storage__Provider=postgres \
  ConnectionStrings__identitydb="${MICROSECURE_BENCH_POSTGRES:?set MICROSECURE_BENCH_POSTGRES};Database=identity_bench" \
  "Identity__Clients__orders-service__Secret=$secret" \
  Security__RateLimiting__Policies__auth__PermitLimit=100000000 \
  Security__RateLimiting__Policies__global__PermitLimit=100000000 \
  dotnet MicroSecure.Identity.dll > "$work/identity.log" 2>&1 &
pid=$!
for _ in $(seq 1 60); do curl -sf "http://127.0.0.1:$port/health" >/dev/null && break; sleep 0.5; done

run() { wrk -t1 -c16 -d"${seconds}s" --latency "$@" | awk '/Requests\/sec/ { rps = $2 } / 99%/ { p99 = $2 } /Non-2xx/ { bad = $0 } END { print rps, p99, bad }'; }
run -d3s "http://127.0.0.1:$port/.well-known/openid-configuration" >/dev/null
run -d3s -s "$work/token.lua" "http://127.0.0.1:$port/connect/token" >/dev/null
curl -sf -o /dev/null "http://127.0.0.1:$port/connect/token" -d grant_type=client_credentials -d client_id=orders-service -d client_secret=$secret -d scope=catalog%3Aread \
  || { echo "the token request failed; see the service log"; exit 1; }
for round in 1 2; do
  echo "discovery  $(run "http://127.0.0.1:$port/.well-known/openid-configuration")"
  echo "token      $(run -s "$work/token.lua" "http://127.0.0.1:$port/connect/token")"
done
