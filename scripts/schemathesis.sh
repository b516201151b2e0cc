#!/usr/bin/env bash
# Checks that the OpenAPI document tells the truth: schemathesis generates requests from
# /openapi.json and runs every check (`--checks all`) against a live `leadline serve`
# on a fresh SQLite database with a workspace and API key made for the run. Exits
# non-zero on any failure. CI (.ci/run) calls it; run it yourself the same way:
#
#   scripts/schemathesis.sh                 # builds the binary, installs schemathesis
#   LEADLINE_BIN=path/to/leadline scripts/schemathesis.sh
#
# Settings (environment):
#   LEADLINE_BIN            the binary to test (default: cargo build, then target/debug)
#   SCHEMATHESIS_EXAMPLES   examples per operation and phase (default 30)
#   SCHEMATHESIS_SEED       the seed (default 1): the same cases on every run
#   SCHEMATHESIS_VENV       where schemathesis is installed (default under /var/tmp)
#   SCHEMATHESIS_REPORT_DIR where the JUnit report and the server log go (default: a
#                           temporary directory, kept and printed when the run fails)
#
# What the checks are told, and why, is in scripts/schemathesis.toml beside this file:
# no check is disabled; `positive_data_acceptance` also expects 422 on the operations
# listed there, whose validators check what a JSON Schema cannot say. Besides the
# checks, the run fails if the server logged a panic. The event stream
# (`GET /api/v1/events/stream`) is left out: its answer lasts until the client hangs up,
# so no check can read it to its end; tests/events_api.rs tests it.
set -euo pipefail
cd "$(dirname "$0")/.."

SCHEMATHESIS_VERSION=4.32.5
examples=${SCHEMATHESIS_EXAMPLES:-30}
seed=${SCHEMATHESIS_SEED:-1}
venv=${SCHEMATHESIS_VENV:-/var/tmp/leadline-schemathesis-$SCHEMATHESIS_VERSION}

echo "== schemathesis $SCHEMATHESIS_VERSION"
if [ ! -x "$venv/bin/schemathesis" ] ||
   ! "$venv/bin/schemathesis" --version 2>/dev/null | grep -q "$SCHEMATHESIS_VERSION"; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
fi

if [ -z "${LEADLINE_BIN:-}" ]; then
  echo "== cargo build (the leadline binary)"
  cargo build --quiet -p leadline-server --bin leadline
  LEADLINE_BIN="${CARGO_TARGET_DIR:-target}/debug/leadline"
fi

work=$(mktemp -d)
report_dir=${SCHEMATHESIS_REPORT_DIR:-$work/report}
mkdir -p "$report_dir"
report_dir=$(cd "$report_dir" && pwd)
server_pid=
cleanup() {
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill "$server_pid"
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$work/db"
}
trap cleanup EXIT

echo "== a fresh database, a workspace and its key"
mkdir -p "$work/db"
database="sqlite://$work/db/leadline.db"
created=$("$LEADLINE_BIN" workspace create --name schemathesis --database-url "$database")
api_key=$(python3 -c 'import json, sys; print(json.load(sys.stdin)["apiKey"])' <<<"$created")
workspace_id=$(python3 -c 'import json, sys; print(json.load(sys.stdin)["workspaceId"])' <<<"$created")

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"
# Requests without a valid key are limited per client address, and every request of
# this run comes from 127.0.0.1: lift that limit so the run tests the API, not the limit
# (tests/rate_limits.rs tests the limits). The seeded gateway channel points at
# 127.0.0.1's discard port, which the outbound guard allows only when told to; the rest
# of the loopback network, private networks and metadata addresses stay refused.
"$LEADLINE_BIN" serve --database-url "$database" --listen "127.0.0.1:$port" \
  --anonymous-rate-limit 100000/1000000 --allow-outbound 127.0.0.1/32 \
  --shutdown-timeout 5 >"$report_dir/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 100); do
  curl -sf "$base/healthz" >/dev/null 2>&1 && break
  kill -0 "$server_pid" 2>/dev/null || { cat "$report_dir/server.log" >&2; exit 1; }
  sleep 0.1
