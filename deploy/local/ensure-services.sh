#!/usr/bin/env bash
# Makes sure PostgreSQL, NATS (with JetStream) and Redis answer on this machine, installing
# them from Debian's packages (apt) when they are missing and starting them when they are
# stopped. Idempotent: it changes nothing when all three already answer.
#
# Ports and hosts: PGHOST/PGPORT (127.0.0.1:5432), DTI_NATS_PORT (4222), DTI_REDIS_PORT (6379).
set -euo pipefail

PGHOST=${PGHOST:-127.0.0.1}
PGPORT=${PGPORT:-5432}
NATS_PORT=${DTI_NATS_PORT:-4222}
REDIS_PORT=${DTI_REDIS_PORT:-6379}

log() { printf 'ensure-services: %s\n' "$*" >&2; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    log "need root to run: $*"; return 1; fi
}

apt_updated=0
apt_install() {
  if [ "$apt_updated" -eq 0 ]; then as_root apt-get update -qq; apt_updated=1; fi
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "$@" >/dev/null
}

port_open() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

wait_for_port() {
  local host=$1 port=$2 name=$3
  for _ in $(seq 1 60); do
    if port_open "$host" "$port"; then return 0; fi
    sleep 0.5
  done
  log "$name did not start listening on $host:$port"; return 1
}

ensure_postgres() {
  if ! command -v pg_ctlcluster >/dev/null; then
    log "installing PostgreSQL"; apt_install postgresql postgresql-client
  fi
  if ! command -v pgbench >/dev/null; then apt_install postgresql-contrib || true; fi
  if ! port_open "$PGHOST" "$PGPORT"; then
    log "starting PostgreSQL"
    local version
    version=$(ls /etc/postgresql | sort -V | tail -n 1)
    as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start
    wait_for_port "$PGHOST" "$PGPORT" PostgreSQL
  fi
  if ! psql -h "$PGHOST" -p "$PGPORT" -U postgres -d postgres -Atqc 'select 1' >/dev/null 2>&1; then
    # A fresh Debian cluster asks for passwords over TCP; tests connect as postgres without
    # one, so allow loopback connections (this machine only) and reload.
    local version hba
    version=$(ls /etc/postgresql | sort -V | tail -n 1)
    hba=/etc/postgresql/$version/main/pg_hba.conf
    log "allowing trusted loopback connections in $hba"
    as_root sed -i '1i host all all 127.0.0.1/32 trust\nhost all all ::1/128 trust' "$hba"
    as_root pg_ctlcluster --skip-systemctl-redirect "$version" main reload
    sleep 1
  fi
  psql -h "$PGHOST" -p "$PGPORT" -U postgres -d postgres -Atqc 'select 1' >/dev/null
}

ensure_redis() {
  if ! command -v redis-server >/dev/null; then log "installing Redis"; apt_install redis-server; fi
  if ! port_open 127.0.0.1 "$REDIS_PORT"; then
    log "starting Redis"
    as_root mkdir -p /var/lib/redis /var/log/redis
    as_root redis-server --daemonize yes --bind 127.0.0.1 -::1 --port "$REDIS_PORT" --save "" \
      --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log
    wait_for_port 127.0.0.1 "$REDIS_PORT" Redis
  fi
}

ensure_nats() {
  if [ ! -x /usr/sbin/nats-server ] && ! command -v nats-server >/dev/null; then
    log "installing NATS"; apt_install nats-server
  fi
  if ! port_open 127.0.0.1 "$NATS_PORT"; then
    log "starting NATS with JetStream"
    local binary=/usr/sbin/nats-server
    [ -x "$binary" ] || binary=$(command -v nats-server)
    as_root mkdir -p /var/lib/nats-server
    as_root start-stop-daemon --start --oknodo --background --exec "$binary" -- \
      -a 127.0.0.1 -p "$NATS_PORT" -js -sd /var/lib/nats-server -l /var/log/nats-server.log
    wait_for_port 127.0.0.1 "$NATS_PORT" NATS
  fi
}

if ! command -v psql >/dev/null; then apt_install postgresql-client; fi
ensure_postgres
ensure_redis
ensure_nats
log "PostgreSQL $PGHOST:$PGPORT, NATS 127.0.0.1:$NATS_PORT and Redis 127.0.0.1:$REDIS_PORT are up"
