#!/bin/sh
# bench.sh - iotcored and Mosquitto side by side, same machine, same load.
#
# Starts Debian's mosquitto and iotcored with equivalent settings (plaintext
# listener on loopback, no persistence of messages, AWS rate limits off on
# iotcored so both run unthrottled), pins each broker to one CPU and the
# load generator to another, runs the same scenarios against both, and
# prints: scenario, metric, mosquitto, iotcored, ratio (iotcored/mosquitto).
# Each run also prints its JSON lines (kept in $IOTCORED_BENCH_OUT, default
# build/bench/results.jsonl). Loopback only; every run is bounded.
#
# `bench.sh policy`, `bench.sh shadow` and `bench.sh rules` run iotcored
# alone (see below); they do not need Mosquitto.
set -eu
cd "$(dirname "$0")/.."

BUILD=${BUILD:-build}
BENCH=$BUILD/iotcored-bench
DAEMON=$BUILD/iotcored
OUT=${IOTCORED_BENCH_OUT:-$BUILD/bench/results.jsonl}
DUR=${BENCH_DURATION:-5}
MOSQ=$(command -v mosquitto || echo /usr/sbin/mosquitto)
case "${1:-}" in
policy|shadow|rules) ;;
*) [ -x "$MOSQ" ] || { echo "bench: mosquitto not found (sh scripts/install-deps.sh)" >&2; exit 1; } ;;
esac
ncpu=$(nproc)
BROKER_CPU=0
GEN_CPU=$((ncpu > 1 ? 1 : 0))
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"

work=$(mktemp -d /tmp/iotcored-bench-XXXXXX)
mkdir -p "$(dirname "$OUT")"
: > "$OUT"
pid=""
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT INT TERM

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

start_broker() { # name -> sets pid, port (iotcored: ctl_port, its /metrics)
    port=$(free_port)
    ctl_port=$(free_port)
    case "$1" in
    mosquitto)
        cat > "$work/mosquitto.conf" <<CONF
listener $port 127.0.0.1
allow_anonymous true
persistence false
max_inflight_messages 100
max_queued_messages 1000
set_tcp_nodelay true
log_dest stderr
log_type error
CONF
        taskset -c $BROKER_CPU "$MOSQ" -c "$work/mosquitto.conf" 2>"$work/mosquitto.log" &
        pid=$!
        ;;
    iotcored)
        rm -rf "$work/data"
        # the broker enforces IoT policies: allow-all, or (BENCH_POLICY=
        # bench-10-statements) ten statements with variables, the last one
        # allowing the benchmark's topics
        cat > "$work/seed.json" <<'SEED'
{"policies": [
 {"name": "bench-allow-all", "document": {"Version": "2012-10-17",
  "Statement": [{"Effect": "Allow", "Action": "iot:*", "Resource": "*"}]}},
 {"name": "bench-10-statements", "document": {"Version": "2012-10-17",
  "Statement": [
   {"Effect": "Allow", "Action": "iot:Connect", "Resource": "arn:aws:iot:*:*:client/${iot:ClientId}"},
   {"Effect": "Deny", "Action": "iot:Publish", "Resource": "arn:aws:iot:*:*:topic/admin/*"},
   {"Effect": "Deny", "Action": "iot:Subscribe", "Resource": "arn:aws:iot:*:*:topicfilter/admin/*"},
   {"Effect": "Allow", "Action": "iot:Publish", "Resource": "arn:aws:iot:*:*:topic/dev/${iot:ClientId}/*"},
   {"Effect": "Allow", "Action": "iot:Subscribe", "Resource": "arn:aws:iot:*:*:topicfilter/dev/${iot:ClientId}/*"},
   {"Effect": "Allow", "Action": "iot:Receive", "Resource": "arn:aws:iot:*:*:topic/dev/${iot:ClientId}/*"},
   {"Effect": "Deny", "Action": "iot:RetainPublish", "Resource": "arn:aws:iot:*:*:topic/bench/no-retain/*"},
   {"Effect": "Allow", "Action": ["iot:Publish", "iot:Receive"], "Resource": "arn:aws:iot:*:*:topic/$aws/things/${iot:ClientId}/*"},
   {"Effect": "Allow", "Action": "iot:Subscribe", "Resource": "arn:aws:iot:*:*:topicfilter/$aws/things/${iot:ClientId}/*"},
   {"Effect": "Allow", "Action": ["iot:Publish", "iot:Subscribe", "iot:Receive"], "Resource": ["arn:aws:iot:*:*:topic/bench/*", "arn:aws:iot:*:*:topicfilter/bench/*", "arn:aws:iot:*:*:topicfilter/$share/bench/*"]}
  ]}}
]}
SEED
        # BENCH_RULES=republish|ten: topic rules for `bench.sh rules`
        if [ -n "${BENCH_RULES:-}" ]; then
            python3 - "$work/seed.json" "$BENCH_RULES" <<'PY'
