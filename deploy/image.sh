#!/usr/bin/env bash
# Builds the platform image from the Containerfile with docker or podman, whichever is installed
# and can run containers here.
#
#   deploy/image.sh [--lint-only] [--tag REPO:TAG] [--push]
#
# --lint-only   only lint the Containerfile with hadolint (no engine needed); exit 0 when clean.
# --tag         image name (default dti-platform:<workspace version>).
# --push        push the built image (the engine must be logged in to the registry).
#
# Without a working container engine the script says so and exits 3 (never 0), unless
# --lint-only was given.
set -euo pipefail
cd "$(dirname "$0")/.."

lint_only=false
push=false
version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n 1)
tag="dti-platform:${version}"
while [ $# -gt 0 ]; do
  case "$1" in
    --lint-only) lint_only=true ;;
    --push) push=true ;;
    --tag) tag=$2; shift ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    *) echo "image: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done

lint() {
  local hadolint=${HADOLINT:-}
  if [ -z "$hadolint" ]; then
    for candidate in hadolint "${XDG_CACHE_HOME:-/var/tmp}/dti-venv/bin/hadolint"; do
      if command -v "$candidate" >/dev/null 2>&1; then hadolint=$candidate; break; fi
    done
  fi
  if [ -z "$hadolint" ]; then
    echo "image: hadolint not found (deploy/helm-check.sh installs it in its virtual environment)" >&2
    return 1
  fi
  "$hadolint" --no-color --failure-threshold warning Containerfile
  echo "image: Containerfile passes hadolint"
}

if $lint_only; then lint; exit 0; fi

engine=""
for candidate in docker podman; do
  if command -v "$candidate" >/dev/null 2>&1 && "$candidate" info >/dev/null 2>&1; then
    engine=$candidate; break
  fi
done
if [ -z "$engine" ]; then
  echo "image: no container engine that can run containers here (docker or podman with a" >&2
  echo "image: reachable daemon/runtime); the image was NOT built. Use --lint-only to only lint." >&2
  exit 3
fi

revision=$(git rev-parse HEAD 2>/dev/null || echo unknown)
created=$(date -u +%Y-%m-%dT%H:%M:%SZ)
echo "image: building $tag with $engine (revision $revision)"
DOCKER_BUILDKIT=1 "$engine" build -f Containerfile -t "$tag" \
  --build-arg "VERSION=$version" --build-arg "REVISION=$revision" --build-arg "CREATED=$created" .
echo "image: built $tag"
if $push; then "$engine" push "$tag"; echo "image: pushed $tag"; fi