done
curl -sf "$base/healthz" >/dev/null

echo "== rows for the path ids (so operations reach past their 404s)"
# POSTs `$2` to `$1` and prints the answer's field `$3` (a JSON path like a.b); fails
# unless the answer is 2xx.
create() {
  local answer
  answer=$(curl -sS -X "${4:-POST}" "$base$1" -H "x-api-key: $api_key" \
    -H 'content-type: application/json' -d "$2" -w '\n%{http_code}')
  python3 -c '
import json, sys
*body, status = sys.stdin.read().rstrip("\n").rsplit("\n", 1)
if not status.startswith("2"):
    sys.exit(f"seeding {sys.argv[2]} answered {status}: {body}")
value = json.loads(body[0])
for part in sys.argv[1].split("."):
    value = value[part]
print(value)' "$3" "$1" <<<"$answer"
}
# The key's own limit, lifted likewise (the most a workspace may set).
create /api/v1/settings/rate-limits '{"requestsPerSecond": 100000, "burst": 1000000}' \
  requestsPerSecond PUT >/dev/null
export LEADLINE_CHANNEL_ID LEADLINE_TEMPLATE_ID LEADLINE_CAMPAIGN_ID LEADLINE_USER_ID \
  LEADLINE_TEAM_ID LEADLINE_SOURCE_ID LEADLINE_NUMBER_ID LEADLINE_CONTACT_ID \
  LEADLINE_CONVERSATION_ID LEADLINE_MESSAGE_ID LEADLINE_LEAD_ID LEADLINE_SCRIPT_ID \
  LEADLINE_WEBHOOK_CHANNEL_ID LEADLINE_SPARE_KEY_ID LEADLINE_WEBHOOK_ENDPOINT_ID \
  LEADLINE_EVENT_ID
# A key for DELETE /api/v1/api-keys/{id} to revoke: never the key the run uses.
LEADLINE_SPARE_KEY_ID=$(create /api/v1/api-keys '{"name": "spare"}' id)
LEADLINE_CHANNEL_ID=$(create /api/v1/channels \
  '{"name": "Sandbox SMS", "messageProviderType": "SMS", "sender": "+14155550100"}' id)
# Sends on it would go to the discard port; none are made.
LEADLINE_WEBHOOK_CHANNEL_ID=$(create /api/v1/channels '{"name": "Gateway", "messageProviderType": "SMS",
  "provider": "http", "sender": "+14155550101", "settings": {"url": "http://127.0.0.1:9/"},
  "secrets": {"signingSecret": "'"$(python3 -c 'import secrets; print(secrets.token_hex(16))')"'"}}' id)
LEADLINE_TEMPLATE_ID=$(create /api/v1/templates \
  '{"name": "welcome", "language": "en", "body": "Hi {{1}}!", "channelType": "SMS"}' id)
LEADLINE_CAMPAIGN_ID=$(create /api/v1/campaigns "{\"name\": \"Spring\", \"channelId\": \"$LEADLINE_CHANNEL_ID\",
  \"defaultTimeZone\": \"America/New_York\", \"openingTemplate\": \"welcome\",
  \"openingTemplateParams\": [\"{{firstName}}\"]}" id)
LEADLINE_USER_ID=$(create /api/v1/users '{"email": "ana@example.com"}' id)
LEADLINE_TEAM_ID=$(create /api/v1/teams "{\"name\": \"Sales\", \"memberUserIds\": [\"$LEADLINE_USER_ID\"]}" id)
LEADLINE_SOURCE_ID=$(create /api/v1/sources '{"name": "Web form"}' id)
LEADLINE_NUMBER_ID=$(create /api/v1/phone-numbers '{"number": "+14155550111"}' id)
LEADLINE_CONTACT_ID=$(create "/bridge/api/v1/workspaces/$workspace_id/contacts/partial" \
  '{"cellphone": "+14155552671", "firstName": "Ana"}' id)
