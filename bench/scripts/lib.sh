# Shared by the bench scripts: start a built service in its build folder (where its appsettings.json is) and
# wait for its /health; everything started is stopped on exit. Source it after setting "root".
pids=()
logs="$(mktemp -d)"
trap 'kill "${pids[@]}" 2>/dev/null || true' EXIT

start() { # label, build folder (absolute, or under the repository), url, command...
  local label="$1" folder="$2" url="$3"; shift 3
  [[ "$folder" == /* ]] || folder="$root/$folder"
  (cd "$folder" && exec env ASPNETCORE_URLS="$url" "$@") > "$logs/$label.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 1 120); do curl -sf -o /dev/null "$url/health" && return; sleep 0.5; done
  echo "$label did not start; its log is in $logs"; exit 1
}
