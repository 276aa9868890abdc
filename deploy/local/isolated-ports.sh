# Sourced by scripts that start a stack of their own beside others (deploy/gateway-check.sh,
# deploy/results-check.sh): exports every DTI_LOCAL_*_PORT of deploy/local/stack.env on a block
# of twelve ports below the kernel's ephemeral range (32768 and up), where no outgoing
# connection of a service started a moment earlier can take one. The block is probed: its
# ports and their metrics twins (+1000) must all be free. `$1` fixes the block's base instead.
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
isolated_ports_block=${1:-$(isolated_ports_base)}
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
