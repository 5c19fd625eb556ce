#!/usr/bin/env bash
# Autobahn|Testsuite conformance harness for hybi.
#
#   bash tests/autobahn/run.sh [server|client|both|install]   (default: both)
#
# See tests/autobahn/README.md for what it runs and the environment variables.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)

ROLE=${1:-both}
case "$ROLE" in
  server | client | both | install) ;;
  *)
    echo "usage: $0 [server|client|both|install]" >&2
    exit 2
    ;;
esac

REQUIREMENTS="$HERE/requirements-py27.txt"
CACHE_BASE=${XDG_CACHE_HOME:-$HOME/.cache}/hybi
ENV_DIR=${HYBI_AUTOBAHN_ENV:-$CACHE_BASE/autobahn-py27}
TOOLS_DIR=${HYBI_AUTOBAHN_TOOLS:-$CACHE_BASE/virtualenv-py3}
WORK_DIR=${HYBI_AUTOBAHN_WORKDIR:-$ROOT/target/autobahn}
CASES=${HYBI_AUTOBAHN_CASES:-*}
ROLE_TIMEOUT=${HYBI_AUTOBAHN_TIMEOUT:-600}
INSTALL_TIMEOUT=${HYBI_AUTOBAHN_INSTALL_TIMEOUT:-900}
BUILD_TIMEOUT=${HYBI_AUTOBAHN_BUILD_TIMEOUT:-1800}
VIRTUALENV_PIN=virtualenv==20.15.1
PYTHON3=${HYBI_PYTHON3:-python3}

log() { echo "autobahn-harness: $*" >&2; }
die() {
  log "error: $*"
  exit 1
}

# --------------------------------------------------------------------------
# Process bookkeeping: every background process we start is recorded here and
# stopped by PID on exit (never by name).
PIDS=()
cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do
    if kill -0 "$pid" 2>/dev/null; then
      kill "$pid" 2>/dev/null || true
    fi
  done
  for pid in "${PIDS[@]}"; do
    # Bounded wait: escalate to SIGKILL (still by PID) after ~5 s.
    local i
    for i in $(seq 1 50); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
      kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true
  done
  PIDS=()
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Forget a recorded PID that has already been reaped with wait.
forget_pid() {
  local i keep=()
  for i in "${PIDS[@]}"; do
    [ "$i" = "$1" ] || keep+=("$i")
  done
  PIDS=("${keep[@]+"${keep[@]}"}")
}

# Stop one recorded background process (by PID) and forget it.
stop_pid() {
  local pid=$1 i
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid" 2>/dev/null || true
    for i in $(seq 1 50); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
      kill -KILL "$pid" 2>/dev/null || true
    fi
  fi
  wait "$pid" 2>/dev/null || true
  forget_pid "$pid"
}

# --------------------------------------------------------------------------
# Install: python3 venv holding virtualenv (which can still create 2.7
# environments), then a 2.7 environment with the pinned suite.

find_python27() {
  local cand
  if [ -n "${HYBI_PYTHON27:-}" ]; then
    echo "$HYBI_PYTHON27"
    return
  fi
  if command -v pyenv >/dev/null 2>&1; then
    cand="$(pyenv root)/versions/2.7.18/bin/python"
    if [ -x "$cand" ]; then
      echo "$cand"
      return
    fi
  fi
  for cand in "${PYENV_ROOT:-$HOME/.pyenv}/versions/2.7.18/bin/python" \
    "$(command -v python2.7 2>/dev/null || true)"; do
    if [ -n "$cand" ] && [ -x "$cand" ]; then
      echo "$cand"
      return
    fi
  done
  die "no Python 2.7 found (set HYBI_PYTHON27, or install 2.7.18 with pyenv)"
}

