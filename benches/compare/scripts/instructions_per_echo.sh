#!/bin/bash
# User-space instructions per echo of one socket_echo server under steady
# load (16 B x 100 connections unless told), counted by callgrind: the
# server runs under valgrind (SOCKET_ECHO_WRAP), its counters are zeroed
# after the warm-up, and over the next 4 s its recvfrom calls (one per
# echo) are counted with perf's syscall tracepoint.
#
#   bash scripts/instructions_per_echo.sh hybi [SIZE]
#   bash scripts/instructions_per_echo.sh fastwebsockets
#
# Needs valgrind (callgrind_control) and perf; run from benches/compare.
# Under valgrind the server is the slow side, so every wake-up finds many
# connections ready: the count is the server's work per echo with its
# event loop's costs spread thin, the same for every server.
# tokio-tungstenite is too slow under valgrind to reach steady load in the
# window (a few hundred echoes): its count is not meaningful here.
set -euo pipefail
server=${1:?usage: instructions_per_echo.sh SERVER [SIZE]}
size=${2:-16}
out=$(mktemp -d)
cargo build --release --bin socket_echo >&2
SOCKET_ECHO_WRAP="valgrind --tool=callgrind --callgrind-out-file=$out/cg.%p" \
  ./target/release/socket_echo bench --servers "$server" --sizes "$size" \
  --conns 100 --secs 10 --warmup 4 --rounds 1 > "$out/bench.txt" 2>&1 &
bench=$!
sleep 6
child=$(pgrep -P "$bench" | head -1)
callgrind_control -z "$child" > /dev/null
perf stat -x, -p "$child" -e syscalls:sys_enter_recvfrom -- sleep 4 2> "$out/perf.txt"
callgrind_control -d "$child" > /dev/null
wait "$bench"
echoes=$(grep recvfrom "$out/perf.txt" | cut -d, -f1)
dump=$(ls "$out"/cg."$child".* | grep -v "\.$child$" | head -1)
instructions=$(grep -E "^(summary|totals):" "$dump" | head -1 | awk '{print $2}')
echo "$server $size B: $((instructions / echoes)) instructions per echo ($echoes echoes; profile $dump)"
