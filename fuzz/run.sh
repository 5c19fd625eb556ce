#!/usr/bin/env bash
# Builds every fuzz target and runs each for SECONDS (default 60) from the
# checked-in seed corpus. New inputs go to a scratch corpus under
# fuzz/target/, so the checked-in seeds stay as they are. Crashes land in
# fuzz/artifacts/<target>/ and fail the run.
#   bash fuzz/run.sh [SECONDS] [TARGET...]
set -euo pipefail
cd "$(dirname "$0")"
seconds="${1:-60}"
shift || true
export RUSTC_BOOTSTRAP=1   # cargo-fuzz passes nightly-only flags (sanitizers)

if ! command -v cargo-fuzz >/dev/null 2>&1; then
  cargo install cargo-fuzz --locked --version 0.13.2
fi

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  mapfile -t targets < <(cargo fuzz list)
fi
# -a: debug assertions on, so the engine's internal checks (such as the one
# behind every text handed out without a second validation) run under fuzzing.
cargo fuzz build -O -a
for target in "${targets[@]}"; do
  scratch="target/corpus/$target"
  log="target/fuzz-$target.log"
  mkdir -p "$scratch" "corpus/$target"
  echo "== fuzz $target for ${seconds}s"
  status=0
  cargo fuzz run -O -a "$target" "$scratch" "corpus/$target" -- \
    -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
    >"$log" 2>&1 || status=$?
  grep -E '^(Done|stat::(number_of_executed_units|average_exec_per_sec|new_units_added|peak_rss_mb))' "$log" || true
  grep -E 'cov: [0-9]+' "$log" | tail -n 1 || true
  if [ "$status" -ne 0 ]; then
    tail -n 60 "$log"
    echo "fuzz: $target failed (exit $status); reproducer in fuzz/artifacts/$target/"
    exit 1
  fi
done
echo "fuzz: ${#targets[@]} targets ran ${seconds}s each without a crash"
