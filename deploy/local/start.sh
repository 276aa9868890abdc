#!/usr/bin/env bash
# Starts the whole platform as local processes (the six services, the HTTP/JSON gateway and the
# public results site) against the local PostgreSQL, NATS and Redis:
# ensures the backing services, builds the service binaries (release), creates and migrates the
# platform database, writes a development HS256 secret, starts every service with its
# configuration in the environment, and waits until each answers on its gRPC port.
# Idempotent: services already running (pid file alive) are left alone. With DTI_LOCAL_REPLICAS=N
# every service runs N times on one machine (see stack.env), as the pods of a Deployment.
#
# Settings: deploy/local/stack.env. Logs: $DTI_LOCAL_RUN_DIR/<service>.log. Stop: stop.sh.
set -euo pipefail
cd "$(dirname "$0")/../.."
source deploy/local/stack.env
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-/var/tmp/dti-target}

log() { printf 'start: %s\n' "$*" >&2; }

# service name, package, env prefix, gRPC port variable
SERVICES=(
  "submission dti-submission DTI_SUBMISSION_ DTI_LOCAL_SUBMISSION_PORT"
  "evidence dti-evidence DTI_EVIDENCE_ DTI_LOCAL_EVIDENCE_PORT"
  "scoring dti-scoring DTI_SCORING_ DTI_LOCAL_SCORING_PORT"
  "ranking dti-ranking DTI_RANKING_ DTI_LOCAL_RANKING_PORT"
  "verification dti-verification DTI_VERIFICATION_ DTI_LOCAL_VERIFICATION_PORT"
  "national-sync dti-national-sync DTI_NATIONAL_SYNC_ DTI_LOCAL_NATIONAL_SYNC_PORT"
  "gateway dti-gateway DTI_GATEWAY_ DTI_LOCAL_GATEWAY_GRPC_PORT"
  "results-site dti-results-site DTI_RESULTS_SITE_ DTI_LOCAL_RESULTS_GRPC_PORT"
)

if ! [[ $DTI_LOCAL_REPLICAS =~ ^[1-9][0-9]*$ && $DTI_LOCAL_REPLICA_PORT_STEP =~ ^[1-9][0-9]*$ ]]; then
  log "DTI_LOCAL_REPLICAS ($DTI_LOCAL_REPLICAS) and DTI_LOCAL_REPLICA_PORT_STEP ($DTI_LOCAL_REPLICA_PORT_STEP) must be whole numbers of at least 1"
  exit 2
fi
if [ -n "$DTI_LOCAL_TENANT" ] && ! [[ $DTI_LOCAL_TENANT =~ ^[a-z][a-z0-9-]{0,31}$ ]]; then
  log "DTI_LOCAL_TENANT ($DTI_LOCAL_TENANT) must be a tenant id: a lowercase letter, then up to 31 lowercase letters, digits or '-'"
  exit 2
fi
replicas=$(seq 1 "$DTI_LOCAL_REPLICAS")
# Replica r's ports are replica 1's + offset r; its pid file and log carry suffix r.
offset() { echo $(( ($1 - 1) * DTI_LOCAL_REPLICA_PORT_STEP )); }
suffix() { if [ "$1" -eq 1 ]; then echo ""; else echo "-$1"; fi; }

bash deploy/local/ensure-services.sh
mkdir -p "$DTI_LOCAL_RUN_DIR"
run_dir=$(cd "$DTI_LOCAL_RUN_DIR" && pwd)

# Only the services whose crate exists in this checkout.
present=()
packages=()
for entry in "${SERVICES[@]}"; do
  read -r name package _ _ <<<"$entry"
  if [ -f "services/$name/Cargo.toml" ]; then present+=("$entry"); packages+=(-p "$package"); fi
done
if [ "$DTI_LOCAL_BINARIES" = release ]; then
  log "building ${#present[@]} service(s), dtictl and the national receiver (release)"
  cargo build --release --locked -p dtictl -p dti-national-receiver "${packages[@]}"
  bin="$CARGO_TARGET_DIR/release"
else
  bin=$DTI_LOCAL_BINARIES
  log "using the binaries in $bin"
fi

if ! psql -h "$PGHOST" -p "$PGPORT" -U postgres -d postgres -Atqc \
  "SELECT 1 FROM pg_database WHERE datname = '$DTI_LOCAL_DATABASE'" | grep -q 1; then
  log "creating database $DTI_LOCAL_DATABASE"
  psql -h "$PGHOST" -p "$PGPORT" -U postgres -d postgres -qc "CREATE DATABASE \"$DTI_LOCAL_DATABASE\""
