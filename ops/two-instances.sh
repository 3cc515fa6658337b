#!/usr/bin/env bash
# Two `hotline serve` instances on one PostgreSQL database behind haproxy on loopback, and a storm
# through haproxy that kills one instance with SIGKILL halfway (`hotline storm --target`, README
# "Capacity"). Fails when a ticket a caller was told is lost, a queue item is handed out twice, an
# escalation step fires twice or a webhook fails twice (once is retried, as providers do).
#
#   bash ops/two-instances.sh            # CALLS=3000 CONCURRENCY=16 OPERATORS=4 by default
#
# Needs the release build (built here when out of date), haproxy, and a PostgreSQL server where
# PGUSER (postgres) may create databases on PGHOST:PGPORT (127.0.0.1:5432); the run gets a new
# database of its own, dropped afterwards.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
here="$repo/ops/two-instances"
calls="${CALLS:-3000}"
concurrency="${CONCURRENCY:-16}"
operators="${OPERATORS:-4}"
export PGHOST="${PGHOST:-127.0.0.1}" PGPORT="${PGPORT:-5432}" PGUSER="${PGUSER:-postgres}"

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$repo/target}"
(cd "$repo" && env -u HOTLINE_TEST_POSTGRES_URL cargo build --release --locked --quiet)
hotline="$CARGO_TARGET_DIR/release/hotline"
command -v haproxy >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq haproxy; }

work="$(mktemp -d)"
db="hotline_two_instances_$$"
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    # They are disowned (so the shell does not report the kill as an error): poll until gone.
    for pid in "${pids[@]}"; do
        for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
        kill -KILL "$pid" 2>/dev/null || true
    done
    dropdb --if-exists --force "$db" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

# A loopback port nobody listens on; each call returns a different one.
taken=" "
free_port() {
    local port
    while :; do
        port=$((20000 + RANDOM % 40000))
        case "$taken" in *" $port "*) continue ;; esac
        if ! ss -Htln "sport = :$port" | grep -q .; then taken="$taken$port "; echo "$port"; return; fi
    done
}
port_a="$(free_port)"; port_b="$(free_port)"; proxy_port="$(free_port)"; stats_port="$(free_port)"
proxy="http://127.0.0.1:$proxy_port"
database_url="postgres://$PGUSER@$PGHOST:$PGPORT/$db"
token="$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"
createdb "$db"

# Waits for URL to answer 200, while process PID lives, up to a deadline.
wait_for() {
    local url="$1" pid="$2" what="$3" deadline=$((SECONDS + 60))
    until curl -fsS -o /dev/null "$url" 2>/dev/null; do
        kill -0 "$pid" 2>/dev/null || { echo "$what exited before it was ready:"; tail -n 30 "$work/$what.log"; exit 1; }
        ((SECONDS < deadline)) || { echo "$what was not ready within 60 s:"; tail -n 30 "$work/$what.log"; exit 1; }
        sleep 0.05
    done
}

# One instance: the shared database, its own port and mail folder; the URLs it hands the
# provider point at haproxy.
start_instance() {
    local name="$1" port="$2"
    mkdir -p "$work/$name"
    (cd "$work/$name" && exec env $(env | grep -o '^HOTLINE_[A-Z_]*' | sed 's/^/-u /') \
        HOTLINE_LISTEN="127.0.0.1:$port" \
        HOTLINE_PUBLIC_URL="$proxy" \
        HOTLINE_DATABASE_URL="$database_url" \
        HOTLINE_DEMO=off \
        HOTLINE_TWILIO_AUTH_TOKEN="$token" \
        HOTLINE_JAMBONZ_SECRET="$token" \
        HOTLINE_MAIL_DIR="$work/$name/mail-outbox" \
        HOTLINE_ESCALATION_POLICIES="$here/policies.toml" \
        "$hotline" serve) > "$work/$name.log" 2>&1 &
    pids+=($!)
    eval "pid_$name=$!"
    disown
}

# One after the other: the first creates and fills the database, the second finds it ready.
start_instance a "$port_a"
wait_for "http://127.0.0.1:$port_a/readyz" "$pid_a" a
start_instance b "$port_b"
wait_for "http://127.0.0.1:$port_b/readyz" "$pid_b" b
echo "instances: a (pid $pid_a) on 127.0.0.1:$port_a, b (pid $pid_b) on 127.0.0.1:$port_b; database $db"

export TWO_INSTANCES_PROXY_PORT="$proxy_port" TWO_INSTANCES_PORT_A="$port_a" TWO_INSTANCES_PORT_B="$port_b" \
    TWO_INSTANCES_STATS_PORT="$stats_port"
haproxy -c -q -f "$here/haproxy.cfg"
haproxy -db -f "$here/haproxy.cfg" > "$work/haproxy.log" 2>&1 &
pids+=($!)
haproxy_pid=$!
disown

# haproxy's view of the instances: name, status, requests, retries, redispatches, 5xx answers.
servers() {
    curl -fsS "http://127.0.0.1:$stats_port/stats;csv" 2>/dev/null | awk -F, '
        NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
        $1 == "instances" && $2 != "BACKEND" {
            printf "%s %s %s %s %s %s\n", $2, $col["status"], $col["stot"], $col["wretr"], $col["wredis"], $col["hrsp_5xx"] }'
}
deadline=$((SECONDS + 60))
until [ "$(servers | awk '$2 == "UP"' | wc -l)" = 2 ]; do
    kill -0 "$haproxy_pid" 2>/dev/null || { echo "haproxy exited:"; cat "$work/haproxy.log"; exit 1; }
    ((SECONDS < deadline)) || { echo "haproxy did not see both instances up within 60 s:"; servers; exit 1; }
    sleep 0.05
done
echo "haproxy on $proxy sees both instances up"

status=0
"$hotline" storm --target "$proxy" --database-url "$database_url" --secret "$token" \
    --calls "$calls" --concurrency "$concurrency" --operators "$operators" \
    --kill-pid "$pid_a" --kill-after $((calls / 2)) || status=$?

echo "haproxy's view afterwards (instance, status, requests, retries, redispatches, 5xx answers):"
servers | sed 's/^/  /'
if kill -0 "$pid_a" 2>/dev/null; then echo "instance a is still running: it was not killed"; status=1; fi
if ! kill -0 "$pid_b" 2>/dev/null; then echo "instance b died too:"; tail -n 30 "$work/b.log"; status=1; fi
if grep -q "panicked" "$work/b.log"; then echo "instance b panicked:"; grep -m5 "panicked" "$work/b.log"; status=1; fi
if [ "$status" = 0 ]; then echo "two instances: passed"; else echo "two instances: FAILED"; fi
exit "$status"