LEADLINE_CONVERSATION_ID=$(create "/bridge/api/v1/workspaces/$workspace_id/leadscout/outbound" \
  "{\"contact\": {\"identifier\": \"+14155552671\", \"identifierType\": \"CELLPHONE\",
    \"messageProviderType\": \"SMS\", \"providerChannelId\": \"$LEADLINE_CHANNEL_ID\"},
    \"template\": {\"name\": \"welcome\", \"orderedParams\": [\"Ana\"]}}" conversation.id)
LEADLINE_MESSAGE_ID=$(create /api/v1/sandbox/inbound "{\"channelId\": \"$LEADLINE_CHANNEL_ID\",
  \"from\": \"+14155552671\", \"text\": \"Hello\"}" id)
LEADLINE_LEAD_ID=$(create "/v1/Outbound/$LEADLINE_CAMPAIGN_ID/Lead" \
  '{"phoneNumber": "+14155552672", "callData": {"firstName": "Bo"}}' leadId PUT)
LEADLINE_SCRIPT_ID=$(create /api/v1/agent-scripts '{"name": "Default", "script": {"questions": []}}' id)
LEADLINE_WEBHOOK_ENDPOINT_ID=$(create /api/v1/webhook-endpoints '{"url": "http://127.0.0.1:9/events"}' id)
# The first event the rows above recorded (none: an id that names nothing, answered 404).
LEADLINE_EVENT_ID=$(curl -sS "$base/api/v1/events?limit=1" -H "x-api-key: $api_key" | python3 -c '
import json, sys
events = json.load(sys.stdin)["data"]
print(events[0]["id"] if events else "0190a6e4-7e5a-7000-8000-000000000000")')

status=0
config=$PWD/scripts/schemathesis.toml
# PUT /api/v1/settings/rate-limits may set the workspace's limit to one request a
# second, which would leave every later operation of the run answering 429: it runs on
# its own afterwards, with a second workspace's key.
limits="PUT /api/v1/settings/rate-limits"
stream="GET /api/v1/events/stream"
run_schemathesis() { # $1 = the API key, $2 = the workspace id, then filters
  local key=$1 workspace=$2
  shift 2
  # From the scratch directory: schemathesis keeps a cache (`.schemathesis/`) there.
  # One worker: on CPython 3.11 before 3.11.8, `ast.parse` from two threads at once can
  # fail with "AST constructor recursion depth mismatch" (python/cpython#106905), which
  # hypothesis calls while describing its strategies; schemathesis then reports a
  # runtime error for whichever operation it was generating.
  (cd "$work" && LEADLINE_API_KEY=$key LEADLINE_WORKSPACE_ID=$workspace \
    "$venv/bin/schemathesis" --config-file "$config" run "$base/openapi.json" \
      --checks all \
      --header "x-api-key: $key" \
      --max-examples "$examples" \
      --seed "$seed" \
      --workers 1 \
      --request-timeout 30 \
      --generation-database none \
      --no-color \
      "$@") || status=$?
}
echo "== schemathesis run: $examples examples per operation, seed $seed"
run_schemathesis "$api_key" "$workspace_id" --exclude-name "$limits" --exclude-name "$stream" \
  --report junit --report-dir "$report_dir/all"
echo "== schemathesis run: $limits, on a workspace of its own"
second=$("$LEADLINE_BIN" workspace create --name schemathesis-limits --database-url "$database")
run_schemathesis "$(python3 -c 'import json, sys; print(json.load(sys.stdin)["apiKey"])' <<<"$second")" \
  "$(python3 -c 'import json, sys; print(json.load(sys.stdin)["workspaceId"])' <<<"$second")" \
  --include-name "$limits" --report junit --report-dir "$report_dir/limits"

if grep -q "panicked" "$report_dir/server.log"; then
  echo "the server panicked during the run (see $report_dir/server.log)" >&2
  grep -m 5 "panicked" "$report_dir/server.log" >&2
  status=1
fi
if [ "$status" = 0 ] && [ -z "${SCHEMATHESIS_REPORT_DIR:-}" ]; then
  cleanup
  rm -rf "$work"
else
  echo "reports and the server's log: $report_dir"
fi
exit "$status"