import json, sys
path, kind = sys.argv[1], sys.argv[2]
seed = json.load(open(path))
role = "arn:aws:iam::123456789012:role/bench"
if kind == "republish":
    rules = [{"name": "bench_republish", "payload": {
        "sql": "SELECT * FROM 'bench/in/+' WHERE v < 1000",
        "actions": [{"republish": {"roleArn": role, "topic": "bench/out/${topic(3)}",
                                   "qos": 0}}]}}]
else:
    # ten rules on the delivered topics, each evaluated for every message
    # (JSON parsed, WHERE tested) and never firing: the cost of evaluation
    rules = [{"name": "bench_eval_%d" % i, "payload": {
        "sql": "SELECT v, topic(3) AS dev FROM 'bench/#' WHERE v >= %d" % (1000 + i),
        "actions": [{"republish": {"roleArn": role, "topic": "bench/never/%d" % i}}]}}
        for i in range(10)]
seed["topicRules"] = rules
json.dump(seed, open(path, "w"))
PY
        fi
        cat > "$work/iotcored.conf" <<CONF
data_dir $work/data
log_level warning
log_file $work/iotcored.log
persistence_sync ${BENCH_SYNC:-normal}
max_inflight_messages 100
max_queued_messages 1000
publish_rate_limit 0
throughput_limit 0
connect_rate_limit 0
seed $work/seed.json
listener mqtt
  bind 127.0.0.1
  port $port
  tls off
  listener_policy ${BENCH_POLICY:-bench-allow-all}
listener control
  bind 127.0.0.1
  port $ctl_port
  protocol control
  tls off
CONF
        taskset -c $BROKER_CPU "$DAEMON" -c "$work/iotcored.conf" &
        pid=$!
        ;;
    esac
    # wait until it accepts connections (bounded)
    i=0
    until python3 -c "import socket,sys; socket.create_connection(('127.0.0.1',$port),0.2)" 2>/dev/null; do
        i=$((i + 1)); [ $i -lt 100 ] || { echo "bench: $1 did not start" >&2; exit 1; }
        sleep 0.05
    done
}

stop_broker() {
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    pid=""
}

run() { # broker scenario-name args...
    b=$1; name=$2; shift 2
    echo "== $b: $name" >&2
    taskset -c $GEN_CPU "$BENCH" --port "$port" --broker-pid "$pid" --label "$b" --json "$@" |
        sed "s/^{/{\"case\":\"$name\",/" | tee -a "$OUT" >&2
}

