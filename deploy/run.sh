#!/usr/bin/env bash
# The project's main job: a whole 2023 assessment year of the city on this machine.
#  1. starts the whole stack as local processes (deploy/local/start.sh: PostgreSQL, NATS and
#     Redis ensured; every service, dtictl and the reference national receiver built in
#     release mode and started), on a fresh database of its own for this run;
#  2. for both 2023 cohorts (the 22 districts with Thủ Đức City, and the departments): an
#     operator opens the round; every unit submits its self-assessment (deploy/samples); a few
#     units attach evidence; the round closes; verifiers decide from a decisions file (adjusted
#     values with reasons), ask one district for a clarification that it answers by
#     resubmitting, and complete; the chairman approves; the result is published
#     provisionally; one objection is answered with a correction; the round is finalized;
#  3. the data owners submit the national set's values (Phụ lục III) from a sample file; the
#     national sync runs a dry run, then pushes to the reference national receiver; the
#     reconciliation report is printed;
#  4. checks that every published score and every rank the ranking service serves equals
#     `dtictl score` of the verified inputs, rebuilt from the files people gave (fails loudly
#     otherwise), and that the audit chains hold;
#  5. prints where to look next, and stops the stack (pass --keep to leave it running).
#
# Each run starts a new year on a new database (dti_year_<date>_<time>, NATS and Redis
# prefixes of the same name), so running it again always works; earlier runs' databases are
# kept for inspection (--clean drops them first). Set DTI_LOCAL_DATABASE to choose the name,
# DTI_LOCAL_REPLICAS=2 to run every service twice, and DTI_LOCAL_TENANT (with another
# DTI_LOCAL_PORT_BASE) to run a tenant's year beside another's (deploy/local/stack.env,
# docs/tenants.md).
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-/var/tmp/dti-target}

keep=0
clean=0
for arg in "$@"; do
  case "$arg" in
    --keep) keep=1 ;;
    --clean) clean=1 ;;
    *) echo "usage: deploy/run.sh [--keep] [--clean]" >&2; exit 2 ;;
  esac
done

if ! command -v python3 >/dev/null; then
  sudo_or_root=$([ "$(id -u)" -eq 0 ] && echo "" || echo sudo)
  $sudo_or_root apt-get update -qq && $sudo_or_root apt-get install -y -qq python3 >/dev/null
fi

# With a tenant, the names carry it: each tenant's year is its own.
tenant=${DTI_LOCAL_TENANT:-}
run_name=${DTI_LOCAL_DATABASE:-dti_year_$(date -u +%Y%m%d_%H%M%S)${tenant:+_$tenant}}
export DTI_LOCAL_DATABASE=$run_name
export DTI_LOCAL_NATS_PREFIX=${DTI_LOCAL_NATS_PREFIX:-$run_name}
export DTI_LOCAL_REDIS_PREFIX=${DTI_LOCAL_REDIS_PREFIX:-dti:$run_name:}
source deploy/local/stack.env

step() { printf '\n== %s\n' "$*"; }
# Runs a command, keeps its whole output in the year's directory and shows its first line.
brief() { local name=$1; shift; "$@" >"$out/$name.txt"; head -n 1 "$out/$name.txt"; }

# A stack an earlier run left running (--keep) serves another database: stop it first.
bash deploy/local/stop.sh
if [ "$clean" -eq 1 ]; then
  bash deploy/local/ensure-services.sh
  for old in $(psql -h "$PGHOST" -p "$PGPORT" -U postgres -d postgres -Atqc \
      "SELECT datname FROM pg_database WHERE datname LIKE 'dti\_year\_%'"); do
    echo "dropping the database of an earlier run: $old"
    psql -h "$PGHOST" -p "$PGPORT" -U postgres -d postgres -qc "DROP DATABASE \"$old\" WITH (FORCE)"
  done
fi
bash deploy/local/start.sh
started=$SECONDS
if [ "$keep" -eq 0 ]; then trap 'bash deploy/local/stop.sh' EXIT; fi

