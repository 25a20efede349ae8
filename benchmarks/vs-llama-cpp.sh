#!/usr/bin/env bash
# tandem vs llama.cpp on the same GGUF files, the same thread counts, one after the other (issue #13):
# llama-bench's pp512 / tg128, then `tandem bench` with the same tests, per file and thread count, and a
# markdown table of both with the ratio tandem / llama.cpp and tandem's decode bandwidth.
#
#   benchmarks/vs-llama-cpp.sh --llama-bench PATH [--threads "1 2"] [--kernels "f32 q8"] [-r 3] [-p 512] [-n 128] MODEL.gguf...
#
# llama.cpp is built outside this repository (CPU-only CMake build of the llama-bench target). Before each
# pair the script waits (up to --idle-wait seconds) for the 1-minute load average to fall below --idle-load,
# and says in the table when it did not.
set -euo pipefail
ROOT="$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)"
LLAMA=""
THREADS="1 2"
KERNELS="f32"
REPS=3
NP=512
NG=128
IDLE_LOAD=0.3
IDLE_WAIT=60
MODELS=()
while [ $# -gt 0 ]; do
  case "$1" in
    --llama-bench) LLAMA="$2"; shift 2 ;;
    --threads) THREADS="$2"; shift 2 ;;
    --kernels) KERNELS="$2"; shift 2 ;;
    -r) REPS="$2"; shift 2 ;;
    -p) NP="$2"; shift 2 ;;
    -n) NG="$2"; shift 2 ;;
    --idle-load) IDLE_LOAD="$2"; shift 2 ;;
    --idle-wait) IDLE_WAIT="$2"; shift 2 ;;
    -h|--help) sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "vs-llama-cpp: unknown option '$1'" >&2; exit 2 ;;
    *) MODELS+=("$1"); shift ;;
  esac
done
[ -x "$LLAMA" ] || { echo "vs-llama-cpp: --llama-bench PATH (an executable llama-bench) is required" >&2; exit 2; }
[ ${#MODELS[@]} -gt 0 ] || { echo "vs-llama-cpp: name at least one model file" >&2; exit 2; }
"$ROOT/bin/tandem" --version >/dev/null

# avg_ts of test NAME (pp512, tg128) from llama-bench jsonl or tandem bench json on stdin
avg_ts() { tr -d '\n' | grep -o "\"n_prompt\"[^}]*" | awk -v want="$1" '
  { np = $0; sub(/.*"n_prompt" *: */, "", np); sub(/[^0-9].*/, "", np)
    ng = $0; sub(/.*"n_gen" *: */, "", ng); sub(/[^0-9].*/, "", ng)
    ts = $0; sub(/.*"avg_ts" *: */, "", ts); sub(/[^0-9.eE+-].*/, "", ts)
    name = (np > 0 ? "pp" np : "tg" ng); if (name == want) print ts }'; }

wait_idle() {
  local waited=0
  while awk -v max="$IDLE_LOAD" '{ exit !($1 >= max) }' /proc/loadavg && [ "$waited" -lt "$IDLE_WAIT" ]; do
    sleep 5; waited=$((waited + 5))
  done
  cut -d' ' -f1 /proc/loadavg
}

echo "| file | threads | test | llama.cpp t/s | tandem kernels | tandem t/s | tandem / llama.cpp | load before |"
echo "|---|---:|---|---:|---|---:|---:|---:|"
for m in "${MODELS[@]}"; do
  for t in $THREADS; do
    load=$(wait_idle)
    l=$("$LLAMA" -m "$m" -t "$t" -p "$NP" -n "$NG" -r "$REPS" -o jsonl 2>/dev/null)
    for k in $KERNELS; do
      b=$("$ROOT/bin/tandem" bench --model "$m" -t "$t" -p "$NP" -n "$NG" -r "$REPS" --kernels "$k" -o json 2>"/tmp/vs-llama-cpp-$$.err")
      grep -E "bandwidth|warning|other processes" "/tmp/vs-llama-cpp-$$.err" | sed "s|^|$(basename "$m") t=$t $k: |" >&2 || true
      for test in "pp$NP" "tg$NG"; do
        lt=$(printf '%s' "$l" | avg_ts "$test"); tt=$(printf '%s' "$b" | avg_ts "$test")
        ratio=$(awk -v a="$tt" -v b="$lt" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "—" }')
        printf '| %s | %s | %s | %.2f | %s | %.2f | %s | %s |\n' "$(basename "$m")" "$t" "$test" "${lt:-0}" "$k" "${tt:-0}" "$ratio" "$load"
      done
    done
  done
done
rm -f "/tmp/vs-llama-cpp-$$.err"