# `bench.sh shadow`: Device Shadow updates over MQTT, iotcored alone
# (Mosquitto has no shadow service). 100 devices, one connection each
# (client ID bench-dev-<i>), QoS 1 both ways, each with at most 8 update
# requests unanswered (AWS allows 10 in flight per connection), closed loop
# on update/accepted: the rate the broker sustains, with the latency from
# publish to update/accepted. The shadows are written to SQLite in data_dir
# (a fresh database per run, WAL, the store's group commit) with
# `persistence_sync normal`, then `full`; then the same devices paced at
# 200 updates/s each (20,000/s offered, the target) with `normal`, for the
# latency at that load (from each update's scheduled send time). With
# `normal` iotcored answers at once and the row follows in the next group
# commit; with `full` it answers after the commit, so that latency includes
# the commit and its fsync.
if [ "${1:-}" = shadow ]; then
    echo "bench: shadow: iotcored only; Mosquitto has no Device Shadow service (its column is n/a)" >&2
    for sync in normal full; do
        BENCH_SYNC=$sync
        start_broker iotcored
        run iotcored "shadow_100_$sync" --scenario shadow --devices 100 --window 8 \
            --qos 1 --rate 0 --duration "$DUR"
        if [ "$sync" = normal ]; then
            run iotcored shadow_100_normal_20k --scenario shadow --devices 100 \
                --window 8 --qos 1 --rate 200 --duration "$DUR"
        fi
        # the store's group commit over the broker's run: writes per transaction
        curl -s "http://127.0.0.1:$ctl_port/metrics" | python3 -c '
import sys, json
m = {}
for l in sys.stdin:
    if l.startswith("iotcored_store_"):
        k, v = l.split()
        m[k] = float(v)
print(json.dumps({"case": "store_" + sys.argv[1], "broker": "metrics",
                  "commits": m.get("iotcored_store_commits_total", 0),
                  "writes": m.get("iotcored_store_writes_total", 0)}))' "$sync" | tee -a "$OUT" >&2
        stop_broker
        n=$(grep -c ' error ' "$work/iotcored.log" 2>/dev/null || true)
        [ "${n:-0}" -eq 0 ] || { echo "bench: iotcored logged $n errors ($sync):" >&2;
                                 grep ' error ' "$work/iotcored.log" | head -5 >&2; }
    done
    BENCH_SYNC=normal
    python3 - "$OUT" <<'PY'
import json, sys
rows = {}
for l in open(sys.argv[1]):
    if l.strip():
        r = json.loads(l)
        rows[r["case"]] = r
cases = [("shadow_100_normal", "normal, saturation"),
         ("shadow_100_full", "full, saturation"),
         ("shadow_100_normal_20k", "normal, 20,000/s offered")]
metrics = [("updates_per_s", "updates/s", "%.0f"),
           ("p50_us", "p50 us publish->accepted", "%.0f"),
           ("p99_us", "p99 us publish->accepted", "%.0f"),
           ("rejected", "rejected", "%d"),
           ("loss", "unanswered", "%d"),
           ("broker_cpu_pct", "broker CPU % (1 core)", "%.0f"),
           ("cpu_us_per_msg", "broker CPU us/update", "%.1f")]
print("%-26s %-26s %10s %12s" % ("scenario (100 devices)", "metric", "mosquitto", "iotcored"))
for case, label in cases:
    r = rows.get(case)
    if r is None:
        continue
    for key, name, fmt in metrics:
        print("%-26s %-26s %10s %12s" % (label, name, "n/a", fmt % r[key]))
for sync in ("normal", "full"):
    r = rows.get("store_" + sync)
    if r and r["commits"]:
        print("%-26s %-26s %10s %12.1f" % (sync + ", whole run", "writes per transaction",
                                           "n/a", r["writes"] / r["commits"]))
PY
    exit 0
fi

