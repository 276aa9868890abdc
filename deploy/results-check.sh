#!/usr/bin/env bash
# Checks the public results site in a real browser: installs what it needs (Debian's chromium,
# the pinned playwright-core of services/results-site/browser-tests), builds the debug
# binaries, starts the local stack (deploy/local/start.sh) on a database, NATS and Redis
# prefixes, ports and run directory of its own, publishes the 2023 district round with dtictl
# (the sample submissions and decisions, then a correction: revision 2, still provisional) and
# opens the department round without publishing it, then runs the browser test
# (services/results-site/browser-tests/results.test.mjs) against the site. Stops the stack and
# drops its database at the end, whatever happened.
#
# Screenshots: services/results-site/browser-tests/artifacts/ (not committed). Settings:
# DTI_RESULTS_CHECK_PORT_BASE (first of twelve free ports; probed when unset),
# DTI_RESULTS_CHECK_SECONDS (the browser test's time limit, default 110).
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-/var/tmp/dti-target}
export CARGO_INCREMENTAL=${CARGO_INCREMENTAL:-0}
say() { printf 'results-check: %s\n' "$*" >&2; }

seconds=${DTI_RESULTS_CHECK_SECONDS:-110}
tests_dir=services/results-site/browser-tests
sudo_or_root=$([ "$(id -u)" -eq 0 ] && echo "" || echo sudo)

if [ ! -x /usr/bin/chromium ]; then
  say "installing Debian's chromium"
  $sudo_or_root apt-get update -qq
  $sudo_or_root apt-get install -y -qq chromium >/dev/null
fi
if ! command -v npm >/dev/null; then
  say "installing node and npm"
  $sudo_or_root apt-get update -qq
  $sudo_or_root apt-get install -y -qq nodejs npm >/dev/null
fi
if [ ! -f "$tests_dir/node_modules/playwright-core/package.json" ] \
  || ! cmp -s "$tests_dir/package-lock.json" "$tests_dir/node_modules/.package-lock.json" 2>/dev/null; then
  say "installing playwright-core (package-lock.json)"
  (cd "$tests_dir" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --silent)
fi

source deploy/local/isolated-stack.sh results-check "${DTI_RESULTS_CHECK_PORT_BASE:-}"
# The round stays provisional for the whole check.
export DTI_LOCAL_PROVISIONAL_PERIOD_SECS=3600

bash deploy/local/start.sh
dtictl() {
  "$DTI_LOCAL_BINARIES/dtictl" "$@" >"$run_dir/dtictl.out" 2>&1 \
    || { say "dtictl $* failed:"; cat "$run_dir/dtictl.out" >&2; return 1; }
}
export DTI_AUTH_HS256_SECRET
DTI_AUTH_HS256_SECRET=$(cat "$run_dir/hs256-secret")
export DTICTL_SUBMISSION_ENDPOINT="http://127.0.0.1:$DTI_LOCAL_SUBMISSION_PORT"
export DTICTL_VERIFICATION_ENDPOINT="http://127.0.0.1:$DTI_LOCAL_VERIFICATION_PORT"

say "publishing the 2023 district round (sample submissions and decisions, then a correction)"
samples=deploy/samples
round=(--year 2023 --framework hcm-2023-district)
dtictl round open "${round[@]}"
dtictl submit --year 2023 --input "$samples/hcm-2023-districts.json"
dtictl round close "${round[@]}"
dtictl verify start "${round[@]}"
dtictl verify decide "${round[@]}" --file "$samples/hcm-2023-districts-decisions.json"
dtictl verify decide "${round[@]}" --all-accept
dtictl verify complete "${round[@]}" --all
dtictl verify complete-round "${round[@]}"
dtictl approval approve "${round[@]}"
dtictl publish "${round[@]}"
dtictl verify decide "${round[@]}" --file "$samples/hcm-2023-districts-correction.json"
dtictl correction "${round[@]}" --reason "Chấp nhận kiến nghị của đơn vị; đính chính kết quả."
say "opening the 2023 department round (never published: the site must not show it)"
dtictl round open --year 2023 --framework hcm-2023-department

say "browser test: at most $seconds s"
started=$(date +%s)
status=0
RESULTS_URL="http://127.0.0.1:$DTI_LOCAL_RESULTS_PORT" \
  timeout --signal=TERM "$seconds" node "$tests_dir/results.test.mjs" || status=$?
say "browser test finished in $(( $(date +%s) - started )) s with status $status"
if [ "$status" -ne 0 ]; then
  say "results site log (last lines):"; tail -n 30 "$run_dir/results-site.log" >&2 || true
fi
exit "$status"
