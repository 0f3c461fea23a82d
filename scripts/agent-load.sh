#!/usr/bin/env bash
# Agent load: N simulated agents (`sms-tasks agent`) against a release build of the service,
# on a scratch database that the script creates and drops. Every source gets a task, started,
# so the agents poll their queues and report progress; after the warm-up the script measures
# for DURATION seconds: requests/s the service sustained, p50/p99 latency of the command poll
# and of progress reports (from the service's own JSON request log), and the CPU of each
# process.
#
#   scripts/agent-load.sh [SOURCES=1000] [DURATION=60]
#
# Needs: a release build (`cargo build --release -p sms-tasks -p sms-tasks-agent`), python3,
# and the PostgreSQL at DATABASE_URL's server (default postgres://postgres@127.0.0.1:5432).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
SOURCES=${1:-1000}
DURATION=${2:-60}
SERVER=${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}
SERVER=${SERVER%/*}
DB=sms_agent_load_$$
PORT=${PORT:-18555}
WORK=$(mktemp -d)
BIN=target/release

cleanup() {
    [ -n "${AGENT_PID:-}" ] && kill "$AGENT_PID" 2>/dev/null || true
    [ -n "${SERVICE_PID:-}" ] && kill "$SERVICE_PID" 2>/dev/null || true
    wait 2>/dev/null || true
    psql "$SERVER/postgres" -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1 || true
    rm -rf "$WORK"
}
trap cleanup EXIT

export DATABASE_URL="$SERVER/$DB"
TOKEN=$("$BIN/sms-tasks" tokens create --domain agentload0000000000000000000000 2>/dev/null | awk '/^token:/ {print $2}')
SMS__LOG__FORMAT=json SMS__DATABASE__POOL_SIZE=16 "$BIN/sms-tasks" serve --listen "127.0.0.1:$PORT" \
    >"$WORK/service.log" 2>&1 &
SERVICE_PID=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$PORT/health/ready" >/dev/null && break; sleep 0.1; done

"$BIN/sms-tasks-agent" --endpoint "http://127.0.0.1:$PORT" --token "$TOKEN" --sources "$SOURCES" \
    --name-prefix load --pace-secs 60 --max-rps 100000 --no-progress >"$WORK/agent.out" 2>/dev/null &
AGENT_PID=$!

python3 - "$WORK" "$PORT" "$TOKEN" "$SOURCES" "$DURATION" "$SERVICE_PID" "$AGENT_PID" <<'PY'
import json, os, re, sys, time, urllib.request
from concurrent.futures import ThreadPoolExecutor

work, port, token, sources, duration, service_pid, agent_pid = sys.argv[1:]
sources, duration = int(sources), int(duration)
base = f"http://127.0.0.1:{port}"

def call(method, path, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(base + path, data=data, method=method,
                                 headers={"X-Auth-Token": token, "Content-Type": "application/json"})
    with urllib.request.urlopen(req) as r:
        return json.loads(r.read() or b"{}")

ids = []
while len(ids) < sources:
    with open(f"{work}/agent.out") as f:
        ids = [json.loads(l)["id"] for l in f if '"event":"source"' in l]
    time.sleep(0.2)

def task_for(source):
    task = call("POST", "/v3/tasks", {"name": "load", "type": "MIGRATE_FILE", "os_type": "LINUX",
        "region_name": "r", "region_id": "r", "project_name": "p", "project_id": "p",
        "source_server": {"id": source}, "target_server": {"name": "t", "vm_id": "vm"}})["id"]
    call("POST", f"/v3/tasks/{task}/action", {"operation": "start"})

with ThreadPoolExecutor(16) as pool:
    list(pool.map(task_for, ids))

def cpu_seconds(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

def postgres_cpu():
    total = 0.0
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                if open(f"/proc/{pid}/comm").read().strip() == "postgres":
                    total += cpu_seconds(pid)
            except OSError:
                pass
    return total

time.sleep(5)  # warm-up: every agent has its START and reports
start_wall, start_log = time.time(), os.path.getsize(f"{work}/service.log")
start_cpu = {"service": cpu_seconds(service_pid), "agent": cpu_seconds(agent_pid), "postgres": postgres_cpu()}
time.sleep(duration)
wall = time.time() - start_wall
cpu = {"service": cpu_seconds(service_pid), "agent": cpu_seconds(agent_pid), "postgres": postgres_cpu()}

routes = {"poll (GET /v3/sources/{id}/command)": re.compile(r"^/v3/sources/[^/]+/command$"),
          "progress (PUT /v3/tasks/{id}/progress)": re.compile(r"^/v3/tasks/[^/]+/progress$"),
          "command_result": re.compile(r"^/v3/sources/[^/]+/command_result$")}
samples, total, errors = {name: [] for name in routes}, 0, 0
with open(f"{work}/service.log") as f:
    f.seek(start_log)
    for line in f:
        try:
            event = json.loads(line)
        except ValueError:
            continue
        if event.get("message") != "served":
            continue
        total += 1
        if event["status"] >= 500:
            errors += 1
        path = (event.get("span") or {}).get("path", "")
        for name, pattern in routes.items():
            if pattern.match(path):
                samples[name].append(event["elapsed_ms"])

def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p))] if values else float("nan")

print(f"agents: {sources}, measured {wall:.1f} s after a 5 s warm-up")
print(f"service: {total / wall:.0f} requests/s in all, {errors} answers >= 500")
for name, values in samples.items():
    print(f"  {name}: {len(values) / wall:.0f}/s, p50 {pct(values, 0.5):.2f} ms, p99 {pct(values, 0.99):.2f} ms")
for name in cpu:
    print(f"CPU {name}: {100 * (cpu[name] - start_cpu[name]) / wall:.0f}% of one core")
states = {}
for task in call("GET", "/v3/tasks?limit=200")["tasks"]:
    states[task["state"]] = states.get(task["state"], 0) + 1
print(f"task states (newest 200): {states}")
PY
