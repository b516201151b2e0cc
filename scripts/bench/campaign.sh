#!/usr/bin/env bash
# Campaign throughput benchmark (issue 14): a campaign of LEADS leads, every one of them
# inside its calling window, on a sandbox SMS channel, worked by a release server from
# activation until every lead has been attempted and every opening sent. Prints
# leads/s (attempted), the time until all openings were sent, and the server's peak
# memory and CPU during the run.
#
#   scripts/bench/campaign.sh                      # SQLite, no number pool, 20,000 leads
#   STORE=postgres scripts/bench/campaign.sh       # a fresh PostgreSQL database, dropped after
#   POOL=1000 scripts/bench/campaign.sh            # from 1,000 numbers: warm-up caps, sticky selection
#   LEADS=1000000 scripts/bench/campaign.sh        # the long run (leads imported from CSV)
#
# Settings (environment):
#   STORE=sqlite|postgres   PostgreSQL at $BENCH_POSTGRES_URL (default
#                           postgres://postgres@127.0.0.1:5432), one database per run
#   POOL=N                  N phone numbers on the channel (0: the channel's own sender).
#                           The pool's first warm-up day caps each number at
#                           ceil(1.25 × LEADS / N) SMS, so the pool can carry every lead
#                           and the local numbers fill up and hand over to others; 1,000
#                           sends per second per number. After the run every number's
#                           usage is read from the API and checked against its cap.
#   LEADS=N                 default 20,000. Added through leads:bulk (50,000 a request);
#                           from 200,000 on, written to a CSV and loaded with `leadline
#                           import leads` while the server is stopped (ADD=api|import
#                           overrides), and the server restarted before activation.
#   CONCURRENCY=N           the campaign's attempts per scheduler tick (default 1000,
#                           the most a campaign allows; the default of a new campaign is 10)
#   POLL=SECONDS            poll interval (default 0.15; at least 4 × the last poll's
#                           cost, so polling never takes more than a fifth of a reader)
#   STALL=SECONDS           give up when nothing moves that long (default 120)
#   BUILD=0                 use target/release/leadline as it is
#   PORT                    default 18183
#
# Every lead gets its own time zone, chosen when the run starts among zones where it is
# between 9:00 and 15:00 (US zones when any is, else zones east or west of them): all
# are inside the federal 8:00–21:00 window with hours to spare, and the campaign's
# calling hours are every day 00:00–24:00. Area codes are of states without rules of
# their own (NY, IL, CA, TX, MA, NV, UT, NC, WA, CO). The run stops with an error if any
# lead is refused or left deferred, any opening fails, or a number went over its cap.
#
# Polls /metrics (the dispatcher's count of sends) while the campaign runs, and, for the
# last 2 × CONCURRENCY leads, GET /api/v1/campaigns/{id}/stats too (lead counts by
# status, attempts, outbound messages by status): the times are those of the first
# stats poll that saw every lead attempted, and every opening sent. With a pool, every
# lead is a new recipient: each attempt looks its sticky number up (none is found) and
# selection then prefers the local numbers, which reach their cap and hand over.
#
# The peak memory is the server's VmHWM from /proc, reset when the campaign is activated
# (so it covers the campaign, not the adding of leads); the state of the machine in the
# same run is the load average at activation and at the end, and the server's CPU time
# (a server far below one core on a loaded machine is waiting for it). Results go to
# bench-results/campaign-STORE-poolN-LEADS.json, the server's warnings and errors to
# bench-results/campaign-STORE-poolN-LEADS-server.log.
set -euo pipefail
cd "$(dirname "$0")/../.."