fi
database_url="postgres://postgres@$PGHOST:$PGPORT/$DTI_LOCAL_DATABASE"
env -u DTI_TENANT "$bin/dtictl" migrate --database-url "$database_url" \
  ${DTI_LOCAL_TENANT:+--tenant "$DTI_LOCAL_TENANT"}

secret_file="$run_dir/hs256-secret"
if [ ! -s "$secret_file" ]; then
  (umask 077; head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$secret_file")
fi
secret=$(cat "$secret_file")
# The national receiver's control endpoints (what it accepted, faults) answer this token only.
control_token_file="$run_dir/receiver-control-token"
if [ ! -s "$control_token_file" ]; then
  (umask 077; head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$control_token_file")
fi
# The results site signs every snapshot download with an Ed25519 key of the stack's own.
signing_key_file="$run_dir/results-signing-key.pem"
if [ ! -s "$signing_key_file" ]; then
  if command -v openssl >/dev/null; then
    (umask 077; openssl genpkey -algorithm ed25519 -out "$signing_key_file")
  else
    log "openssl is missing: the results site will serve its snapshots unsigned"
  fi
fi

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
# A port this stack is about to use must be free: a process of another stack (another run
# directory) answering there would take this stack's requests with the wrong secret.
require_free() {
  local what=$1 port=$2 variable=$3
  if port_open "$port"; then
    log "$what: port $port is already in use by a process this stack did not start;"
    log "stop it (a stack of another run directory: DTI_LOCAL_RUN_DIR=<dir> bash deploy/local/stop.sh) or set $variable"
    exit 1
  fi
}

# Settings of one service's own `[service]` section, as NAME=value words; $3 is the replica's
# port offset (a gateway or results site talks to the services of its own replica).
service_env() {
  local name=$1 prefix=$2 offset=$3
  case "$name" in
    evidence) mkdir -p "$run_dir/evidence-objects"; echo "${prefix}SERVICE__STORAGE__ROOT=$run_dir/evidence-objects" ;;
    verification) echo "${prefix}SERVICE__PROVISIONAL_PERIOD_SECS=$DTI_LOCAL_PROVISIONAL_PERIOD_SECS" ;;
    national-sync)
      echo "${prefix}SERVICE__NATIONAL__ENDPOINT=http://127.0.0.1:$DTI_LOCAL_RECEIVER_PORT"
      echo "${prefix}SERVICE__NATIONAL__ALLOW_PLAIN_HTTP=true" ;;
    gateway)
      echo "${prefix}SERVICE__HTTP_LISTEN_ADDR=127.0.0.1:$((DTI_LOCAL_GATEWAY_PORT + offset))"
      echo "${prefix}SERVICE__RATE_LIMIT_PER_SECOND=$DTI_LOCAL_GATEWAY_RATE_PER_SECOND"
      echo "${prefix}SERVICE__RATE_LIMIT_BURST=$DTI_LOCAL_GATEWAY_RATE_BURST"
      local backend variable
      for backend in submission evidence scoring ranking verification national_sync; do
        variable=DTI_LOCAL_${backend^^}_PORT
        echo "${prefix}SERVICE__BACKENDS__${backend^^}=http://127.0.0.1:$((${!variable} + offset))"
      done ;;
    results-site)
      echo "${prefix}SERVICE__HTTP_LISTEN_ADDR=127.0.0.1:$((DTI_LOCAL_RESULTS_PORT + offset))"
      echo "${prefix}SERVICE__VERIFICATION_ENDPOINT=http://127.0.0.1:$((DTI_LOCAL_VERIFICATION_PORT + offset))"
      echo "${prefix}SERVICE__SUBMISSION_ENDPOINT=http://127.0.0.1:$((DTI_LOCAL_SUBMISSION_PORT + offset))"
      if [ -s "$signing_key_file" ]; then
        echo "${prefix}SERVICE__SIGNING_KEY_PATH=$signing_key_file"
      fi ;;
  esac
}

# The reference national receiver: the national DTI system's stand-in, keeping what it
# accepted in memory (GET /control/state with the bearer token in $run_dir/receiver-control-token).
receiver_pid="$run_dir/national-receiver.pid"
if [ -f "$receiver_pid" ] && kill -0 "$(cat "$receiver_pid")" 2>/dev/null; then
  log "national receiver already running (pid $(cat "$receiver_pid"))"
