#!/usr/bin/env bash
# Load and fault tests of the tokio driver at scale (tests/load_faults/),
# in release mode, one test at a time, on loopback only.
#
#     scripts/load.sh [connections]      # default 10000
#
# HYBI_LOAD_CONNECTIONS is set to the count: scenario 1 opens that many
# echo connections at once; scenario 2 runs 1,000 slowloris handshakes (one
# byte per second, closed at a 3 s handshake timeout) at any count. The
# tests raise the open-files limit themselves (prlimit on
# their own PID) or run fewer connections with a message if they cannot.
# Bounds: HYBI_LOAD_BUILD_TIMEOUT (seconds, default 1800) for the build,
# HYBI_LOAD_TIMEOUT (default 900) for the run.
#
# It prints the test output, then its figures again: the lines that start
# with "load:" (scripts/load.sh takes HYBI_LOAD_MESSAGES too, default 8):
#   - many connections: messages sent, echoed intact, lost, corrupted; the
#     time to open, to echo and to close; VmRSS before, open and idle,
#     after the echoes and idle, and the peak (VmHWM); resident memory per
#     connection (the process holds both ends, so per client-server pair,
#     and half of it per end);
#   - slowloris: when the slow handshakes were closed (client and server
#     side) against the handshake timeout, and how fast the normal clients
#     were served meanwhile;
#   - never-reader: what the socket took before the budget stayed full,
#     the most the connection held (queued bytes and buffers) against
#     max_queued, and the other clients' echoes meanwhile;
#   - vanishing peers: how recv ended after a reset mid-message, a
#     half-close, and silent death (keep-alive's PongTimeout).
set -euo pipefail

cd "$(dirname "$0")/.."
connections="${1:-10000}"
case "$connections" in
'' | *[!0-9]*)
	echo "usage: $0 [connections]" >&2
	exit 2
	;;
esac
export HYBI_LOAD_CONNECTIONS="$connections"
args=(--release --features tokio --test load_faults)

timeout --kill-after=30 "${HYBI_LOAD_BUILD_TIMEOUT:-1800}" cargo test "${args[@]}" --no-run

log="$(mktemp)"
trap 'rm -f "$log"' EXIT
status=0
timeout --kill-after=30 "${HYBI_LOAD_TIMEOUT:-900}" \
	cargo test "${args[@]}" -- --nocapture --test-threads 1 2>&1 | tee "$log" || status=$?

echo
echo "== load figures (HYBI_LOAD_CONNECTIONS=$connections, release, one test at a time) =="
grep -o "load:.*" "$log" || echo "(no figures: the run failed early)"
if [ "$status" -ne 0 ]; then
	echo "load tests failed (exit $status)" >&2
fi
exit "$status"
