#!/usr/bin/env bash
# Runs examples/echo_server and examples/tokio_echo_server (the tokio
# driver) against an independent client (Python's `websockets`): text,
# binary, 1 MiB and 3 MiB messages, ping, clean close; and hybi's two line
# clients (examples/client on the blocking driver, examples/tokio_client,
# over ws and wss) against both servers, every line echoed in order.
# Installs the client into a cached virtualenv; stops the server it started.
set -euo pipefail
cd "$(dirname "$0")/../.."

env_dir="${HYBI_INTEROP_ENV:-$HOME/.cache/hybi/interop-py3}"
reqs=tests/interop/requirements.txt
stamp="$env_dir/.hybi-stamp"
want=$(sha256sum "$reqs" | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  rm -rf "$env_dir"
  python3 -m venv "$env_dir"
  "$env_dir/bin/pip" install --quiet --disable-pip-version-check -r "$reqs"
  echo "$want" > "$stamp"
fi

[ "${HYBI_INTEROP_SKIP_BUILD:-0}" = 1 ] || cargo build --release --quiet --features deflate,blocking,tokio-rustls \
  --example echo_server --example echo_client --example tokio_echo_server --example test_cert \
  --example client --example tokio_client
# Waits (at most 10 s) until something listens on 127.0.0.1:$1.
wait_for_port() {
  for _ in $(seq 1 100); do
    python3 -c "import socket; socket.create_connection(('127.0.0.1', $1), 0.2).close()" 2>/dev/null && return
    sleep 0.1
  done
}

# A line client (the example's name, then its arguments) sends three lines
# on stdin; it must print each echo back, in order, then close.
line_client() {
  local name=$1 want got rc=0
  shift
  want=$'one\ntwo\nżółć ✓'
  got=$(printf '%s\n' "$want" | timeout 30 "target/release/examples/$name" "$@" 2>/dev/null) || rc=$?
  if [ "$rc" -ne 0 ] || [ "$got" != "$want" ]; then
    echo "$name $* (exit $rc) printed:"
    printf '%s\n' "$got"
    return 1
  fi
  echo "$name $*: 3 lines echoed in order"
}

status=0
server_pid=
log=$(mktemp)
trap 'if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi; rm -f "$log"' EXIT
for server in echo_server tokio_echo_server; do
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  target/release/examples/$server "127.0.0.1:$port" >"$log" 2>&1 &
  server_pid=$!
  wait_for_port "$port"
  echo "websockets client against $server:"
  timeout 120 "$env_dir/bin/python" tests/interop/websockets_client.py "ws://127.0.0.1:$port/" || status=$?
  line_client client "ws://127.0.0.1:$port/" || status=1
  line_client tokio_client "ws://127.0.0.1:$port/" || status=1
  sleep 0.2
  echo "$server log:"
  cat "$log"
  kill "$server_pid" 2>/dev/null || true
  wait "$server_pid" 2>/dev/null || true
  server_pid=
done

# Node's ws client against tokio_echo_server (ws pinned by
# tests/interop/node/package-lock.json, installed into a cached directory);
# skipped with a message where Node is not installed.
if command -v node >/dev/null && command -v npm >/dev/null; then
  node_dir="${HYBI_INTEROP_NODE:-$HOME/.cache/hybi/interop-node}"
  node_want=$(cat tests/interop/node/package.json tests/interop/node/package-lock.json | sha256sum | cut -d' ' -f1)
  if [ ! -f "$node_dir/.hybi-stamp" ] || [ "$(cat "$node_dir/.hybi-stamp")" != "$node_want" ]; then
    rm -rf "$node_dir"
    mkdir -p "$node_dir"
    cp tests/interop/node/package.json tests/interop/node/package-lock.json "$node_dir/"
    (cd "$node_dir" && npm ci --silent --no-audit --no-fund)
    echo "$node_want" > "$node_dir/.hybi-stamp"
  fi
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  target/release/examples/tokio_echo_server "127.0.0.1:$port" >"$log" 2>&1 &
  server_pid=$!
  wait_for_port "$port"
  echo "node ws client against tokio_echo_server:"
  NODE_PATH="$node_dir/node_modules" timeout 120 node tests/interop/node/ws_client.js "ws://127.0.0.1:$port/" || status=$?
  kill "$server_pid" 2>/dev/null || true
  wait "$server_pid" 2>/dev/null || true
  server_pid=
else
  echo "node ws interop skipped: node and npm are not installed here"
fi

# wss: tokio_echo_server over TLS with a certificate made now, the client
# trusting that certificate only.
certs=$(mktemp -d)
target/release/examples/test_cert "$certs" >/dev/null
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
target/release/examples/tokio_echo_server "127.0.0.1:$port" --tls "$certs/cert.pem" "$certs/key.pem" >"$log" 2>&1 &
server_pid=$!
wait_for_port "$port"
echo "websockets client against tokio_echo_server over wss:"
timeout 120 "$env_dir/bin/python" tests/interop/websockets_client.py "wss://localhost:$port/" --ca "$certs/cert.pem" || status=$?
line_client tokio_client "wss://localhost:$port/" --ca "$certs/cert.pem" || status=1
sleep 0.2
echo "tokio_echo_server (wss) log:"
cat "$log"
kill "$server_pid" 2>/dev/null || true
wait "$server_pid" 2>/dev/null || true
server_pid=
rm -rf "$certs"

# The other direction: hybi's client (examples/echo_client) against a
# websockets echo server, with permessage-deflate and without.
for mode in "" --no-deflate; do
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  timeout 150 "$env_dir/bin/python" tests/interop/websockets_server.py "$port" &
  py_pid=$!
  wait_for_port "$port"
  echo "echo_client ${mode:-(deflate)} against websockets:"
  timeout 120 target/release/examples/echo_client "ws://127.0.0.1:$port/" $mode || status=$?
  wait "$py_pid" || status=$?
done
exit "$status"
