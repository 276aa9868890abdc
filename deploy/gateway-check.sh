#!/usr/bin/env bash
# Checks the HTTP/JSON gateway against its own OpenAPI document with schemathesis: builds the
# debug binaries, starts the local stack (deploy/local/start.sh) on a database, NATS and Redis
# prefixes, ports and run directory of its own, mints an operator token with the stack's
# development secret, and runs a bounded schemathesis (examples per operation and a time limit)
# against the running gateway. Fails on any 5xx and on any answer that breaks the document
# (undocumented status, wrong content type, body not matching its schema). Stops the stack and
# drops its database at the end, whatever happened.
#
# Tools: schemathesis in ${XDG_CACHE_HOME:-/var/tmp}/dti-schemathesis-venv (installed when
# missing). Settings: DTI_GATEWAY_CHECK_EXAMPLES (per operation, default 15),
# DTI_GATEWAY_CHECK_SECONDS (schemathesis' time limit, default 100).
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-/var/tmp/dti-target}
export CARGO_INCREMENTAL=${CARGO_INCREMENTAL:-0}
say() { printf 'gateway-check: %s\n' "$*" >&2; }

examples=${DTI_GATEWAY_CHECK_EXAMPLES:-15}
seconds=${DTI_GATEWAY_CHECK_SECONDS:-100}
venv="${XDG_CACHE_HOME:-/var/tmp}/dti-schemathesis-venv"
schemathesis_version=4.32.5

if [ ! -x "$venv/bin/st" ] || ! "$venv/bin/st" --version | grep -q "$schemathesis_version"; then
  say "installing schemathesis $schemathesis_version into $venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q "schemathesis==$schemathesis_version"
fi

source deploy/local/isolated-stack.sh gateway-check "${DTI_GATEWAY_CHECK_PORT_BASE:-}"
# schemathesis is one caller with one token: let it through the rate limit (429s are
# documented, but they would only hide the operations behind them).
export DTI_LOCAL_GATEWAY_RATE_PER_SECOND=10000 DTI_LOCAL_GATEWAY_RATE_BURST=10000

bash deploy/local/start.sh
url="http://127.0.0.1:$DTI_LOCAL_GATEWAY_PORT"
for _ in $(seq 1 60); do
  python3 -c 'import sys, urllib.request; open(sys.argv[2], "wb").write(urllib.request.urlopen(sys.argv[1]).read())' \
    "$url/openapi.json" "$run_dir/openapi.json" 2>/dev/null && break
  sleep 0.5
done
[ -s "$run_dir/openapi.json" ] || { say "the gateway does not serve /openapi.json"; exit 1; }
token=$(DTI_AUTH_HS256_SECRET=$(cat "$run_dir/hs256-secret") \
  "$DTI_LOCAL_BINARIES/dtictl" token --role operator)

say "schemathesis: $examples examples per operation, at most $seconds s"
started=$(date +%s)
status=0
timeout --signal=INT "$((seconds + 15))" "$venv/bin/st" run "$run_dir/openapi.json" \
  --url "$url" \
  --header "Authorization: Bearer $token" \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,response_headers_conformance \
  --max-examples "$examples" \
  --phases examples,coverage,fuzzing \
  --generation-deterministic \
  --workers 2 \
  --request-timeout 20 \
  --no-color || status=$?
say "schemathesis finished in $(( $(date +%s) - started )) s with status $status"
if [ "$status" -ne 0 ]; then
  say "gateway log (last lines):"; tail -n 30 "$run_dir/gateway.log" >&2 || true
fi
exit "$status"
