#!/usr/bin/env bash
# Load benchmark of outgoing-number selection over HTTP (POST /phone-numbers/outgoing/new)
# on SQLite: a pool of 10,000 numbers over 50 US area codes (some paused, some
# preferred, some call-only) and 100,000 recipients reached before, each with its sticky
# number; requests mix recipients with and without history, SMS and calls.
#
#   scripts/bench/select_numbers.sh               # 64 connections, 20 s
#   DURATION=5s scripts/bench/select_numbers.sh
#
# Needs wrk (installed from Debian's packages when missing). Prints one line per run
# and writes the raw wrk output under bench-results/.
set -euo pipefail
cd "$(dirname "$0")/../.."

DURATION=${DURATION:-20s}
CONNECTIONS=${CONNECTIONS:-64}
export WRK_THREADS=${WRK_THREADS:-2}
PORT=${PORT:-18182}
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

tmp=$(mktemp -d)
DB="$tmp/bench.db"
"$BIN" serve --anonymous-rate-limit 1000000/1000000 --database-url "sqlite://$DB" --listen "127.0.0.1:$PORT" >"$OUT/select-first-start.json" 2>"$OUT/select-server.log" &
server_pid=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.1; done
LEADLINE_KEY=$(python3 -c "import json;print(json.load(open('$OUT/select-first-start.json'))['apiKey'])")
# a load test is not a runaway client: lift the workspace's rate limit to its highest
curl -sf -X PUT "http://127.0.0.1:$PORT/api/v1/settings/rate-limits" -H "x-api-key: $LEADLINE_KEY" \
  -H 'content-type: application/json' -d '{"requestsPerSecond":100000,"burst":1000000}' >/dev/null
WORKSPACE=$(python3 -c "import json;print(json.load(open('$OUT/select-first-start.json'))['workspaceId'])")
export LEADLINE_KEY WORKSPACE

echo "seeding 10,000 numbers through the API and 100,000 sticky recipients" >&2
python3 - "$PORT" "$LEADLINE_KEY" "$DB" "$WORKSPACE" <<'PY'
import http.client, json, sqlite3, sys, time
port, key, db, workspace = sys.argv[1:]
codes = [201, 202, 203, 205, 206, 207, 208, 209, 210, 212, 213, 214, 215, 216, 217, 218,
         219, 224, 225, 228, 229, 231, 234, 239, 240, 248, 251, 252, 253, 254, 256, 260,
         262, 267, 269, 270, 276, 281, 301, 302, 303, 304, 305, 307, 308, 309, 310, 312,
         313, 415]
conn = http.client.HTTPConnection("127.0.0.1", int(port))
headers = {"x-api-key": key, "content-type": "application/json"}
ids = []
for n in range(10000):
    code = codes[n % len(codes)]
    body = {"number": "+1%d%03d%04d" % (code, 200 + (n // 10000) % 700, n), "label": "pool %d" % n,
            "capabilities": {"sms": n % 10 != 7, "call": n % 3 != 0 or n % 10 == 7}, "preferred": n % 97 == 0}
    conn.request("POST", "/api/v1/phone-numbers", json.dumps(body), headers)
    answer = conn.getresponse(); data = answer.read()
    if answer.status != 201:
        sys.exit("creating a number failed: %d %s" % (answer.status, data[:300]))
    ids.append(json.loads(data)["id"])
for n in range(0, 10000, 50):
    conn.request("POST", "/api/v1/phone-numbers/%s/pause" % ids[n], json.dumps({"reason": "bench"}), headers)
    conn.getresponse().read()
database = sqlite3.connect(db, timeout=30)
now = int(time.time() * 1_000_000)
database.executemany(
    "INSERT INTO recipient_numbers (workspace_id, recipient, phone_number_id, last_used_at) VALUES (?, ?, ?, ?)",
    ((workspace, "+1415%07d" % (7000000 + r), ids[(r * 31) % len(ids)], now) for r in range(100000)))
database.commit()
PY

echo "wrk -t$WRK_THREADS -c$CONNECTIONS -d$DURATION on $(nproc) cores"
file="$OUT/select-numbers.txt"
wrk -t"$WRK_THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency -s scripts/bench/select_numbers.lua \
  "http://127.0.0.1:$PORT/phone-numbers/outgoing/new" >"$file"
rps=$(awk '/Requests\/sec/ {print $2}' "$file")
p50=$(awk '$1 == "50%" {print $2}' "$file")
p99=$(awk '$1 == "99%" {print $2}' "$file")
errors=$(awk '/Non-2xx/ {print $5}' "$file")
printf '%-28s %10s req/s   p50 %8s   p99 %8s   non-2xx %s\n' "sqlite-select" "$rps" "$p50" "$p99" "${errors:-0}"
stop_server
rm -rf "$tmp"