# `bench.sh rules`: the Rules Engine, iotcored alone. (1) Messages per
# second through one republish rule with a WHERE clause (SELECT * FROM
# 'bench/in/+' WHERE v < 1000, republished to bench/out/${topic(3)}):
# publishers send JSON payloads to bench/in/<i>, subscribers receive them
# only from the rule, closed loop on that delivery. (2) Plain delivery
# (the same JSON payloads, 1->1 and 1->100 QoS 0 saturation, and 100 pairs
# at 500 msg/s each) with no rules and with ten rules on bench/# whose
# WHERE never holds, so every message is parsed and tested ten times and
# nothing fires. Rules run after delivery, from a bounded queue
# (rules_queue_max): messages the engine could not take are counted in
# iotcored_rule_dropped_total, read from /metrics after each broker run.
if [ "${1:-}" = rules ]; then
    metrics() { # case -> one JSON line of rule counters into $OUT
        curl -s "http://127.0.0.1:$ctl_port/metrics" | python3 -c '
import sys, json
m = {}
for l in sys.stdin:
    if l.startswith("iotcored_rule"):
        k, v = l.split()
        m[k] = float(v)
print(json.dumps({"case": sys.argv[1], "broker": "metrics", "rule_matches": m.get("iotcored_rule_matches_total", 0),
                  "rule_executions": m.get("iotcored_rule_executions_total", 0),
                  "rule_dropped": m.get("iotcored_rule_dropped_total", 0)}))' "$1" | tee -a "$OUT" >&2
    }
    BENCH_RULES=republish
    start_broker iotcored
    run iotcored rule_republish_1 --scenario p2p --pubs 1 --via-rule --rate 0 --qos 0 --duration "$DUR"
    run iotcored rule_republish_10 --scenario p2p --pubs 10 --via-rule --rate 0 --qos 0 --duration "$DUR"
    metrics rule_republish
    stop_broker
    for r in none ten ten none; do
        if [ $r = none ]; then BENCH_RULES=; else BENCH_RULES=$r; fi
        start_broker iotcored
        run "rules_$r" sat_1to1_json --scenario p2p --pubs 1 --json-payload --rate 0 --qos 0 --duration "$DUR"
        run "rules_$r" fanout_1to100_json --scenario fanout --pubs 1 --subs 100 --json-payload --rate 0 --qos 0 --duration "$DUR"
        run "rules_$r" p2p_100_500hz_json --scenario p2p --pubs 100 --json-payload --rate 500 --qos 0 --duration "$DUR"
        metrics "rules_$r"
        stop_broker
    done
    BENCH_RULES=
    python3 - "$OUT" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
by = {}
for r in rows:
    by.setdefault((r["case"], r["broker"]), []).append(r)
for case in ("rule_republish_1", "rule_republish_10"):
    for r in by.get((case, "iotcored"), []):
        print("%-22s through the rule: %10.0f msg/s  p50 %8.0f us  p99 %8.0f us  loss %d  CPU %.2f us/msg"
              % (case, r["delivered_per_s"], r["p50_us"], r["p99_us"], r["loss"], r["cpu_us_per_msg"]))
for m in by.get(("rule_republish", "metrics"), []):
    print("%-22s rule executions %.0f, dropped (queue full) %.0f" % ("rule_republish", m["rule_executions"], m["rule_dropped"]))
def mean(case, b, k):
    v = [r[k] for r in by.get((case, b), []) if r.get(k) is not None]
    return sum(v) / len(v) if v else None
print("%-22s %-18s %12s %12s %7s" % ("scenario", "metric (mean of 2)", "no rules", "10 rules", "ratio"))
for case in ("sat_1to1_json", "fanout_1to100_json", "p2p_100_500hz_json"):
    for k in ("delivered_per_s", "cpu_us_per_msg", "p99_us"):
        a, b = mean(case, "rules_none", k), mean(case, "rules_ten", k)
        ratio = "%.2f" % (b / a) if a and b else "-"
        print("%-22s %-18s %12.3f %12.3f %7s" % (case, k, a or 0, b or 0, ratio))
for m in by.get(("rules_ten", "metrics"), []):
    print("10 rules: rule evaluations %.0f, dropped (queue full) %.0f" % (m["rule_matches"], m["rule_dropped"]))
PY
    exit 0
fi

# `bench.sh policy`: the cost of policy evaluation, iotcored alone, the
# same load with the allow-all policy and with a 10-statement policy using
# variables (every publish, subscribe and delivery is authorized).
if [ "${1:-}" = policy ]; then
    # A B B A, so that neither policy always runs first
    for pol in bench-allow-all bench-10-statements bench-10-statements bench-allow-all; do
        BENCH_POLICY=$pol
        start_broker iotcored
        run "$pol" sat_1to1_qos0 --scenario p2p --pubs 1 --rate 0 --qos 0 --duration "$DUR"
        run "$pol" fanout_1to100_qos0 --scenario fanout --pubs 1 --subs 100 --rate 0 --qos 0 --duration "$DUR"
        run "$pol" p2p_100_qos1 --scenario p2p --pubs 100 --rate 0 --qos 1 --duration "$DUR"
        stop_broker
    done
    python3 - "$OUT" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
