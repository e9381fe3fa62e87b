#!/usr/bin/env bash
# The gateway's cost: an authenticated GET /api/catalog/products sent straight to catalog, through a bare
# YARP proxy, and through the real gateway (JWT validation, Redis rate limits, headers, events), loaded
# alternately by wrk on loopback in one run. Needs wrk, PostgreSQL, Redis and Release builds:
#   dotnet build -c Release services/Identity services/Catalog services/Gateway bench/MicroSecure.Benchmarks
#   MICROSECURE_BENCH_POSTGRES="Host=127.0.0.1;Username=postgres;Password=..." bench/scripts/gateway.sh [seconds]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
seconds="${1:-10}"
pg="${MICROSECURE_BENCH_POSTGRES:?set MICROSECURE_BENCH_POSTGRES}"
redis="${MICROSECURE_BENCH_REDIS:-127.0.0.1:6379}"
identity=http://127.0.0.1:5191 catalog=http://127.0.0.1:5192 gateway=http://127.0.0.1:5193 bare=http://127.0.0.1:5194
secret="bench-client-secret-0123456789abcdefghij"
# shellcheck source=lib.sh
source "$root/bench/scripts/lib.sh"
unlimited=(Security__RateLimiting__Policies__global__PermitLimit=100000000 Security__RateLimiting__Policies__per-user__PermitLimit=100000000
           Security__RateLimiting__Policies__auth__PermitLimit=100000000 Logging__LogLevel__Default=Warning)


start identity services/Identity/bin/Release/net10.0 "$identity" ASPNETCORE_ENVIRONMENT=Development "${unlimited[@]}" \
  Storage__Provider=postgres "ConnectionStrings__identitydb=$pg;Database=identity_bench" "Identity__Clients__orders-service__Secret=$secret" \
  "Identity__Issuer=$identity" dotnet MicroSecure.Identity.dll
jwt=(Security__Jwt__Authority="$identity" Security__Jwt__RequireHttpsMetadata=false ConnectionStrings__redis="$redis")
start catalog services/Catalog/bin/Release/net10.0 "$catalog" ASPNETCORE_ENVIRONMENT=Development "${unlimited[@]}" "${jwt[@]}" \
  Storage__Provider=postgres "ConnectionStrings__catalogdb=$pg;Database=catalog_bench" dotnet MicroSecure.Catalog.dll
start gateway services/Gateway/bin/Release/net10.0 "$gateway" ASPNETCORE_ENVIRONMENT=Development "${unlimited[@]}" "${jwt[@]}" \
  ReverseProxy__Clusters__catalog__Destinations__catalog__Address="$catalog" dotnet MicroSecure.Gateway.dll
(cd "$root/bench/MicroSecure.Benchmarks/bin/Release/net10.0" && exec dotnet MicroSecure.Benchmarks.dll bare-proxy "$bare" "$catalog") > "$logs/bare.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 60); do curl -sf -o /dev/null "$bare/api/catalog/products" && break; sleep 0.5; done

token=$(curl -sf "$identity/connect/token" -d grant_type=client_credentials -d client_id=orders-service -d client_secret=$secret -d scope=catalog%3Aread \
  | sed -nE 's/.*"access_token": *"([^"]+)".*/\1/p')
[ -n "$token" ] || { echo "no token; see $logs"; exit 1; }

run() { wrk -t1 -c32 -d"$2" --latency -H "Authorization: Bearer $token" "$1/api/catalog/products?pageSize=5" \
  | awk '/Requests\/sec/ { rps = $2 } / 99%/ { p99 = $2 } /Non-2xx/ { bad = $0 } END { print rps, p99, bad }'; }
for url in "$catalog" "$bare" "$gateway"; do run "$url" 3s >/dev/null; done   # warm-up
echo "wrk: 1 thread, 32 connections, ${seconds} s per run; req/s p99"
for round in 1 2; do
  echo "direct   $(run "$catalog" "${seconds}s")"
  echo "bare     $(run "$bare" "${seconds}s")"
  echo "gateway  $(run "$gateway" "${seconds}s")"
done
