#!/usr/bin/env bash
# The project's main job: builds dtictl and scores the 2023 district cohort shipped in
# deploy/samples, printing the ranking; the contract's JSON for it is written beside it.
set -euo pipefail
cd "$(dirname "$0")/.."

export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-/var/tmp/dti-target}
cargo build --release --locked -p dtictl
dtictl="$CARGO_TARGET_DIR/release/dtictl"
sample=${1:-deploy/samples/hcm-2023-districts.json}
mkdir -p deploy/local/run
"$dtictl" score --input "$sample" > deploy/local/run/scores.json
"$dtictl" score --input "$sample" --format table
echo "scores of every indicator and group: deploy/local/run/scores.json"