by = {}
for r in rows:
    by.setdefault((r["case"], r["broker"]), []).append(r)
def mean(case, pol, m):
    v = [r[m] for r in by.get((case, pol), []) if r.get(m)]
    return sum(v) / len(v) if v else None
print("%-22s %-16s %14s %14s %7s" % ("scenario", "metric (mean of 2)", "allow-all", "10 statements", "ratio"))
for case in ("sat_1to1_qos0", "fanout_1to100_qos0", "p2p_100_qos1"):
    for m in ("delivered_per_s", "cpu_us_per_msg"):
        a = mean(case, "bench-allow-all", m)
        b = mean(case, "bench-10-statements", m)
        ratio = "%.2f" % (b / a) if a and b else "-"
        print("%-22s %-16s %14.3f %14.3f %7s" % (case, m, a or 0, b or 0, ratio))
PY
    exit 0
fi

for b in mosquitto iotcored; do
    start_broker $b
    run $b sat_1to1_qos0 --scenario p2p --pubs 1 --rate 0 --qos 0 --duration "$DUR"
    run $b fanout_1to100_qos0 --scenario fanout --pubs 1 --subs 100 --rate 0 --qos 0 --duration "$DUR"
    run $b p2p_1000_qos1_1hz --scenario p2p --pubs 1000 --rate 1 --qos 1 --duration $((DUR * 2)) --warmup 2
    run $b knee_p2p10_qos1 --scenario p2p --pubs 10 --qos 1 --duration 3 --p99-us 10000 \
        --sweep 1000,5000,10000,20000,40000,80000,160000
    stop_broker
    start_broker $b
    run $b idle_10000 --scenario conn --conns 10000 --connect-rate 5000
    stop_broker
done

python3 - "$OUT" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
by = {}
for r in rows:
    key = (r["case"], r["broker"])
    if "knee_rate_per_pub" in r:
        by.setdefault(key, {})["knee"] = r["knee_rate_per_pub"] * 10
    else:
        by.setdefault(key, {}).setdefault("runs", []).append(r)

def metric(case, broker, what):
    d = by.get((case, broker), {})
    if what == "knee":
        return d.get("knee")
    r = d.get("runs", [{}])[-1]
    return r.get(what)

table = [
    ("1->1 QoS0 saturation", "sat_1to1_qos0", "delivered_per_s", "msg/s"),
    ("1->1 QoS0 saturation", "sat_1to1_qos0", "cpu_us_per_msg", "broker CPU us/msg"),
    ("1->100 fan-out QoS0", "fanout_1to100_qos0", "delivered_per_s", "deliveries/s"),
    ("1->100 fan-out QoS0", "fanout_1to100_qos0", "cpu_us_per_msg", "broker CPU us/delivery"),
    ("1000 p2p QoS1 @1/s", "p2p_1000_qos1_1hz", "loss", "lost messages"),
    ("1000 p2p QoS1 @1/s", "p2p_1000_qos1_1hz", "p99_us", "p99 latency us"),
    ("1000 p2p QoS1 @1/s", "p2p_1000_qos1_1hz", "p50_us", "p50 latency us"),
    ("QoS1 p2p x10 knee", "knee_p2p10_qos1", "knee", "msg/s (0 loss, p99<10ms)"),
    ("10000 idle conns", "idle_10000", "bytes_per_conn", "RSS bytes/conn"),
]
print("%-24s %-26s %12s %12s %7s" % ("scenario", "metric", "mosquitto", "iotcored", "ratio"))
for label, case, what, unit in table:
    m, i = metric(case, "mosquitto", what), metric(case, "iotcored", what)
    ratio = "%.2f" % (i / m) if isinstance(m, (int, float)) and m and i is not None else "-"
    fmt = lambda v: "-" if v is None else ("%.1f" % v if isinstance(v, float) else str(v))
    print("%-24s %-26s %12s %12s %7s" % (label, unit, fmt(m), fmt(i), ratio))
PY
