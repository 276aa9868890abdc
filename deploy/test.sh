#!/usr/bin/env bash
# The project's test command: brings up PostgreSQL, NATS and Redis if they are missing or
# stopped, then runs every test of the workspace against them. Extra arguments go to cargo test.
set -euo pipefail
cd "$(dirname "$0")/.."

export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-/var/tmp/dti-target}
# Incremental caches multiply the size of the target directory; CI builds do not need them.
export CARGO_INCREMENTAL=${CARGO_INCREMENTAL:-0}
export CARGO_TERM_COLOR=${CARGO_TERM_COLOR:-never}

bash deploy/local/ensure-services.sh
# The scoring oracle test runs an independent Python reading of the contract.
if ! command -v python3 >/dev/null; then
  sudo_or_root=$([ "$(id -u)" -eq 0 ] && echo "" || echo sudo)
  $sudo_or_root apt-get update -qq && $sudo_or_root apt-get install -y -qq python3 >/dev/null
fi

cargo test --workspace --locked "$@"