else
  require_free "national receiver" "$DTI_LOCAL_RECEIVER_PORT" DTI_LOCAL_RECEIVER_PORT
  log "starting the national receiver on 127.0.0.1:$DTI_LOCAL_RECEIVER_PORT"
  DTI_NATIONAL_RECEIVER_CONTROL_TOKEN=$(cat "$control_token_file") \
    nohup "$bin/dti-national-receiver" --listen "127.0.0.1:$DTI_LOCAL_RECEIVER_PORT" \
    >"$run_dir/national-receiver.log" 2>&1 &
  echo $! >"$receiver_pid"
fi

for entry in "${present[@]}"; do
  read -r name package prefix port_var <<<"$entry"
  for replica in $replicas; do
    instance=$name$(suffix "$replica")
    pid_file="$run_dir/$instance.pid"
    if [ -f "$pid_file" ] && kill -0 "$(cat "$pid_file")" 2>/dev/null; then
      log "$instance already running (pid $(cat "$pid_file"))"; continue
    fi
    shift_by=$(offset "$replica")
    port=$((${!port_var} + shift_by))
    require_free "$instance" "$port" "$port_var"
    require_free "$instance metrics" "$((port + 1000))" "$port_var"
    if [ "$name" = results-site ]; then
      require_free "$instance HTTP" "$((DTI_LOCAL_RESULTS_PORT + shift_by))" DTI_LOCAL_RESULTS_PORT
    fi
    if [ "$name" = gateway ]; then
      require_free "$instance HTTP" "$((DTI_LOCAL_GATEWAY_PORT + shift_by))" DTI_LOCAL_GATEWAY_PORT
    fi
    log "starting $instance on 127.0.0.1:$port (log $run_dir/$instance.log)"
    # The service reads every ${prefix}* variable as one of its settings and refuses unknown
    # ones, so variables of that prefix inherited from the caller (say dtictl's
    # ${prefix}ENDPOINT) are not passed on: the stack sets this service's settings itself.
    inherited=()
    for variable in $(compgen -e); do
      if [[ $variable == "$prefix"* ]]; then
        log "$instance: not passing the inherited $variable"; inherited+=(-u "$variable")
      fi
    done
    env "${inherited[@]}" "${prefix}DATABASE_URL=$database_url" \
        "${prefix}DATABASE_MAX_CONNECTIONS=$DTI_LOCAL_DATABASE_MAX_CONNECTIONS" \
        "${prefix}NATS_URL=nats://127.0.0.1:$DTI_NATS_PORT" \
        "${prefix}NATS_PREFIX=$DTI_LOCAL_NATS_PREFIX" \
        "${prefix}REDIS_URL=redis://127.0.0.1:$DTI_REDIS_PORT" \
        "${prefix}REDIS_KEY_PREFIX=$DTI_LOCAL_REDIS_PREFIX$name:" \
        "${prefix}GRPC_LISTEN_ADDR=127.0.0.1:$port" \
        "${prefix}METRICS_LISTEN_ADDR=127.0.0.1:$((port + 1000))" \
        "${prefix}AUTH_HS256_SECRET=$secret" \
        "${prefix}TELEMETRY_LOG_FORMAT=json" \
        ${DTI_LOCAL_TENANT:+"${prefix}AUTH_TENANT=$DTI_LOCAL_TENANT"} \
        $(service_env "$name" "$prefix" "$shift_by") \
        nohup "$bin/$package" >"$run_dir/$instance.log" 2>&1 &
    echo $! >"$pid_file"
  done
done

for entry in "${present[@]}"; do
  read -r name _ _ port_var <<<"$entry"
  for replica in $replicas; do
    instance=$name$(suffix "$replica")
    port=$((${!port_var} + $(offset "$replica")))
    for _ in $(seq 1 120); do
      port_open "$port" && break
      if ! kill -0 "$(cat "$run_dir/$instance.pid")" 2>/dev/null; then
        log "$instance exited; last lines of its log:"; tail -n 20 "$run_dir/$instance.log" >&2; exit 1
      fi
      sleep 0.5
    done
    port_open "$port" || { log "$instance did not open port $port"; exit 1; }
  done
done
log "stack is up: ${#present[@]} service(s) × $DTI_LOCAL_REPLICAS replica(s)${DTI_LOCAL_TENANT:+ of tenant $DTI_LOCAL_TENANT}; development secret in $secret_file"
