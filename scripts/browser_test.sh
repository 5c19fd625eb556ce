#!/usr/bin/env bash
# The chat example (examples/chat) in a real browser: Debian's Chromium,
# driven by playwright-core (pinned by tests/browser/package-lock.json and
# installed into a cached directory; Playwright's own browser download is
# never used), against the example on a free loopback port. The scenario is
# tests/browser/chat.js; the screenshot goes to target/browser/chat.png.
#
# Installs Chromium with apt-get where it is missing and the machine allows
# it; without Node, npm or a browser the test says it is skipped and exits 0.
# Stops what it started by PID.
set -euo pipefail
cd "$(dirname "$0")/.."

chromium=${CHROMIUM:-/usr/bin/chromium}
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "browser test skipped: node and npm are not installed here"
  exit 0
fi
if [ ! -x "$chromium" ]; then
  if [ "$chromium" = /usr/bin/chromium ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "installing Debian's chromium"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -q --no-install-recommends chromium >/dev/null ||
      { apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends chromium >/dev/null; } ||
      true
  fi
  if [ ! -x "$chromium" ]; then
    echo "browser test skipped: no $chromium and it cannot be installed here"
    exit 0
  fi
fi

node_dir="${HYBI_BROWSER_NODE:-$HOME/.cache/hybi/browser-node}"
want=$(cat tests/browser/package.json tests/browser/package-lock.json | sha256sum | cut -d' ' -f1)
if [ ! -f "$node_dir/.hybi-stamp" ] || [ "$(cat "$node_dir/.hybi-stamp")" != "$want" ]; then
  rm -rf "$node_dir"
  mkdir -p "$node_dir"
  cp tests/browser/package.json tests/browser/package-lock.json "$node_dir/"
  (cd "$node_dir" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --silent --no-audit --no-fund)
  echo "$want" > "$node_dir/.hybi-stamp"
fi

[ "${HYBI_BROWSER_SKIP_BUILD:-0}" = 1 ] || cargo build --release --quiet --features tokio,deflate --example chat

# Waits (at most 10 s) until something listens on 127.0.0.1:$1.
wait_for_port() {
  for _ in $(seq 1 100); do
    python3 -c "import socket; socket.create_connection(('127.0.0.1', $1), 0.2).close()" 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}

work=$(mktemp -d)
server_pid=
cleanup() {
  exec 3>&- 2>/dev/null || true
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

mkdir -p target/browser
rm -f target/browser/chat.png
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
# The scenario stops the server with SIGTERM (CHAT_PID).
target/release/examples/chat "127.0.0.1:$port" --allow-origin http://allowed.example \
  </dev/null >"$work/server.log" 2>&1 &
server_pid=$!
if ! wait_for_port "$port"; then
  echo "the chat server did not start:"
  cat "$work/server.log"
  exit 1
fi

status=0
passed=0
failed=0
ok() { echo "ok - $*"; passed=$((passed + 1)); }
not_ok() { echo "not ok - $*"; failed=$((failed + 1)); status=1; }
start=$(date +%s%N)
CHAT_URL="http://127.0.0.1:$port" CHAT_EXTRA_ORIGIN=http://allowed.example CHAT_PID="$server_pid" CHAT_LOG="$work/server.log" \
  CHAT_SHOT=target/browser/chat.png CHROMIUM="$chromium" PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 \
  NODE_PATH="$node_dir/node_modules" timeout 240 node tests/browser/chat.js | tee "$work/node.out" ||
  status=1
counts=$(grep -E '^browser: [0-9]+ passed, [0-9]+ failed$' "$work/node.out" | tail -n 1 || true)
if [ -n "$counts" ]; then
  passed=$(echo "$counts" | sed -E 's/^browser: ([0-9]+) passed.*/\1/')
  failed=$(echo "$counts" | sed -E 's/.* ([0-9]+) failed$/\1/')
else
  not_ok "the scenario did not finish"
fi

# Waits (at most 10 s) for the server $server_pid, stopped by $1, to exit
# with 0 having logged why ($2) and that every closing handshake finished.
expect_clean_exit() {
  for _ in $(seq 1 100); do
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$server_pid" 2>/dev/null; then
    not_ok "the server did not exit within 10 s of $1"
  else
    server_status=0
    wait "$server_pid" || server_status=$?
    if [ "$server_status" = 0 ]; then
      ok "$1: the server exited with 0"
    else
      not_ok "$1: the server exited with $server_status"
    fi
  fi
  server_pid=
  if grep -q "^stopping ($2)" "$work/server.log" && grep -q '^all connections closed$' "$work/server.log"; then
    ok "$1: the server stopped for $2 and saw every closing handshake finish"
  else
    not_ok "$1: the server log does not show a stop for $2 with every connection closed"
  fi
}

# The scenario ended by sending SIGTERM.
expect_clean_exit SIGTERM SIGTERM
cp "$work/server.log" "$work/scenario.log"

# Ctrl-C (SIGINT) and `quit` on standard input stop a fresh server the same
# way. Job control gives the background server a default SIGINT disposition
# (a non-interactive shell would start it with SIGINT ignored); its standard
# input is a FIFO that fd 3 holds open until `quit` is written to it.
stop_fresh_server() {
  rm -f "$work/stdin"
  mkfifo "$work/stdin"
  set -m
  target/release/examples/chat "127.0.0.1:$port" <"$work/stdin" >"$work/server.log" 2>&1 &
  server_pid=$!
  set +m
  exec 3>"$work/stdin"
  if ! wait_for_port "$port"; then
    not_ok "$1: the chat server did not start again"
    exec 3>&-
    return
  fi
  if [ "$1" = quit ]; then
    echo quit >&3
  else
    kill -"$1" "$server_pid"
  fi
  expect_clean_exit "$1" "$2"
  exec 3>&-
}
stop_fresh_server INT Ctrl-C
stop_fresh_server quit "quit on standard input"
if [ -s target/browser/chat.png ]; then
  ok "target/browser/chat.png is $(stat -c %s target/browser/chat.png) bytes"
else
  not_ok "target/browser/chat.png is missing or empty"
fi
echo "server log (scenario):"
sed 's/^/  /' "$work/scenario.log"
echo "# browser test took $((($(date +%s%N) - start) / 1000000)) ms"
[ "$failed" = 0 ] || status=1
echo "browser_test: $passed passed, $failed failed"
exit "$status"
