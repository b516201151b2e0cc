#!/usr/bin/env bash
# What every request pays before its handler: /healthz (no key, no work) and an
# authenticated GET /api/v1/users (key check, rate-limit bucket, one small read) through
# one or more builds of the server, alternating, so builds are compared in one run.
#
#   scripts/bench/request_overhead.sh                       # the release build of this tree
#   scripts/bench/request_overhead.sh OLD_BINARY NEW_BINARY # e.g. a build of an earlier commit
#
# Needs wrk (Debian's package). Limits are lifted (this measures cost, not limits).
set -euo pipefail
cd "$(dirname "$0")/../.."

DURATION=${DURATION:-8s}
CONNECTIONS=${CONNECTIONS:-64}
ROUNDS=${ROUNDS:-2}
PORT=${PORT:-18282}
if [ $# -eq 0 ]; then
  cargo build --release -q -p leadline-server --bin leadline
  set -- "${CARGO_TARGET_DIR:-target}/release/leadline"
fi
command -v wrk >/dev/null || { apt-get update -qq >/dev/null && apt-get install -y -qq wrk >/dev/null; }

echo "wrk -t2 -c$CONNECTIONS -d$DURATION on $(nproc) cores"
for round in $(seq "$ROUNDS"); do
  for bin in "$@"; do
    dir=$(mktemp -d)
    # Builds from before rate limits refuse the flag; they have no limit to lift.
    flags=()
    "$bin" serve --help | grep -q -- --anonymous-rate-limit && flags=(--anonymous-rate-limit 1000000/1000000)
    "$bin" serve --database-url "sqlite://$dir/bench.db" --listen "127.0.0.1:$PORT" "${flags[@]}" \
      >"$dir/first.json" 2>"$dir/server.log" &
    pid=$!
    for _ in $(seq 100); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.1; done
    key=$(python3 -c "import json; print(json.load(open('$dir/first.json'))['apiKey'])")
    curl -s -o /dev/null -X PUT "http://127.0.0.1:$PORT/api/v1/settings/rate-limits" -H "x-api-key: $key" \
      -H 'content-type: application/json' -d '{"requestsPerSecond": 100000, "burst": 1000000}' || true
    healthz=$(wrk -t2 -c"$CONNECTIONS" -d"$DURATION" "http://127.0.0.1:$PORT/healthz" | awk '/Requests\/sec/ {print $2}')
    users=$(wrk -t2 -c"$CONNECTIONS" -d"$DURATION" -H "x-api-key: $key" "http://127.0.0.1:$PORT/api/v1/users" |
      awk '/Requests\/sec/ {print $2}')
    printf 'round %s  %-40s  /healthz %10s req/s   GET /api/v1/users %10s req/s\n' "$round" "$bin" "$healthz" "$users"
    kill "$pid"; wait "$pid" 2>/dev/null || true
    rm -rf "$dir"
  done
done
