#!/usr/bin/env bash
# Fuzzes every operation of the API against its own OpenAPI document (issue 17, point 8): no server
# error, every status and response body as documented. Starts the given hotline binary on a scratch
# SQLite database with an admin, runs schemathesis with that admin's token, and stops the server.
# Usage: ops/schemathesis.sh [path/to/hotline] [seconds]   (schemathesis: pip install schemathesis)
set -euo pipefail
bin=$(realpath "${1:-target/release/hotline}")
budget=${2:-120}
work=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
HOTLINE_LISTEN=127.0.0.1:$port HOTLINE_DATABASE_URL="sqlite://$work/hotline.db" HOTLINE_MAIL_DIR="$work/mail" \
    HOTLINE_BOOTSTRAP_ADMIN=fuzz-admin:fuzz-admin-password HOTLINE_DEMO=off RUST_LOG=warn \
    "$bin" serve >"$work/serve.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.1; done
token=$(curl -sf "http://127.0.0.1:$port/api/auth/login" -H 'content-type: application/json' \
    -d '{"username":"fuzz-admin","password":"fuzz-admin-password"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
cd "$work" # schemathesis leaves its own folder where it runs
# Logging out would end the run's own session (the suite tests it instead). One worker: with two,
# hypothesis parses lambdas' source from two threads and CPython 3.11.7's AST constructor fails
# ("recursion depth mismatch", cpython gh-106905) — a tool crash CI once reported as an API error.
st run "http://127.0.0.1:$port/api/openapi.json" -H "Authorization: Bearer $token" \
    --exclude-path /api/auth/logout \
    --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
    --max-time "$budget" --workers 1 --seed 1 --no-color