STORE=${STORE:-sqlite}
POOL=${POOL:-0}
LEADS=${LEADS:-20000}
CONCURRENCY=${CONCURRENCY:-1000}
if [ "$LEADS" -ge 200000 ]; then ADD=${ADD:-import}; else ADD=${ADD:-api}; fi
PORT=${PORT:-18183}
POLL=${POLL:-0.15}
STALL=${STALL:-120}
BUILD=${BUILD:-1}
PG_ADMIN=${BENCH_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432}
case "$STORE" in sqlite | postgres) ;; *) echo "STORE must be sqlite or postgres" >&2; exit 2 ;; esac
case "$ADD" in api | import) ;; *) echo "ADD must be api or import" >&2; exit 2 ;; esac
# Stored secrets are sealed under a key outside the database; a PostgreSQL server is
# never given one by itself, so the run makes a throwaway key for both stores.
export LEADLINE_SECRET_KEY=${LEADLINE_SECRET_KEY:-$(python3 -c 'import base64, os; print(base64.b64encode(os.urandom(32)).decode())')}
OUT=bench-results
LABEL="campaign-$STORE-pool$POOL-$LEADS"
mkdir -p "$OUT"

if [ "$BUILD" != 0 ]; then cargo build --release -q -p leadline-server; fi
BIN=target/release/leadline
[ -x "$BIN" ] || { echo "no $BIN: build it (cargo build --release -p leadline-server)" >&2; exit 1; }

work=$(mktemp -d)
server_pid=""
database=""
stop_server() {
  if [ -n "$server_pid" ]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
    server_pid=""
  fi
}
# shellcheck disable=SC2317 # run by the EXIT trap
cleanup() {
  stop_server
  if [ -n "$database" ]; then
    psql "$PG_ADMIN/postgres" -qc "DROP DATABASE IF EXISTS $database WITH (FORCE)" >/dev/null 2>&1 || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

if [ "$STORE" = postgres ]; then
  database="bench_campaign_$$"
  psql "$PG_ADMIN/postgres" -qc "CREATE DATABASE $database" >/dev/null
  DB_URL="$PG_ADMIN/$database"
else
  DB_URL="sqlite://$work/campaign.db"
fi

API="http://127.0.0.1:$PORT"
start_server() {
  "$BIN" serve --anonymous-rate-limit 1000000/1000000 --database-url "$DB_URL" --listen "127.0.0.1:$PORT" \
    >>"$work/first-start.json" 2>>"$work/server.log" &
  server_pid=$!
  for _ in $(seq 300); do
    curl -sf "$API/healthz" >/dev/null && return 0
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.1
  done
  echo "the server did not start; the end of its log:" >&2
  tail -20 "$work/server.log" >&2
  exit 1
}

start_server
KEY=$(python3 -c "import json; print(json.loads(open('$work/first-start.json').readline())['apiKey'])")
# a load test is not a runaway client: lift the workspace's rate limit to its highest
curl -sf -X PUT "$API/api/v1/settings/rate-limits" -H "x-api-key: $KEY" \
  -H 'content-type: application/json' -d '{"requestsPerSecond":100000,"burst":1000000}' >/dev/null
export PORT KEY POOL LEADS CONCURRENCY POLL STALL LABEL
export STATE="$work/state.json" SERVER_LOG="$work/server.log" RESULTS="$OUT/$LABEL.json"

cat >"$work/campaign.py" <<'PY'
"""The benchmark's client: setup, leads, and the timed run (stdlib only)."""
import csv
import datetime
import http.client
import json
import math
import os
import re
import statistics
import sys
import time
import zoneinfo

PORT = int(os.environ["PORT"])
KEY = os.environ["KEY"]
POOL = int(os.environ["POOL"])
LEADS = int(os.environ["LEADS"])
CONCURRENCY = int(os.environ["CONCURRENCY"])
STATE = os.environ["STATE"]
BULK = 50_000
DAYS = ["MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY"]
# States without calling rules of their own: NY, IL, CA, TX, MA, NV, UT, NC, WA, CO.
CODES = ["212", "312", "415", "512", "617", "702", "801", "919", "206", "303"]
# Exchanges of lead numbers: no N11 service codes, and 555 is left to the pool.
EXCHANGES = [e for e in range(200, 1000) if e % 100 != 11 and e != 555]
US_ZONES = ["America/New_York", "America/Chicago", "America/Denver", "America/Phoenix",
            "America/Los_Angeles", "America/Anchorage", "Pacific/Honolulu"]
WORLD_ZONES = ["Pacific/Pago_Pago", "Pacific/Honolulu", "America/Anchorage", "America/Los_Angeles",
               "America/Denver", "America/Chicago", "America/New_York", "America/Halifax",
               "America/Sao_Paulo", "Atlantic/South_Georgia", "Atlantic/Azores", "Europe/London",
               "Europe/Paris", "Europe/Athens", "Europe/Moscow", "Asia/Dubai", "Asia/Karachi",
               "Asia/Kolkata", "Asia/Dhaka", "Asia/Bangkok", "Asia/Shanghai", "Asia/Tokyo",
               "Australia/Brisbane", "Pacific/Noumea", "Pacific/Auckland", "Pacific/Tongatapu",
               "Pacific/Kiritimati"]
SENT = ("sent", "delivered", "read")
NOT_SENT = ("failed", "canceled", "uncertain", "quarantined")


def log(text):
    print(text, file=sys.stderr, flush=True)


class Api:
    """One kept-alive connection to the server."""

    def __init__(self):
        self.conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=900)

    def call(self, method, path, body=None, raw=False):
        headers = {"x-api-key": KEY}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["content-type"] = "application/json"
        self.conn.request(method, path, body=data, headers=headers)
        answer = self.conn.getresponse()
        payload = answer.read()
        if answer.status not in (200, 201):
            sys.exit(f"{method} {path}: {answer.status} {payload[:600].decode(errors='replace')}")
        if raw:
            return payload.decode()
        return json.loads(payload) if payload else None


