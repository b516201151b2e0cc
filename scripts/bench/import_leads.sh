#!/usr/bin/env bash
# Import benchmark: 1,000,000 leads from a CSV into one campaign on SQLite, timing the
# `leadline import leads` command and reading its peak memory (GNU time's max RSS).
#
#   scripts/bench/import_leads.sh            # 1,000,000 rows
#   ROWS=100000 scripts/bench/import_leads.sh
set -euo pipefail
cd "$(dirname "$0")/../.."

ROWS=${ROWS:-1000000}
PORT=${PORT:-18182}
OUT=bench-results
mkdir -p "$OUT"
[ -x /usr/bin/time ] || { echo "installing GNU time from Debian's packages" >&2; apt-get install -y -qq time >/dev/null; }
cargo build --release -q -p leadline-server
BIN=target/release/leadline
work=$(mktemp -d)
trap 'kill $server_pid 2>/dev/null || true; rm -rf "$work"' EXIT

python3 - "$ROWS" "$work/leads.csv" <<'PY'
import sys
rows, path = int(sys.argv[1]), sys.argv[2]
codes = ["212", "305", "312", "415", "512", "617", "702", "801", "919", "206"]
zones = ["Eastern Standard Time", "America/Chicago", "Pacific Standard Time", ""]
with open(path, "w") as f:
    f.write("phoneNumber,externalId,timeZoneId,firstName,city\n")
    for n in range(rows):
        code = codes[n % len(codes)]
        exchange = 200 + (n // 10000) % 800
        line = n % 10000
        f.write(f"+1{code}{exchange}{line:04d},ext-{n},{zones[n % 4]},Lead{n},Springfield\n")
PY
echo "generated $ROWS rows ($(du -h "$work/leads.csv" | cut -f1))"

db="sqlite://$work/import.db"
"$BIN" serve --anonymous-rate-limit 1000000/1000000 --database-url "$db" --listen "127.0.0.1:$PORT" >"$work/first.json" 2>"$work/server.log" &
server_pid=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.1; done
KEY=$(python3 -c "import json;print(json.load(open('$work/first.json'))['apiKey'])")
# a load test is not a runaway client: lift the workspace's rate limit to its highest
curl -sf -X PUT "http://127.0.0.1:$PORT/api/v1/settings/rate-limits" -H "x-api-key: $KEY" \
  -H 'content-type: application/json' -d '{"requestsPerSecond":100000,"burst":1000000}' >/dev/null
API="http://127.0.0.1:$PORT"
CH=$(curl -sf -X POST "$API/api/v1/channels" -H "x-api-key: $KEY" \
  -d '{"name": "SMS", "messageProviderType": "SMS", "sender": "+14155550100"}' | python3 -c 'import json,sys;print(json.load(sys.stdin)["id"])')
curl -sf -X POST "$API/api/v1/templates" -H "x-api-key: $KEY" \
  -d '{"name": "welcome", "language": "en", "body": "Hi {{1}}", "channelType": "SMS"}' >/dev/null
CAMP=$(curl -sf -X POST "$API/api/v1/campaigns" -H "x-api-key: $KEY" \
  -d '{"name": "Import", "channelId": "'"$CH"'", "defaultTimeZone": "America/New_York",
       "openingTemplate": "welcome", "openingTemplateParams": ["{{firstName}}"]}' | python3 -c 'import json,sys;print(json.load(sys.stdin)["id"])')
kill $server_pid; wait $server_pid 2>/dev/null || true

/usr/bin/time -v "$BIN" import leads --quiet --campaign "$CAMP" --database-url "$db" "$work/leads.csv" \
  >"$OUT/import-summary.json" 2>"$OUT/import-time.txt"
elapsed=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$OUT/import-time.txt")
rss_kb=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$OUT/import-time.txt")
echo "import of $ROWS leads: $elapsed wall clock, peak memory $((rss_kb / 1024)) MiB, summary $(cat "$OUT/import-summary.json")"
