#!/usr/bin/env bash
# The project's main job, end to end on this machine:
#  1. starts the whole stack as local processes (deploy/local/start.sh: PostgreSQL, NATS and
#     Redis ensured; every service built and started);
#  2. an operator opens the 2023 district round (dtictl round open);
#  3. the 22 units of the sample cohort (deploy/samples) submit their self-assessment through
#     the submission service, each as its own unit submitter (dtictl submit);
#  4. prints the exact ranking of the same inputs computed by dtictl with the engine the
#     scoring service uses, and writes the contract's JSON beside it;
#  5. stops the stack (pass --keep to leave it running).
# Re-running continues from the state it finds in the local database: a round an earlier run
# opened is not opened again, and unchanged submissions create no new version.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-/var/tmp/dti-target}

keep=0
sample=deploy/samples/hcm-2023-districts.json
for arg in "$@"; do
  case "$arg" in
    --keep) keep=1 ;;
    *) sample=$arg ;;
  esac
done

bash deploy/local/start.sh
source deploy/local/stack.env
if [ "$keep" -eq 0 ]; then trap 'bash deploy/local/stop.sh' EXIT; fi

dtictl="$CARGO_TARGET_DIR/release/dtictl"
export DTI_AUTH_HS256_SECRET
DTI_AUTH_HS256_SECRET=$(cat "$DTI_LOCAL_RUN_DIR/hs256-secret")
export DTI_SUBMISSION_ENDPOINT="http://127.0.0.1:$DTI_LOCAL_SUBMISSION_PORT"
framework=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["framework"])' "$sample")

echo "== an operator opens round 2023/$framework"
if existing=$("$dtictl" round show --year 2023 --framework "$framework" 2>/dev/null); then
  echo "$existing (opened by an earlier run: continuing from its state)"
else
  "$dtictl" round open --year 2023 --framework "$framework"
fi
echo "== each unit submits its self-assessment"
"$dtictl" submit --year 2023 --input "$sample"
echo "== the round as stored"
"$dtictl" round show --year 2023 --framework "$framework"
echo "== the exact ranking of these inputs"
mkdir -p "$DTI_LOCAL_RUN_DIR"
"$dtictl" score --input "$sample" > "$DTI_LOCAL_RUN_DIR/scores.json"
"$dtictl" score --input "$sample" --format table
echo "scores of every indicator and group: $DTI_LOCAL_RUN_DIR/scores.json"
echo "audit chain:"
"$dtictl" audit verify --year 2023 --framework "$framework" \
  --database-url "postgres://postgres@$PGHOST:$PGPORT/$DTI_LOCAL_DATABASE"
if [ "$keep" -eq 1 ]; then
  echo "the stack keeps running; stop it with: bash deploy/local/stop.sh"
fi