install_virtualenv_tool() {
  local stamp="$TOOLS_DIR/.hybi-stamp" want
  want="$VIRTUALENV_PIN $("$PYTHON3" -c 'import sys; print(sys.version.split()[0])')"
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -x "$TOOLS_DIR/bin/virtualenv" ]; then
    return
  fi
  log "installing $VIRTUALENV_PIN into $TOOLS_DIR"
  rm -rf "$TOOLS_DIR"
  mkdir -p "$(dirname "$TOOLS_DIR")"
  if "$PYTHON3" -m venv "$TOOLS_DIR" >/dev/null 2>&1 && [ -x "$TOOLS_DIR/bin/pip" ]; then
    timeout "$INSTALL_TIMEOUT" "$TOOLS_DIR/bin/pip" install --quiet "$VIRTUALENV_PIN"
  else
    # No usable venv module (e.g. Debian without python3-venv): plain target dir.
    rm -rf "$TOOLS_DIR"
    mkdir -p "$TOOLS_DIR/lib" "$TOOLS_DIR/bin"
    PIP_ROOT_USER_ACTION=ignore timeout "$INSTALL_TIMEOUT" "$PYTHON3" -m pip install --quiet --target "$TOOLS_DIR/lib" "$VIRTUALENV_PIN"
    cat >"$TOOLS_DIR/bin/virtualenv" <<EOF
#!/bin/sh
PYTHONPATH="$TOOLS_DIR/lib\${PYTHONPATH:+:\$PYTHONPATH}" exec "$(command -v "$PYTHON3")" -m virtualenv "\$@"
EOF
    chmod +x "$TOOLS_DIR/bin/virtualenv"
  fi
  echo "$want" >"$stamp"
}

install_suite() {
  local py27 stamp="$ENV_DIR/.hybi-stamp" want
  [ -f "$REQUIREMENTS" ] || die "missing $REQUIREMENTS"
  py27=$(find_python27)
  want="$(sha256sum "$REQUIREMENTS" | cut -d' ' -f1) $py27"
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -x "$ENV_DIR/bin/wstest" ]; then
    return
  fi
  install_virtualenv_tool
  if [ -e "$ENV_DIR" ] && [ ! -f "$ENV_DIR/pyvenv.cfg" ] && [ ! -f "$stamp" ]; then
    die "$ENV_DIR exists but is not an environment this script made; remove it or set HYBI_AUTOBAHN_ENV"
  fi
  log "installing autobahntestsuite (Python 2.7: $py27) into $ENV_DIR"
  rm -rf "$ENV_DIR"
  mkdir -p "$(dirname "$ENV_DIR")"
  timeout "$INSTALL_TIMEOUT" "$TOOLS_DIR/bin/virtualenv" --quiet --python "$py27" "$ENV_DIR"
  # pip 20.3.4 is the newest pip for 2.7; setuptools is pinned by the file.
  timeout "$INSTALL_TIMEOUT" "$ENV_DIR/bin/python" -m pip install --quiet \
    --no-python-version-warning -r "$REQUIREMENTS"
  [ -x "$ENV_DIR/bin/wstest" ] || die "install finished but $ENV_DIR/bin/wstest is missing"
  "$ENV_DIR/bin/python" -c 'import autobahntestsuite, autobahn, twisted' ||
    die "installed environment cannot import the suite"
  echo "$want" >"$stamp"
  log "installed autobahntestsuite into $ENV_DIR"
}

ensure_installed() {
  mkdir -p "$CACHE_BASE" "$(dirname "$ENV_DIR")"
  # Serialise concurrent installs into the same cache.
  exec 9>"$ENV_DIR.lock"
  flock -w "$INSTALL_TIMEOUT" 9 || die "timed out waiting for the install lock $ENV_DIR.lock"
  install_suite
  flock -u 9
  exec 9>&-
}

ensure_installed
if [ "$ROLE" = install ]; then
  log "suite installed: $ENV_DIR/bin/wstest"
  exit 0
fi

# --------------------------------------------------------------------------
# Build (once) and the commands under test.

TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
case "$TARGET_DIR" in /*) ;; *) TARGET_DIR="$ROOT/$TARGET_DIR" ;; esac
SERVER_CMD=${HYBI_ECHO_SERVER_CMD:-}
CLIENT_CMD=${HYBI_AUTOBAHN_CLIENT_CMD:-}
need_build=0
if [ "$ROLE" != client ] && [ -z "$SERVER_CMD" ]; then
  SERVER_CMD=$(printf '%q' "$TARGET_DIR/release/examples/echo_server")
  need_build=1
fi
if [ "$ROLE" != server ] && [ -z "$CLIENT_CMD" ]; then
  CLIENT_CMD=$(printf '%q' "$TARGET_DIR/release/examples/autobahn_client")
  need_build=1
fi
if [ "$need_build" = 1 ] && [ "${HYBI_AUTOBAHN_SKIP_BUILD:-0}" != 1 ]; then
  log "cargo build --release --examples --features deflate"
  (cd "$ROOT" && timeout "$BUILD_TIMEOUT" cargo build --release --examples --features deflate --quiet) ||
    die "cargo build --release --examples --features deflate failed"
fi

for bin in echo_server autobahn_client; do
  want=$TARGET_DIR/release/examples/$bin
  if [ "$SERVER_CMD" = "$(printf '%q' "$want")" ] || [ "$CLIENT_CMD" = "$(printf '%q' "$want")" ]; then
    [ -x "$want" ] || die "$want does not exist (build it, or unset HYBI_AUTOBAHN_SKIP_BUILD)"
  fi
done

mkdir -p "$WORK_DIR/logs" "$WORK_DIR/reports"

# wstest whose listening sockets bind 127.0.0.1 only. autobahntestsuite's
# fuzzingserver (and echoserver) call listenWS()/listenTCP() without an
# interface, i.e. on every interface, whatever host the spec's "url" names; no
# spec key changes that. This launcher defaults Twisted's listen interface to
# 127.0.0.1 and then runs the unmodified wstest entry point.
LAUNCHER="$WORK_DIR/wstest_loopback.py"
cat >"$LAUNCHER" <<'PY'
import sys
from autobahntestsuite import choosereactor  # must come first: installs the reactor
from twisted.internet import reactor

def _loopback(orig, index):
    def listen(*args, **kwargs):
        args = list(args)
        if len(args) > index:
            if not args[index]:
                args[index] = "127.0.0.1"
        elif not kwargs.get("interface"):
            kwargs["interface"] = "127.0.0.1"
        return orig(*args, **kwargs)
    return listen

reactor.listenTCP = _loopback(reactor.listenTCP, 3)  # (port, factory, backlog, interface)
reactor.listenSSL = _loopback(reactor.listenSSL, 4)  # (port, factory, ctx, backlog, interface)
from autobahntestsuite import wstest
sys.argv[0] = "wstest"
wstest.run()
PY
WSTEST="$(printf '%q' "$ENV_DIR/bin/python") -u $(printf '%q' "$LAUNCHER")"

# Expand {port} {addr} {url} {wstest} in a command; without any of the first
# three, append the default address argument.
expand_cmd() {
  local cmd=$1 port=$2 default_arg=$3
  case "$cmd" in
    *'{port}'* | *'{addr}'* | *'{url}'*) ;;
    *) cmd="$cmd $default_arg" ;;
  esac
  cmd=${cmd//\{port\}/$port}
  cmd=${cmd//\{addr\}/127.0.0.1:$port}
  cmd=${cmd//\{url\}/ws://127.0.0.1:$port}
  cmd=${cmd//\{wstest\}/$WSTEST}
  printf '%s' "$cmd"
}

# start_bg LOG LIMIT CMD: start CMD in the background, bounded by LIMIT seconds.
start_bg() {
  timeout "$2" bash -c "exec $3" >"$1" 2>&1 </dev/null &
  BG_PID=$!
  PIDS+=("$BG_PID")
}

# run_bounded LOG LIMIT CMD: run CMD to completion (bounded); status in RC.
run_bounded() {
  start_bg "$@"
  RC=0
  wait "$BG_PID" || RC=$?
  forget_pid "$BG_PID"
}

status_text() {
  case "$1" in
    0) echo "exit status 0" ;;
    124) echo "timed out after $2 s" ;;
    *) echo "exit status $1" ;;
  esac
}

# wait_listening PORT PID WHAT: bounded wait until PORT is listening.
wait_listening() {
  local port=$1 pid=$2 what=$3 i addrs
  for i in $(seq 1 "$((START_TIMEOUT * 10))"); do
    if addrs=$("$PYTHON3" "$HERE/report.py" listening "$port"); then
      if printf '%s\n' "$addrs" | grep -qvE '^(127\.|::ffff:127\.|::1$)'; then
        ERRORS+=("$ROLE_NAME" "$what listens beyond loopback on port $port: $(echo $addrs)")
      fi
      return 0
    fi
    kill -0 "$pid" 2>/dev/null || return 1
    sleep 0.1
  done
  return 1
}
START_TIMEOUT=${HYBI_AUTOBAHN_START_TIMEOUT:-30}

# write_spec FILE servers|url URL OUTDIR: the fuzzingclient spec ("servers")
# or the fuzzingserver spec ("url"); "cases" from HYBI_AUTOBAHN_CASES.
write_spec() {
  "$PYTHON3" - "$@" "$CASES" <<'PY'
import json, sys
path, kind, url, outdir, cases = sys.argv[1:6]
spec = {"outdir": outdir}
if kind == "servers":
    # "agent" names the report entry. Without it the suite uses the server's
    # Server header, and a case whose opening handshake fails gets agent None,
    # on which the suite's report writer crashes and the run hangs.
    spec["servers"] = [{"agent": "hybi", "url": url}]
else:
    spec["url"] = url
spec["cases"] = [c.strip() for c in cases.split(",") if c.strip()]
spec["exclude-cases"] = []
spec["exclude-agent-cases"] = {}
with open(path, "w") as f:
    json.dump(spec, f, indent=2)
    f.write("\n")
PY
}

# The suite's own expansion of the spec's case patterns (authoritative list of
# cases that must appear in the report).
expected_cases() {
  "$ENV_DIR/bin/python" - "$1" "$2" <<'PY'
import json, sys
from autobahntestsuite.case import Cases, CaseCategories, CaseSubCategories, CaseSetname, CaseBasename
from autobahntestsuite.caseset import CaseSet
spec = json.load(open(sys.argv[1]))
cs = CaseSet(CaseSetname, CaseBasename, Cases, CaseCategories, CaseSubCategories)
json.dump(cs.parseSpecCases(spec), open(sys.argv[2], "w"))
PY
}

ERRORS=()
RUNS=()

# --------------------------------------------------------------------------
# Server role: the suite's fuzzing client against our echo server.
run_server_role() {
  ROLE_NAME=server
  local port outdir spec cmd server_pid logf
  port=$("$PYTHON3" "$HERE/report.py" free-port)
  outdir="$WORK_DIR/reports/server"
  spec="$WORK_DIR/fuzzingclient.json"
  rm -rf "$outdir"
  mkdir -p "$outdir"
  write_spec "$spec" servers "ws://127.0.0.1:$port" "$outdir"
  expected_cases "$spec" "$WORK_DIR/expected-server.json" ||
    ERRORS+=(server "could not expand the spec's case list")
  RUNS+=(server "$outdir" "$WORK_DIR/expected-server.json" "")

  cmd=$(expand_cmd "$SERVER_CMD" "$port" "127.0.0.1:$port")
  log "server role: starting: $cmd"
  start_bg "$WORK_DIR/logs/echo_server.log" "$((ROLE_TIMEOUT + 60))" "$cmd"
  server_pid=$BG_PID
  if ! wait_listening "$port" "$server_pid" "echo server"; then
    ERRORS+=(server "echo server did not listen on 127.0.0.1:$port within ${START_TIMEOUT} s (log: $WORK_DIR/logs/echo_server.log)")
    stop_pid "$server_pid"
    return
  fi
  log "server role: wstest -m fuzzingclient against ws://127.0.0.1:$port (limit ${ROLE_TIMEOUT} s)"
  logf=$WORK_DIR/logs/fuzzingclient.log
  run_bounded "$logf" "$ROLE_TIMEOUT" "$WSTEST -m fuzzingclient -s $(printf '%q' "$spec")"
  if [ "$RC" != 0 ]; then
    ERRORS+=(server "wstest -m fuzzingclient: $(status_text "$RC" "$ROLE_TIMEOUT") (log: $logf)")
  fi
  if ! kill -0 "$server_pid" 2>/dev/null; then
    local src=0
    wait "$server_pid" || src=$?
    forget_pid "$server_pid"
    ERRORS+=(server "echo server exited before the run ended: $(status_text "$src" "$((ROLE_TIMEOUT + 60))") (log: $WORK_DIR/logs/echo_server.log)")
  else
    stop_pid "$server_pid"
  fi
}

# --------------------------------------------------------------------------
# Client role: our client against the suite's fuzzing server.
run_client_role() {
  ROLE_NAME=client
  local port outdir spec cmd fz_pid logf
  port=$("$PYTHON3" "$HERE/report.py" free-port)
  outdir="$WORK_DIR/reports/client"
  spec="$WORK_DIR/fuzzingserver.json"
  rm -rf "$outdir"
  mkdir -p "$outdir"
  write_spec "$spec" url "ws://127.0.0.1:$port" "$outdir"
  expected_cases "$spec" "$WORK_DIR/expected-client.json" ||
    ERRORS+=(client "could not expand the spec's case list")
  RUNS+=(client "$outdir" "$WORK_DIR/expected-client.json" hybi)

  log "client role: wstest -m fuzzingserver on ws://127.0.0.1:$port"
  start_bg "$WORK_DIR/logs/fuzzingserver.log" "$((ROLE_TIMEOUT + 60))" \
    "$WSTEST -m fuzzingserver --webport 0 -s $(printf '%q' "$spec")"
  fz_pid=$BG_PID
  if ! wait_listening "$port" "$fz_pid" "fuzzingserver"; then
    ERRORS+=(client "wstest -m fuzzingserver did not listen on 127.0.0.1:$port within ${START_TIMEOUT} s (log: $WORK_DIR/logs/fuzzingserver.log)")
    stop_pid "$fz_pid"
    return
  fi
  cmd=$(expand_cmd "$CLIENT_CMD" "$port" "ws://127.0.0.1:$port")
  log "client role: running: $cmd (limit ${ROLE_TIMEOUT} s)"
  logf=$WORK_DIR/logs/autobahn_client.log
  run_bounded "$logf" "$ROLE_TIMEOUT" "$cmd"
  if [ "$RC" != 0 ]; then
    ERRORS+=(client "client: $(status_text "$RC" "$ROLE_TIMEOUT") (log: $logf)")
  fi
  if kill -0 "$fz_pid" 2>/dev/null; then
    if [ ! -f "$outdir/index.json" ]; then
      ERRORS+=(client "the client did not request /updateReports?agent=hybi; the harness did")
    fi
    # Regenerate the reports from everything the fuzzing server saw, so a
    # client that died midway still leaves a report of its finished cases.
    "$PYTHON3" "$HERE/report.py" ws-get --timeout 60 "ws://127.0.0.1:$port/updateReports?agent=hybi" >/dev/null ||
      ERRORS+=(client "harness request /updateReports failed")
  else
    local src=0
    wait "$fz_pid" || src=$?
    forget_pid "$fz_pid"
    ERRORS+=(client "wstest -m fuzzingserver exited early: $(status_text "$src" "$((ROLE_TIMEOUT + 60))") (log: $WORK_DIR/logs/fuzzingserver.log)")
    return
  fi
  stop_pid "$fz_pid"
}

if [ "$ROLE" = server ] || [ "$ROLE" = both ]; then
  run_server_role
fi
if [ "$ROLE" = client ] || [ "$ROLE" = both ]; then
  run_client_role
fi

# --------------------------------------------------------------------------
# Judge the reports.
args=()
i=0
while [ "$i" -lt "${#RUNS[@]}" ]; do
  args+=(--run "${RUNS[i]}" "${RUNS[i + 1]}" "${RUNS[i + 2]}" "${RUNS[i + 3]}")
  i=$((i + 4))
done
i=0
while [ "$i" -lt "${#ERRORS[@]}" ]; do
  args+=(--error "${ERRORS[i]}" "${ERRORS[i + 1]}")
  i=$((i + 2))
done
log "logs: $WORK_DIR/logs, reports: $WORK_DIR/reports"
rc=0
"$PYTHON3" "$HERE/report.py" summarize "${args[@]}" || rc=$?
exit "$rc"
