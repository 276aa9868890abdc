# Sourced by scripts that run a stack of their own beside others (deploy/gateway-check.sh,
# deploy/results-check.sh) as `source deploy/local/isolated-stack.sh <name> [port base]`:
# - builds the debug binaries of every process deploy/local/start.sh starts, and points the
#   stack at them;
# - exports a run directory, a database and NATS and Redis prefixes named after <name> and the
#   calling shell, so nothing touches the developer's local stack or its database;
# - exports every DTI_LOCAL_*_PORT of deploy/local/stack.env on a block of twelve ports below
#   the kernel's ephemeral range (32768 and up), where no outgoing connection of a service
#   started a moment earlier can take one; the block is probed (its ports and their metrics
#   twins, +1000, must all be free) unless a base is given;
# - stops the stack, drops its database and removes the run directory when the script exits.
isolated_stack_name=$1
echo "$isolated_stack_name: building the debug binaries" >&2
cargo build --locked -q -p dti-submission -p dti-evidence -p dti-scoring -p dti-ranking \
  -p dti-verification -p dti-national-sync -p dti-gateway -p dti-national-receiver -p dtictl \
  -p dti-results-site
run_dir=$(mktemp -d "${TMPDIR:-/tmp}/dti-$isolated_stack_name.XXXXXX")
export DTI_LOCAL_RUN_DIR=$run_dir
export DTI_LOCAL_DATABASE=dti_${isolated_stack_name//-/_}_$$
export DTI_LOCAL_NATS_PREFIX=$DTI_LOCAL_DATABASE
export DTI_LOCAL_REDIS_PREFIX="dti:$isolated_stack_name-$$:"
export DTI_LOCAL_BINARIES=$CARGO_TARGET_DIR/debug

isolated_ports_base() {
  python3 - <<'PY'
import random, socket
def free(port):
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False
for base in random.sample(range(20000, 30880, 20), 200):
    if all(free(base + i) and free(base + i + 1000) for i in range(1, 12)):
        print(base)
        break
else:
    raise SystemExit("no free block of ports between 20000 and 31000")
PY
}
isolated_ports_block=${2:-$(isolated_ports_base)}
export DTI_LOCAL_SUBMISSION_PORT=$((isolated_ports_block + 1))
export DTI_LOCAL_EVIDENCE_PORT=$((isolated_ports_block + 2))
export DTI_LOCAL_SCORING_PORT=$((isolated_ports_block + 3))
export DTI_LOCAL_RANKING_PORT=$((isolated_ports_block + 4))
export DTI_LOCAL_VERIFICATION_PORT=$((isolated_ports_block + 5))
export DTI_LOCAL_NATIONAL_SYNC_PORT=$((isolated_ports_block + 6))
export DTI_LOCAL_RECEIVER_PORT=$((isolated_ports_block + 7))
export DTI_LOCAL_GATEWAY_PORT=$((isolated_ports_block + 8))
export DTI_LOCAL_GATEWAY_GRPC_PORT=$((isolated_ports_block + 9))
export DTI_LOCAL_RESULTS_PORT=$((isolated_ports_block + 10))
export DTI_LOCAL_RESULTS_GRPC_PORT=$((isolated_ports_block + 11))

isolated_stack_cleanup() {
  bash deploy/local/stop.sh || true
  source deploy/local/stack.env
  psql -h "$PGHOST" -p "$PGPORT" -U postgres -d postgres -qc \
    "DROP DATABASE IF EXISTS \"$DTI_LOCAL_DATABASE\" WITH (FORCE)" >/dev/null 2>&1 || true
  rm -rf "$run_dir"
}
trap isolated_stack_cleanup EXIT
