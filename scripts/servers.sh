# Sourced by scripts/test.sh and bench/scripts/soak.sh: PostgreSQL, Redis and Chromium on loopback for the
# tests. Uses MICROSECURE_TEST_POSTGRES / MICROSECURE_TEST_REDIS / MICROSECURE_CHROMIUM when set; otherwise
# starts the local PostgreSQL cluster and a Redis server on 127.0.0.1, installing what is missing with apt
# when run as root, and exports those variables. Set "log_name" before sourcing for the log prefix.
pg_password="${MICROSECURE_TEST_PG_PASSWORD:-microsecure-test}"
pg_port="${MICROSECURE_TEST_PG_PORT:-5432}"
redis_port="${MICROSECURE_TEST_REDIS_PORT:-6379}"

log() { printf '[%s] %s\n' "${log_name:-servers}" "$*" >&2; }
die() { printf '[%s] error: %s\n' "${log_name:-servers}" "$*" >&2; exit 1; }
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
