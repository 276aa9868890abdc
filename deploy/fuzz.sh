#!/usr/bin/env bash
# Runs every fuzz target of fuzz/ for a bounded time and fails if any of them crashes
# (a panic, an out-of-memory, a timeout of a single input).
#
#   deploy/fuzz.sh [seconds-per-target]      (default 30)
#
# Installs cargo-fuzz when missing and builds with RUSTC_BOOTSTRAP=1 (the sanitizer flags
# cargo-fuzz passes need it on a stable toolchain; only this build uses it). Seed corpora are
# copied from the repository's samples, framework and registry files into the target
# directory, never into the clone. Artifacts of a crash are kept there too and named in the
# output. Target directory: $DTI_FUZZ_TARGET_DIR, else $CARGO_TARGET_DIR/fuzz, else
# /var/tmp/dti-fuzz-target.
set -euo pipefail

seconds="${1:-30}"
case "$seconds" in
  '' | *[!0-9]*) echo "usage: $0 [seconds-per-target]" >&2; exit 2 ;;
esac

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if [[ -n "${DTI_FUZZ_TARGET_DIR:-}" ]]; then
  target="$DTI_FUZZ_TARGET_DIR"
elif [[ -n "${CARGO_TARGET_DIR:-}" ]]; then
  target="$CARGO_TARGET_DIR/fuzz"
else
  target=/var/tmp/dti-fuzz-target
fi
mkdir -p "$target"
target="$(cd "$target" && pwd)"
export CARGO_TARGET_DIR="$target"

targets=(decode_cohort decode_variable framework_load registry_load form_import request_parse)

if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "installing cargo-fuzz"
  cargo install cargo-fuzz --locked
fi

# Seed corpora, fresh copies each run (the fuzzer adds what it finds to them).
corpus="$target/corpus"
seed() {
  local name="$1"
  shift
  mkdir -p "$corpus/$name"
  local file
  for file in "$@"; do
    [[ -f "$file" ]] && cp "$file" "$corpus/$name/seed-$(basename "$file")"
  done
  return 0
}
seed decode_cohort "$repo"/deploy/samples/*.json
seed framework_load "$repo"/shared/domain/frameworks/*.toml
seed registry_load "$repo"/shared/domain/units/*.toml
seed form_import "$repo"/shared/forms/tests/fixtures/*.xlsx
mkdir -p "$corpus/decode_variable" "$corpus/request_parse"
printf '%s' '12' >"$corpus/decode_variable/seed-count"
printf '%s' '"15.38"' >"$corpus/decode_variable/seed-decimal"
printf '%s' '[{"reports": 3, "resolved": 2}]' >"$corpus/decode_variable/seed-activities"
printf '%s' '1000000000000001' >"$corpus/decode_variable/seed-beyond"
printf '\xe7\x07\x00\x00%s' 'hcm-2023-district' >"$corpus/request_parse/seed-round"
printf '\xe7\x07\x00\x00%s' '0190c8a4-5b1e-7cc2-9b8e-3d1f2a4b5c6d' >"$corpus/request_parse/seed-uuid"

cd "$repo"
echo "building ${#targets[@]} fuzz targets in $target"
RUSTC_BOOTSTRAP=1 cargo fuzz build --release --target-dir "$target"

failed=()
for name in "${targets[@]}"; do
  mkdir -p "$target/artifacts/$name"
  echo "fuzzing $name for ${seconds}s"
  # -rss_limit_mb: the form importer inflates zip entries; -timeout: one input may not hang.
  if ! RUSTC_BOOTSTRAP=1 cargo fuzz run --release --target-dir "$target" "$name" "$corpus/$name" -- \
      -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
      -artifact_prefix="$target/artifacts/$name/" -print_final_stats=1 \
      2>"$target/$name.log"; then
    echo "FAILED: $name (log $target/$name.log, inputs in $target/artifacts/$name/)" >&2
    tail -n 40 "$target/$name.log" >&2
    failed+=("$name")
  else
    grep -E '^(stat::number_of_executed_units|Done )' "$target/$name.log" || true
  fi
done

if ((${#failed[@]})); then
  echo "fuzz targets that crashed: ${failed[*]}" >&2
  exit 1
fi
echo "all ${#targets[@]} fuzz targets ran ${seconds}s each without a crash"
