#!/usr/bin/env bash
# The gateway's own cost. Table 1: one trivial backend (static JSON from memory) behind a bare YARP proxy,
# nginx with limit_req and the gateway's security headers, and the real gateway (JWT validation of a real
# client-credentials token from the PostgreSQL-backed identity server, Redis rate limits and revocation
# list, headers, events, telemetry); wrk loads them in alternating rounds on loopback. Table 2: the same
# request to the real catalog service, direct, through bare YARP and through the gateway (PostgreSQL
# dominates there). Needs wrk, nginx (installed with apt when missing), PostgreSQL, Redis, Release builds:
#   dotnet build -c Release services/Identity services/Catalog services/Gateway bench/MicroSecure.Benchmarks
#   MICROSECURE_BENCH_POSTGRES="Host=127.0.0.1;Username=postgres;Password=..." bench/scripts/gateway.sh [seconds] [rounds]
# MICROSECURE_BENCH_TABLES=trivial (or catalog) runs one table only. MICROSECURE_BENCH_GATEWAY="Key=value ..." adds
# settings to the gateway (e.g. Security__RateLimiting__MaxReservation=1 for a Redis round trip on every request).
# MICROSECURE_BENCH_BEFORE=<folder of another Release build of the gateway> (say, of the previous commit, from a
# git worktree) adds it to table 1 as "before", loaded in the same rounds: a change measured against its own
# baseline on this noisy machine. MICROSECURE_BENCH_PROFILE=<folder> instead
# samples the gateway's CPU with perf (apt: linux-perf) under the table-1 load and prints where its time goes.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
seconds="${1:-10}" rounds="${2:-3}" tables="${MICROSECURE_BENCH_TABLES:-trivial catalog}"
pg="${MICROSECURE_BENCH_POSTGRES:?set MICROSECURE_BENCH_POSTGRES}"
redis="${MICROSECURE_BENCH_REDIS:-127.0.0.1:6379}"
identity=http://127.0.0.1:5191 catalog=http://127.0.0.1:5192 gateway=http://127.0.0.1:5193 bare=http://127.0.0.1:5194
backend=http://127.0.0.1:5195 nginx=http://127.0.0.1:5196 before=http://127.0.0.1:5197
secret="bench-client-secret-0123456789abcdefghij"
wrk_args=(-t2 -c32)
# shellcheck source=lib.sh
source "$root/bench/scripts/lib.sh"
command -v wrk >/dev/null && command -v nginx >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk nginx >/dev/null; }
# Limits far above what the load reaches: every request is counted against them, none is refused.
unlimited=(Security__RateLimiting__Policies__global__PermitLimit=100000000 Security__RateLimiting__Policies__per-user__PermitLimit=100000000
           Security__RateLimiting__Policies__auth__PermitLimit=100000000 Logging__LogLevel__Default=Warning)
jwt=(Security__Jwt__Authority="$identity" Security__Jwt__RequireHttpsMetadata=false ConnectionStrings__redis="$redis")
read -r -a extra <<< "${MICROSECURE_BENCH_GATEWAY:-}"

start identity services/Identity/bin/Release/net10.0 "$identity" ASPNETCORE_ENVIRONMENT=Development "${unlimited[@]}" \
  Storage__Provider=postgres "ConnectionStrings__identitydb=$pg;Database=identity_bench" "Identity__Clients__orders-service__Secret=$secret" \
  "Identity__Issuer=$identity" dotnet MicroSecure.Identity.dll
token=$(curl -sf "$identity/connect/token" -d grant_type=client_credentials -d client_id=orders-service -d client_secret=$secret -d scope=catalog%3Aread \
  | sed -nE 's/.*"access_token": *"([^"]+)".*/\1/p')
[ -n "$token" ] || { echo "no token; see $logs"; exit 1; }

bench=bench/MicroSecure.Benchmarks/bin/Release/net10.0
background() { # label, command...: a process with no /health of its own, stopped on exit
  local label="$1"; shift
  (cd "$root/$bench" && exec "$@") > "$logs/$label.log" 2>&1 &
  pids+=($!)
}
ready() { for _ in $(seq 1 60); do curl -sf -o /dev/null -H "Authorization: Bearer $token" "$1" && return; sleep 0.5; done; echo "$1 never answered; see $logs"; exit 1; }

# CPU time (clock ticks) used so far by the processes whose command line matches $1.
cpu_ticks() { local total=0 pid; for pid in $(pgrep -f "$1"); do total=$((total + $(awk '{ print $14 + $15 }' "/proc/$pid/stat" 2>/dev/null || echo 0))); done; echo "$total"; }