if [ "$DTI_LOCAL_BINARIES" = release ]; then bin="$CARGO_TARGET_DIR/release"; else bin=$DTI_LOCAL_BINARIES; fi
dtictl() { "$bin/dtictl" "$@"; }
export DTI_AUTH_HS256_SECRET
DTI_AUTH_HS256_SECRET=$(cat "$DTI_LOCAL_RUN_DIR/hs256-secret")
# dtictl's development tokens carry the stack's tenant, which every service requires.
if [ -n "$tenant" ]; then export DTI_TENANT=$tenant; else unset DTI_TENANT; fi
# dtictl and the results-site check talk to the services of replica ((k - 1) mod N) + 1 for the
# k-th part of the year: with several replicas (DTI_LOCAL_REPLICAS) the parts go through
# different ones, as a load balancer in front of the pods would spread them.
use_replica() {
  local replica=$(( ($1 - 1) % DTI_LOCAL_REPLICAS + 1 ))
  local shift_by=$(( (replica - 1) * DTI_LOCAL_REPLICA_PORT_STEP ))
  export DTICTL_SUBMISSION_ENDPOINT="http://127.0.0.1:$((DTI_LOCAL_SUBMISSION_PORT + shift_by))"
  export DTICTL_EVIDENCE_ENDPOINT="http://127.0.0.1:$((DTI_LOCAL_EVIDENCE_PORT + shift_by))"
  export DTICTL_SCORING_ENDPOINT="http://127.0.0.1:$((DTI_LOCAL_SCORING_PORT + shift_by))"
  export DTICTL_RANKING_ENDPOINT="http://127.0.0.1:$((DTI_LOCAL_RANKING_PORT + shift_by))"
  export DTICTL_VERIFICATION_ENDPOINT="http://127.0.0.1:$((DTI_LOCAL_VERIFICATION_PORT + shift_by))"
  export DTICTL_NATIONAL_SYNC_ENDPOINT="http://127.0.0.1:$((DTI_LOCAL_NATIONAL_SYNC_PORT + shift_by))"
  results_url="http://127.0.0.1:$((DTI_LOCAL_RESULTS_PORT + shift_by))"
  if [ "$DTI_LOCAL_REPLICAS" -gt 1 ]; then echo "(through replica $replica of every service)"; fi
}
use_replica 1
database_url="postgres://postgres@$PGHOST:$PGPORT/$DTI_LOCAL_DATABASE"
out="$DTI_LOCAL_RUN_DIR/year-2023"
mkdir -p "$out"
year=2023
samples=deploy/samples

# One cohort's year, from opening the round to the final result.
#   $1 framework  $2 cohort file  $3 decisions file ("" = accept everything)
#   $4 clarified unit  $5 its indicator  $6 its resubmission file ("" = no clarification)
#   $7 objecting unit  $8 its indicator  $9 correction decisions file
run_round() {
  local framework=$1 cohort=$2 decisions=$3 clarified=$4 clarified_indicator=$5
  local resubmission=$6 objecting=$7 objected_indicator=$8 correction=$9
  local round=(--year "$year" --framework "$framework")

  step "$framework: an operator opens the round"
  dtictl round open "${round[@]}"
  step "$framework: a few units fill in their draft and attach evidence"
  local first_units
  first_units=$(python3 -c 'import json,sys; print(" ".join(u["unit"] for u in json.load(open(sys.argv[1]))["units"][:3]))' "$cohort")
  for unit in $first_units; do
    brief "$framework-draft-$unit" dtictl draft set "${round[@]}" --unit "$unit" --file "$cohort"
    dtictl evidence upload "${round[@]}" --unit "$unit" --indicator 1.1 \
      --file "$samples/evidence/quyet-dinh-ban-chi-dao.pdf" --content-type application/pdf
  done
  step "$framework: every unit submits its self-assessment"
  dtictl submit --year "$year" --input "$cohort" | tail -n 3
  step "$framework: the round closes; progress"
  dtictl round close "${round[@]}"
  dtictl round progress "${round[@]}"

  step "$framework: verification"
  dtictl verify start "${round[@]}"
  local decision_files=()
  if [ -n "$resubmission" ]; then
    dtictl verify clarify "${round[@]}" --unit "$clarified" --indicator "$clarified_indicator" \
      --question "Đề nghị bổ sung số liệu chỉ tiêu $clarified_indicator kèm minh chứng."
    echo "$clarified answers by resubmitting its corrected values"
    brief "$framework-resubmission-draft" dtictl draft set "${round[@]}" --unit "$clarified" --file "$resubmission"
    brief "$framework-resubmission" dtictl draft submit "${round[@]}" --unit "$clarified"
  fi
  if [ -n "$decisions" ]; then
    brief "$framework-decisions" dtictl verify decide "${round[@]}" --file "$decisions"
    decision_files+=(--decisions "$decisions")
  fi
  brief "$framework-accept-the-rest" dtictl verify decide "${round[@]}" --all-accept
  brief "$framework-complete" dtictl verify complete "${round[@]}" --all
  dtictl verify complete-round "${round[@]}"
  dtictl round progress "${round[@]}"

  step "$framework: the chairman approves the verified ranking"
  dtictl approval ranking "${round[@]}" >"$out/$framework-verified-ranking.txt"
  sed -n 1,8p "$out/$framework-verified-ranking.txt"
  dtictl approval approve "${round[@]}"
  step "$framework: published provisionally"
  brief "$framework-publication-1" dtictl publish "${round[@]}"

  step "$framework: $objecting objects to indicator $objected_indicator; answered with a correction"
  brief "$framework-objection" dtictl objection file "${round[@]}" --unit "$objecting" --indicator "$objected_indicator" \
    --reason "Đơn vị đã cung cấp đủ minh chứng cho chỉ tiêu $objected_indicator."
  brief "$framework-correction-decisions" dtictl verify decide "${round[@]}" --file "$correction"
  decision_files+=(--decisions "$correction")
  brief "$framework-publication-2" dtictl correction "${round[@]}" --reason "Chấp nhận kiến nghị của $objecting về chỉ tiêu $objected_indicator."
  local objection_id
  objection_id=$(dtictl --json objection list "${round[@]}" | python3 -c 'import json,sys; print(json.load(sys.stdin)["objections"][0]["objectionId"])')
  brief "$framework-objection-answer" dtictl objection answer --id "$objection_id" --uphold \
    --answer "Đã điều chỉnh kết quả chỉ tiêu $objected_indicator (bản đính chính)."

  step "$framework: the provisional period ($DTI_LOCAL_PROVISIONAL_PERIOD_SECS s here) ends; finalized"
  sleep "$DTI_LOCAL_PROVISIONAL_PERIOD_SECS"
  dtictl finalize "${round[@]}"

  step "$framework: the published ranking, checked against the engine on the verified inputs"
  local resubmitted=()
  if [ -n "$resubmission" ]; then resubmitted=(--resubmission "$resubmission"); fi
  python3 deploy/local/verified-inputs.py "$cohort" "${resubmitted[@]}" "${decision_files[@]}" \
    > "$out/$framework-verified-inputs.json"
  dtictl score --input "$out/$framework-verified-inputs.json" > "$out/$framework-engine.json"
  dtictl --json publication show "${round[@]}" > "$out/$framework-publication.json"
  dtictl --json ranking show "${round[@]}" --basis verified --limit 1000 > "$out/$framework-ranking.json"
  python3 deploy/local/check-published.py "$out/$framework-engine.json" \
    "$out/$framework-publication.json" "$out/$framework-ranking.json"
  python3 deploy/local/check-results-site.py "$results_url" \
    "$year" "$framework" "$out/$framework-publication.json"
}

