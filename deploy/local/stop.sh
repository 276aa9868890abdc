#!/usr/bin/env bash
# Stops the services started by start.sh: SIGTERM (each drains in-flight work), then waits up to
# 30 s per service before SIGKILL. Leaves PostgreSQL, NATS and Redis running.
set -euo pipefail
cd "$(dirname "$0")/../.."
source deploy/local/stack.env
shopt -s nullglob
for pid_file in "$DTI_LOCAL_RUN_DIR"/*.pid; do
  name=$(basename "$pid_file" .pid)
  pid=$(cat "$pid_file")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid"
    for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    if kill -0 "$pid" 2>/dev/null; then
      printf 'stop: %s did not stop in 30 s; killing it\n' "$name" >&2; kill -KILL "$pid"
    else
      printf 'stop: %s stopped\n' "$name" >&2
    fi
  fi
  rm -f "$pid_file"
done