def zones_now():
    """Zones where it is now between 9:00 and 15:00: US ones if any, else any."""
    now = datetime.datetime.now(datetime.timezone.utc)

    def inside(name):
        return 9 <= now.astimezone(zoneinfo.ZoneInfo(name)).hour < 15

    return [z for z in US_ZONES if inside(z)] or [z for z in WORLD_ZONES if inside(z)]


def phone(n):
    return f"+1{CODES[n % 10]}{EXCHANGES[(n // 10000) % len(EXCHANGES)]}{n % 10000:04d}"


def lead(n, zones):
    return {"phoneNumber": phone(n), "externalId": f"bench-{n}", "timeZoneId": zones[n % len(zones)],
            "callData": {"firstName": f"Lead{n}"}}


def load_state():
    with open(STATE) as f:
        return json.load(f)


def setup():
    api = Api()
    zones = zones_now()
    channel = api.call("POST", "/api/v1/channels",
                       {"name": "Bench SMS", "messageProviderType": "SMS", "sender": "+14155550100"})["id"]
    api.call("POST", "/api/v1/templates", {"name": "welcome", "language": "en",
                                           "body": "Hi {{1}}, this is Acme about your request.",
                                           "channelType": "SMS"})
    campaign = api.call("POST", "/api/v1/campaigns", {
        "name": "Bench", "channelId": channel, "defaultTimeZone": "America/New_York",
        "callingHours": [{"day": day, "start": "00:00", "end": "24:00"} for day in DAYS],
        "maxAttempts": 3, "retryInterval": "Daily", "concurrency": CONCURRENCY,
        "openingTemplate": "welcome", "openingTemplateParams": ["{{firstName}}"]})
    assert campaign["status"] == "DRAFT", campaign
    numbers, cap = [], 0
    if POOL:
        cap = math.ceil(LEADS * 1.25 / POOL)
        # Counters reset at midnight in the first lead zone, many hours away.
        settings = {"timeZone": zones[0], "warmupRamp": [cap, 2 * cap, 4 * cap],
                    "steadyDailyCap": 4 * cap, "sendsPerSecond": 1000}
        api.call("PUT", "/api/v1/settings/number-pool", settings)
        started = time.monotonic()
        for i in range(POOL):
            number = f"+1{CODES[i % 10]}555{i // 10:04d}"
            created = api.call("POST", "/api/v1/phone-numbers", {
                "number": number, "channelId": channel, "label": f"pool {i}",
                "capabilities": {"sms": True, "call": False}})
            numbers.append(created["id"])
        log(f"pool: {POOL:,} numbers over {min(POOL, 10)} area codes in {time.monotonic() - started:.1f} s; "
            f"warm-up ramp {settings['warmupRamp']}, {settings['sendsPerSecond']} sends/s per number")
    state = {"channel": channel, "campaign": campaign["id"], "zones": zones, "numbers": numbers, "cap": cap}
    with open(STATE, "w") as f:
        json.dump(state, f)
    log(f"campaign {campaign['id']}: concurrency {campaign['concurrency']}, every day 00:00-24:00; "
        f"lead zones {', '.join(zones)}")


