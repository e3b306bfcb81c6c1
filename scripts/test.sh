#!/usr/bin/env bash
# Runs the test suite: every specs/**/*.spec.ts file under node --test (tsx).
# Tests that need NATS start their own nats-server on a free loopback port.
# Usage: scripts/test.sh [path-prefix ...]   (e.g. specs/unit)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-nats-server.sh
[ -d node_modules ] || npm install --no-audit --no-fund
roots=("$@")
[ ${#roots[@]} -gt 0 ] || roots=(specs)
mapfile -t files < <(find "${roots[@]}" -name '*.spec.ts' -not -path '*/node_modules/*' | sort)
if [ ${#files[@]} -eq 0 ]; then echo "no spec files under ${roots[*]}" >&2; exit 1; fi
exec node --import tsx --test --test-reporter=spec --test-concurrency="${TEST_CONCURRENCY:-2}" \
  "${files[@]}"