# One wrk run against $1 for $2, the proxy's processes matching $3: "req/s p50 p99 non-2xx cpu-us-per-request"
# (latencies in ms). CPU per request is the proxy's own processor time over the requests it answered: on a shared,
# noisy machine it moves far less than req/s, which also pays for whatever else runs.
run() {
  local before after out; before=$(cpu_ticks "$3")
  out="$(wrk "${wrk_args[@]}" -d"$2" --latency -H "Authorization: Bearer $token" "$1")"
  after=$(cpu_ticks "$3")
  awk -v ticks=$((after - before)) -v hz="$(getconf CLK_TCK)" '
    function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /s$/) return v * 1000; return v }
    /requests in/ { n = $1 } /Requests\/sec/ { rps = $2 } / 50%/ { p50 = ms($2) } / 99%/ { p99 = ms($2) } /Non-2xx/ { bad = $4 }
    END { printf "%.0f %.2f %.2f %d %.0f\n", rps, p50, p99, bad + 0, (n > 0 ? ticks * 1000000 / hz / n : 0) }' <<< "$out"
}

# Alternating rounds over "label|url|process pattern" targets; prints each run, then per target the median of
# the rounds, with ratios to $base and $ref (labels).
table() {
  local base="$1" ref="$2"; shift 2
  local results; results="$(mktemp)"
  # Warm-up: JIT tiers (a fresh process still compiles for its first 20 s or so), pools, caches.
  for target in "$@"; do IFS='|' read -r _ url pattern <<< "$target"; run "$url" "${warmup:-15}s" "$pattern" >/dev/null; done
  for round in $(seq 1 "$rounds"); do
    for target in "$@"; do
      IFS='|' read -r label url pattern <<< "$target"
      local line; line="$(run "$url" "${seconds}s" "$pattern")"
      echo "  round $round  $label  $line" >&2
      echo "$label $line" >> "$results"
    done
  done
  median() { awk -v l="$1" -v c="$2" '$1 == l { print $c }' "$results" | sort -n | awk '{ v[NR] = $1 } END { print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'; }
  printf "%-9s %9s %8s %8s %11s %9s %9s %9s %8s\n" target "req/s" "p50 ms" "p99 ms" "CPU us/req" "vs $base" "${ref:+vs $ref}" "CPU x$base" "non-2xx"
  local b_rps b_cpu r_rps; b_rps=$(median "$base" 2); b_cpu=$(median "$base" 6); r_rps=$([ -n "$ref" ] && median "$ref" 2 || echo 0)
  for target in "$@"; do
    IFS='|' read -r label _ _ <<< "$target"
    local rps p50 p99 cpu bad; rps=$(median "$label" 2); p50=$(median "$label" 3); p99=$(median "$label" 4); cpu=$(median "$label" 6)
    bad=$(awk -v l="$label" '$1 == l { s += $5 } END { print s + 0 }' "$results")
    awk -v t="$label" -v rps="$rps" -v p50="$p50" -v p99="$p99" -v cpu="$cpu" -v bad="$bad" -v br="$b_rps" -v bc="$b_cpu" -v rr="$r_rps" -v ref="$ref" 'BEGIN {
      printf "%-9s %9.0f %8.2f %8.2f %11.0f %8.0f%% %9s %9.2f %8d\n", t, rps, p50, p99, cpu, 100 * rps / br, (ref == "" ? "" : sprintf("%.0f%%", 100 * rps / rr)), cpu / bc, bad }'
  done
  awk -v g="$(median gateway 4)" -v b="$(median "$base" 4)" 'BEGIN { printf "p99: the gateway %.2f ms, %.2fx %s\n", g, g / b, "bare YARP" }'
}

