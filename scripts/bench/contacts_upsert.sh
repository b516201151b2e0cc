#!/usr/bin/env bash
# Load benchmark of the Bridge contact upsert, on SQLite and on PostgreSQL, with
# /healthz in the same run as the ceiling of the HTTP stack.
#
#   scripts/bench/contacts_upsert.sh            # 64 connections, 20 s per run
#   DURATION=5s scripts/bench/contacts_upsert.sh
#
# Needs wrk (installed from Debian's packages when missing) and, for the PostgreSQL
# run, a server at $BENCH_POSTGRES_URL (default postgres://postgres@127.0.0.1:5432).
# Prints one line per run and writes the raw wrk output under bench-results/.
set -euo pipefail
cd "$(dirname "$0")/../.."

DURATION=${DURATION:-20s}
CONNECTIONS=${CONNECTIONS:-64}
export WRK_THREADS=${WRK_THREADS:-2}
PORT=${PORT:-18181}
PG_ADMIN=${BENCH_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432}
# Stored secrets are sealed under a key outside the database; a PostgreSQL server is
# never given one by itself, so the run makes a throwaway key for both stores.
export LEADLINE_SECRET_KEY=${LEADLINE_SECRET_KEY:-$(python3 -c 'import base64, os; print(base64.b64encode(os.urandom(32)).decode())')}
OUT=bench-results
mkdir -p "$OUT"

if ! command -v wrk >/dev/null; then
  echo "installing wrk from Debian's packages" >&2
  apt-get update -qq >/dev/null && apt-get install -y -qq wrk >/dev/null
fi
cargo build --release -q -p leadline-server
BIN=target/release/leadline

server_pid=""
stop_server() { [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null; server_pid=""; }
trap stop_server EXIT

start_server() { # $1 = database URL; sets LEADLINE_KEY and WORKSPACE
  "$BIN" serve --anonymous-rate-limit 1000000/1000000 --database-url "$1" --listen "127.0.0.1:$PORT" >"$OUT/first-start.json" 2>"$OUT/server.log" &
  server_pid=$!
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.1; done
  LEADLINE_KEY=$(python3 -c "import json,sys;print(json.load(open('$OUT/first-start.json'))['apiKey'])")
  # a load test is not a runaway client: lift the workspace's rate limit to its highest
  curl -sf -X PUT "http://127.0.0.1:$PORT/api/v1/settings/rate-limits" -H "x-api-key: $LEADLINE_KEY" \
    -H 'content-type: application/json' -d '{"requestsPerSecond":100000,"burst":1000000}' >/dev/null
  WORKSPACE=$(python3 -c "import json,sys;print(json.load(open('$OUT/first-start.json'))['workspaceId'])")
  export LEADLINE_KEY WORKSPACE
}

run() { # $1 = label, $2 = path, $3 = lua script or ""
  local file="$OUT/$1.txt"
  local script=()
  [ -n "$3" ] && script=(-s "$3")
  wrk -t"$WRK_THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency "${script[@]}" "http://127.0.0.1:$PORT$2" >"$file"
  local rps p50 p99 errors
  rps=$(awk '/Requests\/sec/ {print $2}' "$file")
  p50=$(awk '$1 == "50%" {print $2}' "$file")
  p99=$(awk '$1 == "99%" {print $2}' "$file")
  errors=$(awk '/Non-2xx/ {print $5}' "$file")
  printf '%-28s %10s req/s   p50 %8s   p99 %8s   non-2xx %s\n' "$1" "$rps" "$p50" "$p99" "${errors:-0}"
}

seed_repeat_set() { # the 1,000 contacts the repeat run updates
  python3 - "$PORT" "$WORKSPACE" "$LEADLINE_KEY" <<'PY'
import json, sys, urllib.request
port, ws, key = sys.argv[1:]
for n in range(1000):
    body = json.dumps({"cellphone": "+1415201%04d" % n, "firstName": "Seed"}).encode()
    req = urllib.request.Request(f"http://127.0.0.1:{port}/bridge/api/v1/workspaces/{ws}/contacts/partial",
                                 data=body, headers={"x-api-key": key, "content-type": "application/json"})
    urllib.request.urlopen(req).read()
PY
}

bench_store() { # $1 = label, $2 = database URL
  start_server "$2"
  local path="/bridge/api/v1/workspaces/$WORKSPACE/contacts/partial"
  run "$1-healthz" /healthz ""
  run "$1-upsert-new" "$path" scripts/bench/upsert_new.lua
  seed_repeat_set
  run "$1-upsert-repeated" "$path" scripts/bench/upsert_repeat.lua
  stop_server
}

echo "wrk -t$WRK_THREADS -c$CONNECTIONS -d$DURATION on $(nproc) cores"
tmp=$(mktemp -d)
bench_store sqlite "sqlite://$tmp/bench.db"
rm -rf "$tmp"

if psql "$PG_ADMIN/postgres" -qc 'DROP DATABASE IF EXISTS leadline_bench WITH (FORCE)' >/dev/null 2>&1 &&
   psql "$PG_ADMIN/postgres" -qc 'CREATE DATABASE leadline_bench' >/dev/null; then
  bench_store postgres "$PG_ADMIN/leadline_bench"
  psql "$PG_ADMIN/postgres" -qc 'DROP DATABASE leadline_bench WITH (FORCE)' >/dev/null
else
  echo "PostgreSQL at $PG_ADMIN not reachable: skipped its run" >&2
fi