run_round hcm-2023-district "$samples/hcm-2023-districts.json" \
  "$samples/hcm-2023-districts-decisions.json" \
  quan-3 2.4 "$samples/hcm-2023-quan-3-resubmission.json" \
  binh-thanh 1.2 "$samples/hcm-2023-districts-correction.json"
use_replica 2
run_round hcm-2023-department "$samples/hcm-2023-departments.json" "" "" "" "" \
  so-tttt 1.1 "$samples/hcm-2023-departments-correction.json"

step "the data owners submit the national set's values (Phụ lục III)"
use_replica 3
dtictl owner submit --file "$samples/hcm-2023-owner-values.json"
dtictl owner completeness --year "$year" | tail -n 1
step "national sync: the dry run, then the push to the national system"
dtictl sync plan --year "$year" | tail -n 2
dtictl sync start --year "$year" --wait
dtictl sync report --year "$year" --database-url "$database_url" | tail -n 5

step "audit chains"
for framework in hcm-2023-district hcm-2023-department; do
  dtictl audit verify --year "$year" --framework "$framework" --database-url "$database_url"
done

step "the year took $((SECONDS - started)) s; where to look next"
cat <<EOF
- the year's files: $out (verified inputs, engine scores, publications, rankings)
- logs: $DTI_LOCAL_RUN_DIR/<service>.log; database: $database_url
- metrics: http://127.0.0.1:$((DTI_LOCAL_SUBMISSION_PORT + 1000))/metrics (each service: its gRPC port + 1000)
- the national receiver's state: curl -H "Authorization: Bearer \$(cat $DTI_LOCAL_RUN_DIR/receiver-control-token)" http://127.0.0.1:$DTI_LOCAL_RECEIVER_PORT/control/state
- the public results (with --keep): http://127.0.0.1:$DTI_LOCAL_RESULTS_PORT/$year/hcm-2023-district
- HTTP/JSON for departments (with --keep): http://127.0.0.1:$DTI_LOCAL_GATEWAY_PORT/openapi.json
- try: $bin/dtictl ranking show --year $year --framework hcm-2023-district --basis verified
EOF
if [ "$keep" -eq 1 ]; then
  echo "the stack keeps running; stop it with: bash deploy/local/stop.sh"
fi