def add_leads():
    state = load_state()
    api = Api()
    started = time.monotonic()
    for first in range(0, LEADS, BULK):
        chunk = [lead(n, state["zones"]) for n in range(first, min(LEADS, first + BULK))]
        answer = api.call("POST", f"/api/v1/campaigns/{state['campaign']}/leads:bulk", {"leads": chunk})
        if answer["accepted"] != len(chunk):
            sys.exit(f"leads:bulk accepted {answer['accepted']} of {len(chunk)}: {answer['rejected'][:3]}")
    log(f"{LEADS:,} leads added through leads:bulk in {time.monotonic() - started:.1f} s")


def write_csv(path):
    zones = load_state()["zones"]
    with open(path, "w", newline="") as f:
        out = csv.writer(f)
        out.writerow(["phoneNumber", "externalId", "timeZoneId", "firstName"])
        for n in range(LEADS):
            item = lead(n, zones)
            out.writerow([item["phoneNumber"], item["externalId"], item["timeZoneId"],
                          item["callData"]["firstName"]])


def proc_status(pid):
    values = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in ("VmHWM", "VmRSS"):
                values[key] = int(value.split()[0]) // 1024  # MiB
    return values


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def loadavg():
    with open("/proc/loadavg") as f:
        return float(f.read().split()[0])


def metric_counts(text, name):
    counts = {}
    for match in re.finditer(rf'^{name}\{{[^}}]*outcome="([^"]+)"[^}}]*\}} ([0-9.e+]+)$', text, re.M):
        counts[match.group(1)] = counts.get(match.group(1), 0) + int(float(match.group(2)))
    return counts


def scan_log(path):
    levels, deferred, samples = {}, 0, []
    with open(path, errors="replace") as f:
        for line in f:
            plain = re.sub(r"\x1b\[[0-9;]*m", "", line)
            match = re.search(r"\b(TRACE|DEBUG|INFO|WARN|ERROR)\b", plain)
            level = match.group(1) if match else "?"
            levels[level] = levels.get(level, 0) + 1
            if "lead deferred" in plain:
                deferred += 1
            if level in ("WARN", "ERROR") and len(samples) < 5:
                samples.append(plain.strip()[:300])
    return levels, deferred, samples