if [[ " $tables " == *" trivial "* ]]; then
  background backend dotnet MicroSecure.Benchmarks.dll backend "$backend"
  ready "$backend/api/catalog/bench"
  background bare-trivial dotnet MicroSecure.Benchmarks.dll bare-proxy "$bare" "$backend"
  ready "$bare/api/catalog/bench"
  # nginx: the same backend, a limit_req zone per client address, the headers the gateway adds to an API answer.
  conf="$logs/nginx.conf"
  sed -e "s|@PORT@|${nginx##*:}|; s|@BACKEND@|${backend#http://}|; s|@LOGS@|$logs|g" "$root/bench/scripts/nginx.conf" > "$conf"
  nginx -c "$conf" -p "$logs" -g "pid $logs/nginx.pid;"
  trap 'kill "${pids[@]}" 2>/dev/null || true; [ -f "$logs/nginx.pid" ] && kill "$(cat "$logs/nginx.pid")" 2>/dev/null || true' EXIT
  ready "$nginx/api/catalog/bench"
  profiling=(); [ -n "${MICROSECURE_BENCH_PROFILE:-}" ] && profiling=(DOTNET_PerfMapEnabled=1 DOTNET_EnableWriteXorExecute=0)
  start gateway services/Gateway/bin/Release/net10.0 "$gateway" ASPNETCORE_ENVIRONMENT=Development "${unlimited[@]}" "${jwt[@]}" "${profiling[@]}" "${extra[@]}" \
    ReverseProxy__Clusters__catalog__Destinations__catalog__Address="$backend" dotnet MicroSecure.Gateway.dll
  ready "$gateway/api/catalog/bench"
  compare=()
  if [ -n "${MICROSECURE_BENCH_BEFORE:-}" ]; then
    # Started as ./MicroSecure.Gateway.dll, so its processor time is told apart from the gateway's.
    start before "$MICROSECURE_BENCH_BEFORE" "$before" ASPNETCORE_ENVIRONMENT=Development "${unlimited[@]}" "${jwt[@]}" "${extra[@]}" \
      ReverseProxy__Clusters__catalog__Destinations__catalog__Address="$backend" dotnet ./MicroSecure.Gateway.dll
    ready "$before/api/catalog/bench"
    compare=("before|$before/api/catalog/bench|^dotnet ./MicroSecure.Gateway.dll")
  fi
  if [ -n "${MICROSECURE_BENCH_PROFILE:-}" ]; then
    # Where the gateway's time goes: perf samples of its CPU under the table-1 load (the runtime writes a map
    # of its compiled code so perf can name .NET frames), self time by function and time inside each component.
    run "$gateway/api/catalog/bench" 20s MicroSecure.Gateway.dll >/dev/null
    gateway_pid=$(pgrep -f "^dotnet MicroSecure.Gateway.dll" | head -1)
    mkdir -p "$MICROSECURE_BENCH_PROFILE"
    perf record -e cpu-clock -F 999 -g -p "$gateway_pid" -o "$MICROSECURE_BENCH_PROFILE/perf.data" -- sleep "$seconds" 2>/dev/null &
    tracer=$!
    echo "profiled run: $(run "$gateway/api/catalog/bench" "$((seconds + 1))s" MicroSecure.Gateway.dll)"
    wait "$tracer"
    report() { perf report -i "$MICROSECURE_BENCH_PROFILE/perf.data" --stdio -g none --percent-limit 0.3 "$@" 2>/dev/null \
      | grep -E '^ +[0-9]' | sed -E 's/\[OptimizedTier1\]//; s/ +- +- *$//' | cut -c1-200; }
    echo "by binary:"; report --no-children --sort dso | head -8
    echo "self time by function:"; report --no-children --sort symbol | head -40
    echo "inclusive (synchronous parts of the pipeline's steps):"
    report --children --sort symbol | grep -E 'MicroSecure|Yarp|AspNetCore\.(Authentication|Authorization|RateLimiting|Routing|Http\.Timeouts|Hosting)|OpenTelemetry|SecurityHeaders|StackExchange|IdentityModel|DiagnosticsHandler' | head -50
    exit 0
  fi
  echo "Table 1: trivial backend. wrk ${wrk_args[*]}, ${seconds} s per run, ${rounds} alternating rounds; GET /api/catalog/bench with a bearer token"
  table bare nginx "backend|$backend/api/catalog/bench|MicroSecure.Benchmarks.dll backend" "bare|$bare/api/catalog/bench|MicroSecure.Benchmarks.dll bare-proxy" \
    "nginx|$nginx/api/catalog/bench|nginx: worker" "gateway|$gateway/api/catalog/bench|^dotnet MicroSecure.Gateway.dll" "${compare[@]}"
  kill "${pids[@]:1}" 2>/dev/null || true; kill "$(cat "$logs/nginx.pid")" 2>/dev/null || true; pids=("${pids[0]}"); sleep 1
fi

if [[ " $tables " == *" catalog "* ]]; then
  start catalog services/Catalog/bin/Release/net10.0 "$catalog" ASPNETCORE_ENVIRONMENT=Development "${unlimited[@]}" "${jwt[@]}" \
    Storage__Provider=postgres "ConnectionStrings__catalogdb=$pg;Database=catalog_bench" dotnet MicroSecure.Catalog.dll
  background bare-catalog dotnet MicroSecure.Benchmarks.dll bare-proxy "$bare" "$catalog"
  ready "$bare/api/catalog/products"
  start gateway services/Gateway/bin/Release/net10.0 "$gateway" ASPNETCORE_ENVIRONMENT=Development "${unlimited[@]}" "${jwt[@]}" \
    ReverseProxy__Clusters__catalog__Destinations__catalog__Address="$catalog" dotnet MicroSecure.Gateway.dll
  echo "Table 2: the catalog service (PostgreSQL). Same load; GET /api/catalog/products?pageSize=5"
  table bare "" "direct|$catalog/api/catalog/products?pageSize=5|MicroSecure.Catalog.dll" "bare|$bare/api/catalog/products?pageSize=5|MicroSecure.Benchmarks.dll bare-proxy" \
    "gateway|$gateway/api/catalog/products?pageSize=5|MicroSecure.Gateway.dll"
fi
echo "logs: $logs"
