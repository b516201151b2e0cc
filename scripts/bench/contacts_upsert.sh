#!/usr/bin/env bash
# Load benchmark of the Bridge contact upsert, on SQLite and on PostgreSQL, with
# /healthz in the same run as the ceiling of the HTTP stack. Each store is then run
# again with a webhook endpoint subscribed to every event type, delivering to a
# receiver on 127.0.0.1, and the last lines give what the subscription costs.
#
#   scripts/bench/contacts_upsert.sh            # 64 connections, 20 s per run
#   DURATION=5s scripts/bench/contacts_upsert.sh
#   SUBSCRIBED=0 scripts/bench/contacts_upsert.sh   # without the subscribed runs
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
SUBSCRIBED=${SUBSCRIBED:-1}
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
if [ "$SUBSCRIBED" = 1 ]; then
  cargo build --release -q -p leadline-server --example webhook_receiver
fi
tmp=$(mktemp -d)

server_pid=""
stop_server() { [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null; server_pid=""; }
cleanup() { stop_server; exec 4>&- 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT

if [ "$SUBSCRIBED" = 1 ]; then
  # The receiver takes deliveries for as long as fd 4 holds its stdin open.
  mkfifo "$tmp/receiver-in"
  target/release/examples/webhook_receiver <"$tmp/receiver-in" >"$OUT/receiver.txt" &
  exec 4>"$tmp/receiver-in"
  for _ in $(seq 100); do [ -s "$OUT/receiver.txt" ] && break; sleep 0.1; done
  RECEIVER_URL=$(head -1 "$OUT/receiver.txt")
fi

start_server() { # $1 = database URL; sets LEADLINE_KEY and WORKSPACE
  "$BIN" serve --anonymous-rate-limit 1000000/1000000 --database-url "$1" --listen "127.0.0.1:$PORT" \
    --allow-outbound 127.0.0.0/8 >"$OUT/first-start.json" 2>"$OUT/server.log" &
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

subscribe_everything() { # a webhook endpoint receiving every event type
  curl -sf -X POST "http://127.0.0.1:$PORT/api/v1/webhook-endpoints" -H "x-api-key: $LEADLINE_KEY" \
    -H 'content-type: application/json' -d "{\"url\":\"$RECEIVER_URL\",\"description\":\"load receiver\"}" >/dev/null
}

bench_store() { # $1 = label, $2 = database URL, $3 = "subscribed" for a receiver of every event
  start_server "$2"
  [ "${3:-}" = subscribed ] && subscribe_everything
  local path="/bridge/api/v1/workspaces/$WORKSPACE/contacts/partial"
  run "$1-healthz" /healthz ""
  run "$1-upsert-new" "$path" scripts/bench/upsert_new.lua
  seed_repeat_set
  run "$1-upsert-repeated" "$path" scripts/bench/upsert_repeat.lua
  stop_server
}

fresh_postgres() {
  psql "$PG_ADMIN/postgres" -qc 'DROP DATABASE IF EXISTS leadline_bench WITH (FORCE)' >/dev/null 2>&1 &&
    psql "$PG_ADMIN/postgres" -qc 'CREATE DATABASE leadline_bench' >/dev/null
}

ratio() { # "$1-$3 against $1": how much of its speed a run keeps when subscribed
  local plain subscribed
  plain=$(awk '/Requests\/sec/ {print $2}' "$OUT/$1-$2.txt")
  subscribed=$(awk '/Requests\/sec/ {print $2}' "$OUT/$1-subscribed-$2.txt")
  awk -v a="$plain" -v b="$subscribed" -v l="$1 $2" 'BEGIN { printf "%-28s keeps %.2f of its speed with every event type subscribed\n", l, b / a }'
}

echo "wrk -t$WRK_THREADS -c$CONNECTIONS -d$DURATION on $(nproc) cores"
stores=()
bench_store sqlite "sqlite://$tmp/bench.db"
stores+=(sqlite)
if [ "$SUBSCRIBED" = 1 ]; then
  bench_store sqlite-subscribed "sqlite://$tmp/bench-subscribed.db" subscribed
fi

if fresh_postgres; then
  bench_store postgres "$PG_ADMIN/leadline_bench"
  stores+=(postgres)
  if [ "$SUBSCRIBED" = 1 ]; then
    fresh_postgres
    bench_store postgres-subscribed "$PG_ADMIN/leadline_bench" subscribed
  fi
  psql "$PG_ADMIN/postgres" -qc 'DROP DATABASE leadline_bench WITH (FORCE)' >/dev/null
else
  echo "PostgreSQL at $PG_ADMIN not reachable: skipped its run" >&2
fi

if [ "$SUBSCRIBED" = 1 ]; then
  exec 4>&-
  wait
  tail -1 "$OUT/receiver.txt"
  for store in "${stores[@]}"; do
    ratio "$store" upsert-new
    ratio "$store" upsert-repeated
  done
fi