def run():
    state = load_state()
    pid = int(os.environ["SERVER_PID"])
    poll = float(os.environ["POLL"])
    stall = float(os.environ["STALL"])
    campaign = state["campaign"]
    api = Api()
    stats_path = f"/api/v1/campaigns/{campaign}/stats"
    before = api.call("GET", stats_path)
    if before["leads"] != LEADS:
        sys.exit(f"the campaign has {before['leads']} leads, expected {LEADS}")
    try:  # the peak from here on: the campaign's, not the adding of leads
        with open(f"/proc/{pid}/clear_refs", "w") as f:
            f.write("5")
        peak_reset = True
    except OSError:
        peak_reset = False
    rss_before = proc_status(pid)
    cpu_start, load_start = cpu_seconds(pid), loadavg()
    tty = sys.stderr.isatty()
    started = time.monotonic()
    api.call("POST", f"/api/v1/campaigns/{campaign}/activate", {})
    # Until the last two ticks' worth of leads, progress is read from /metrics (the
    # dispatcher's count of sends, cheap at any size); from then on, and when nothing
    # moves, from the campaign's stats, whose queries scan the campaign's leads and
    # messages (tens of ms at 20,000 leads, about 0.4 s at 200,000 on SQLite).
    near = max(2 * CONCURRENCY, 1)
    attempted_after = sent_after = stats = None
    attempted = ended = sent = not_sent = queued = 0
    costs, last_move, last_key, last_line = [], started, None, started
    while True:
        asked = time.monotonic()
        dispatched = metric_counts(api.call("GET", "/metrics", raw=True),
                                   "leadline_dispatch_outcomes_total").get("sent", 0)
        cost = time.monotonic() - asked
        if LEADS - dispatched <= near or time.monotonic() - last_move > stall / 2:
            asked = time.monotonic()
            stats = api.call("GET", stats_path)
            cost = time.monotonic() - asked
            costs.append(cost)
            by_status, sends = stats["byStatus"], stats["sendsByStatus"]
            attempted = stats["attempts"]
            ended = by_status.get("Refused", 0) + by_status.get("Error", 0)
            sent = sum(sends.get(s, 0) for s in SENT)
            not_sent = sum(sends.get(s, 0) for s in NOT_SENT)
            queued = sends.get("queued", 0)
        now = time.monotonic()
        elapsed = now - started
        if stats is not None and attempted_after is None and attempted + ended >= LEADS:
            attempted_after = elapsed
        if attempted_after is not None and sent_after is None and sent + not_sent >= attempted:
            sent_after = elapsed
        key = (dispatched, attempted, ended, sent, not_sent)
        if key != last_key:
            last_key, last_move = key, now
        if now - last_line >= (1.0 if tty else 10.0) or sent_after is not None:
            line = f"{elapsed:8.1f} s  sent {dispatched:>9,} of {LEADS:,} ({dispatched / elapsed:,.0f}/s)"
            if stats is not None:
                line += f"  attempted {attempted:>9,}  queued {queued:>6,}"
            print(("\r" + line) if tty else line, end="" if tty else "\n", file=sys.stderr, flush=True)
            last_line = now
        if sent_after is not None:
            break
        if now - last_move > stall:
            if tty:
                log("")
            page = api.call("GET", f"/api/v1/campaigns/{campaign}/leads?status=New&limit=5")
            for item in page["data"]:
                log(f"  waiting: {item['phoneNumber']} attempts {item['attempts']} "
                    f"next {item.get('nextAttemptAt')} last decision {json.dumps(item.get('lastDecision'))}")
            sys.exit(f"nothing moved for {stall:.0f} s: {json.dumps(stats)}")
        time.sleep(max(poll, 4 * cost))
    if tty:
        log("")
    cpu = cpu_seconds(pid) - cpu_start
    memory = proc_status(pid)
    load_end = loadavg()
    final = api.call("GET", stats_path)
    metrics = api.call("GET", "/metrics", raw=True)
    reservations = metric_counts(metrics, "leadline_number_reservations_total")
    outcomes = metric_counts(metrics, "leadline_dispatch_outcomes_total")
    problems = []
    if final["byStatus"] != {"Complete": LEADS}:
        problems.append(f"leads by status {final['byStatus']}, expected all {LEADS} Complete")
    if final["attempts"] != LEADS:
        problems.append(f"{final['attempts']} attempts for {LEADS} leads")
    total_sends = sum(final["sendsByStatus"].values())
    if total_sends != LEADS or any(final["sendsByStatus"].get(s, 0) for s in NOT_SENT):
        problems.append(f"outbound messages {final['sendsByStatus']}, expected {LEADS} sent")
    pool = None
    if POOL:
        used, caps, states = [], [], {}
        for number_id in state["numbers"]:
            warmup = api.call("GET", f"/api/v1/phone-numbers/{number_id}/warmup")
            used.append(warmup["smsWarmup"]["todayUsed"])
            caps.append(warmup["smsWarmup"]["todayCap"])
            states[warmup["state"]] = states.get(warmup["state"], 0) + 1
        over = [(u, c) for u, c in zip(used, caps) if u > c]
        pool = {"numbers": POOL, "cap": state["cap"], "used": sum(used),
                "numbersUsed": sum(1 for u in used if u), "mostFromOne": max(used),
                "numbersAtCap": sum(1 for u, c in zip(used, caps) if u >= c), "overCap": len(over),
                "states": states}
        if over:
            problems.append(f"{len(over)} numbers over their cap, e.g. {over[:5]} (used, cap)")
        if sum(used) != LEADS:
            problems.append(f"the pool's usage adds up to {sum(used)}, expected {LEADS}")
    levels, deferred, warnings = scan_log(os.environ["SERVER_LOG"])
    if deferred:
        problems.append(f"{deferred} leads deferred for want of a sending number")
    result = {
        "label": os.environ["LABEL"], "leads": LEADS, "pool": pool, "concurrency": CONCURRENCY,
        "attemptedAfterSeconds": round(attempted_after, 2), "sentAfterSeconds": round(sent_after, 2),
        "leadsPerSecond": round(LEADS / attempted_after, 1), "sendsPerSecond": round(LEADS / sent_after, 1),
        "peakRssMiB": memory.get("VmHWM"), "peakRssCoversCampaignOnly": peak_reset,
        "rssBeforeActivationMiB": rss_before.get("VmRSS"), "rssAtEndMiB": memory.get("VmRSS"),
        "serverCpuSeconds": round(cpu, 1), "serverCpuShare": round(cpu / sent_after, 2),
        "loadAverage": [load_start, load_end], "cores": os.cpu_count(),
        "statsPolls": len(costs), "statsPollMedianMs": round(statistics.median(costs) * 1000, 1),
        "reservations": reservations, "dispatchOutcomes": outcomes, "logLines": levels,
        "deferredForNumbers": deferred, "problems": problems,
        "at": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    }
    with open(os.environ["RESULTS"], "w") as f:
        json.dump(result, f, indent=2)
    print(f"{os.environ['LABEL']}: {LEADS:,} leads attempted in {attempted_after:.1f} s "
          f"= {LEADS / attempted_after:,.0f} leads/s; all openings sent after {sent_after:.1f} s "
          f"({LEADS / sent_after:,.0f}/s)")
    print(f"  server: peak RSS {memory.get('VmHWM')} MiB"
          f"{' during the campaign' if peak_reset else ' (whole process)'} (RSS {rss_before.get('VmRSS')} MiB "
          f"at activation, {memory.get('VmRSS')} MiB at the end); CPU {cpu:.1f} s = {cpu / sent_after:.0%} of "
          f"one core; load average {load_start:.1f} -> {load_end:.1f} on {os.cpu_count()} cores")
    print(f"  stats polled {len(costs)} times near the end, median {statistics.median(costs) * 1000:.1f} ms; "
          f"dispatch outcomes {outcomes}")
    if pool:
        print(f"  pool: {pool['numbersUsed']:,} of {POOL:,} numbers sent, {pool['used']:,} sends counted, "
              f"at most {pool['mostFromOne']} from one number (cap {pool['cap']}), {pool['numbersAtCap']} "
              f"at their cap, {pool['overCap']} over it; health {states}; reservations {reservations}")
    print(f"  server log lines by level {levels}; leads deferred for want of a number: {deferred}")
    for line in warnings:
        print(f"    {line}")
    for problem in problems:
        print(f"  PROBLEM: {problem}")
    if problems:
        sys.exit(1)


{"setup": setup, "add-leads": add_leads, "csv": lambda: write_csv(sys.argv[2]), "run": run}[sys.argv[1]]()
PY

echo "$LABEL: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg), $STORE, leads added by $ADD"
python3 "$work/campaign.py" setup
if [ "$ADD" = api ]; then
  python3 "$work/campaign.py" add-leads
else
  CAMPAIGN=$(python3 -c "import json; print(json.load(open('$STATE'))['campaign'])")
  stop_server
  python3 "$work/campaign.py" csv "$work/leads.csv"
  started=$(date +%s.%N)
  "$BIN" import leads --quiet --campaign "$CAMPAIGN" --database-url "$DB_URL" "$work/leads.csv" >"$work/import.json"
  echo "$LEADS leads imported from CSV in $(python3 -c "import time; print(f'{time.time() - $started:.1f}')") s: $(cat "$work/import.json")" >&2
  start_server
fi
status=0
SERVER_PID=$server_pid python3 "$work/campaign.py" run || status=$?
sed 's/\x1b\[[0-9;]*m//g' "$work/server.log" | grep -E ' (WARN|ERROR) ' >"$OUT/$LABEL-server.log" || true
exit "$status"
