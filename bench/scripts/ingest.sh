#!/usr/bin/env bash
# Security-event ingestion: the identity server issues the service token, the dashboard's collector stores
# batches of 1000 new events into PostgreSQL, and a binary COPY of the same rows into a bare table is the
# baseline measured in the same run. A second dashboard, the same but for its alert rules (on; the first has
# them off), is loaded in alternation, for the rules' cost as a ratio from one run. Needs PostgreSQL and Release builds:
#   dotnet build -c Release services/Identity dashboard bench/MicroSecure.Benchmarks
#   MICROSECURE_BENCH_POSTGRES="Host=127.0.0.1;Username=postgres;Password=..." bench/scripts/ingest.sh [seconds] [senders]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
seconds="${1:-10}" senders="${2:-4}"
pg="${MICROSECURE_BENCH_POSTGRES:?set MICROSECURE_BENCH_POSTGRES}"
identity=http://127.0.0.1:5191 dashboard=http://127.0.0.1:5195 ruled=http://127.0.0.1:5196
secret="bench-client-secret-0123456789abcdefghij"
# shellcheck source=lib.sh
source "$root/bench/scripts/lib.sh"
common=(ASPNETCORE_ENVIRONMENT=Development Logging__LogLevel__Default=Warning Security__RateLimiting__Policies__global__PermitLimit=100000000
        Security__RateLimiting__Policies__collector__PermitLimit=100000000 Security__RateLimiting__Policies__auth__PermitLimit=100000000)


start identity services/Identity/bin/Release/net10.0 "$identity" "${common[@]}" \
  Storage__Provider=postgres "ConnectionStrings__identitydb=$pg;Database=identity_bench" "Identity__Clients__orders-service__Secret=$secret" \
  "Identity__Issuer=$identity" dotnet MicroSecure.Identity.dll
dashboard_settings=(Security__Jwt__Authority="$identity" Security__Jwt__RequireHttpsMetadata=false
  Dashboard__SignIn__Authority="$identity" Dashboard__SignIn__ClientSecret="$secret" Dashboard__SignIn__RequireHttpsMetadata=false
  Dashboard__Collector__AllowedServices__orders-service__1=bench Dashboard__Audit__StartDelay=01:00:00)
start dashboard dashboard/bin/Release/net10.0 "$dashboard" "${common[@]}" "${dashboard_settings[@]}" \
  Storage__Provider=postgres "ConnectionStrings__securitydb=$pg;Database=security_bench" Dashboard__Alerts__Enabled=false \
  dotnet MicroSecure.Dashboard.dll
start dashboard-rules dashboard/bin/Release/net10.0 "$ruled" "${common[@]}" "${dashboard_settings[@]}" \
  Storage__Provider=postgres "ConnectionStrings__securitydb=$pg;Database=security_bench_rules" \
  dotnet MicroSecure.Dashboard.dll

token=$(curl -sf "$identity/connect/token" -d grant_type=client_credentials -d client_id=orders-service -d client_secret=$secret \
  -d scope=security-events%3Awrite | sed -nE 's/.*"access_token": *"([^"]+)".*/\1/p')
[ -n "$token" ] || { echo "no token; see $logs"; exit 1; }

cd "$root/bench/MicroSecure.Benchmarks/bin/Release/net10.0"
dotnet MicroSecure.Benchmarks.dll ingest "$dashboard/api/security-events" "$token" "$pg;Database=security_bench" "$seconds" "$senders" "$ruled/api/security-events"
