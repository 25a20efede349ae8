#!/usr/bin/env bash
# The serving study: tandem --mode split vs --mode colocated (and llama-server, when given) under a mixed
# workload (most requests short chat turns, some long prompts), swept from light load to overload.
# Per configuration and rate it runs `tandem loadgen` against a freshly started server, then
# `tandem plot` renders p99 ITL / p99 TTFT / goodput vs rate (SVG) and a markdown table.
#
#   benchmarks/split-vs-colocated.sh [--model PATH|demo] [--rates "0.25 0.5 1 2"] [--duration S]
#                                    [--llama-server PATH] [--out DIR] [--port P]
#                                    [--mix SPEC] [--goodput "ttft:MS tpot:MS"] [--timeout S]
#
# Default model: the 110M-shape Llama (random weights, llama-spm vocabulary) made once with make-model at
# ~/.cache/tandem/llama-110m-q8_0.gguf; without ../shared beside the project, the demo model.
# Default sweep: 4 rates × 45 s × 2 configurations ≈ 8–12 minutes on 2 cores.
set -euo pipefail
ROOT="$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)"
TANDEM="$ROOT/bin/tandem"

MODEL=""
RATES="0.25 0.5 1 2"
DURATION=45
LLAMA=""
OUT="$ROOT/benchmarks/results/split-vs-colocated-$(date -u +%Y%m%d-%H%M%S)"
PORT=18080
MIX="short:0.9:input=64-256,output=64-128;long:0.1:input=2000,output=32"
GOODPUT="ttft:2000 tpot:100"
TIMEOUT=120
SEED=1

usage() { sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
  case "$1" in
    --model) MODEL="$2"; shift 2 ;;
    --rates) RATES="$2"; shift 2 ;;
    --duration) DURATION="$2"; shift 2 ;;
    --llama-server) LLAMA="$2"; shift 2 ;;
    --out) OUT="$2"; shift 2 ;;
    --port) PORT="$2"; shift 2 ;;
    --mix) MIX="$2"; shift 2 ;;
    --goodput) GOODPUT="$2"; shift 2 ;;
    --timeout) TIMEOUT="$2"; shift 2 ;;
    --seed) SEED="$2"; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "split-vs-colocated: unknown option '$1' (see --help)" >&2; exit 2 ;;
  esac
done
command -v curl >/dev/null || { echo "split-vs-colocated: needs curl (to wait for /health)" >&2; exit 1; }
if [ -n "$LLAMA" ] && [ ! -x "$LLAMA" ]; then
  echo "split-vs-colocated: --llama-server '$LLAMA' is not an executable file" >&2; exit 2
fi

CACHE="${TANDEM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/tandem}"
VOCAB="$ROOT/../shared/models/vocab/ggml-vocab-llama-spm.gguf"
if [ -z "$MODEL" ]; then
  MODEL="$CACHE/llama-110m-q8_0.gguf"
  if [ ! -f "$MODEL" ]; then
    if [ -f "$VOCAB" ]; then
      mkdir -p "$CACHE"
      echo "split-vs-colocated: making the 110M-shape model at $MODEL" >&2
      "$TANDEM" make-model --arch llama --dim 768 --layers 12 --heads 12 --ffn 2048 --vocab "$VOCAB" \
        --vocab-size 32000 --type q8_0 --seed 1 --out "$MODEL"
    else
      echo "split-vs-colocated: no ../shared/models/vocab beside the project; using the demo model" >&2
      MODEL=demo
    fi
  fi
fi
# llama-server needs a file; the demo model is made (and cached) by tandem on first use
MODEL_FILE="$MODEL"
[ "$MODEL" = demo ] && MODEL_FILE="$CACHE/demo-llama-256x4-q8_0-v1.gguf"

mkdir -p "$OUT/results" "$OUT/logs"
# Build both jars before anything is timed.
"$TANDEM" --version >/dev/null
"$TANDEM" loadgen --version >/dev/null

SERVER_PID=""
stop_server() {
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill "$SERVER_PID" 2>/dev/null || true
    for _ in $(seq 1 30); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 1; done
    kill -9 "$SERVER_PID" 2>/dev/null || true
  fi
  SERVER_PID=""
}
trap stop_server EXIT INT TERM

# start_server NAME COMMAND...: starts it in the background, waits up to 5 minutes for GET /health.
start_server() {
  local name="$1"; shift
  echo "split-vs-colocated: starting $name: $*" >&2
  "$@" >"$OUT/logs/$name.log" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 1 300); do
    if curl -sf "http://127.0.0.1:$PORT/health" >/dev/null 2>&1; then return 0; fi
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then
      echo "split-vs-colocated: $name exited before it was ready; see $OUT/logs/$name.log" >&2
      tail -5 "$OUT/logs/$name.log" >&2
      return 1
    fi
    sleep 1
  done
  echo "split-vs-colocated: $name not ready after 300 s; see $OUT/logs/$name.log" >&2
  return 1
}

# sweep NAME: every rate against the running server, one result file each.
# Each rate gets its own seed (SEED, SEED+1, ...): the same seed at every rate would send the same prompts
# again to a server that keeps its prefix cache between rates, and measure cache hits instead of prefills.
sweep() {
  local name="$1" rate i=0
  # Warm-up (not recorded): both request classes through the server once, so the JIT has compiled the kernels
  # before the first measured rate; seeds far from the measured ones, so no prompt is seen twice.
  # shellcheck disable=SC2086
  "$TANDEM" loadgen --url "http://127.0.0.1:$PORT" --label warmup --request-rate inf --max-concurrency 2 --num-prompts 4 \
    --mix "short:0.5:input=256,output=64;long:0.5:input=2000,output=8" --seed $((SEED + 1000)) --timeout "$TIMEOUT" \
    --no-progress >"$OUT/logs/warmup-$name.txt" 2>&1 || echo "split-vs-colocated: warm-up failed for $name" >&2
  for rate in $RATES; do
    local seed=$((SEED + i)); i=$((i + 1))
    echo "split-vs-colocated: $name at $rate req/s for $DURATION s" >&2
    # shellcheck disable=SC2086
    "$TANDEM" loadgen --url "http://127.0.0.1:$PORT" --label "$name" --request-rate "$rate" --duration "$DURATION" \
      --mix "$MIX" --goodput $GOODPUT --seed "$seed" --warmup 2 --timeout "$TIMEOUT" --no-progress \
      --result-file "$OUT/results/$name-$rate.json" >"$OUT/logs/loadgen-$name-$rate.txt" \
      || echo "split-vs-colocated: loadgen failed for $name at $rate; see $OUT/logs/loadgen-$name-$rate.txt" >&2
  done
}

{
  echo "# split vs colocated: run information"
  echo
  echo "- date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "- commit: $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)"
  echo "- machine: $(uname -srm), $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2- | sed 's/^ *//')"
  echo "- model: $MODEL"
  echo "- rates: $RATES req/s, $DURATION s each; workload: $MIX; goodput SLO: $GOODPUT"
  echo "- command: benchmarks/split-vs-colocated.sh --model '$MODEL' --rates '$RATES' --duration $DURATION --out '$OUT'${LLAMA:+ --llama-server '$LLAMA'}"
} >"$OUT/run-info.md"

start_server split "$TANDEM" serve --model "$MODEL" --port "$PORT" --mode split \
  --prefill-threads 1 --decode-threads 1 --decode-cpus 1
sweep split
stop_server

start_server colocated "$TANDEM" serve --model "$MODEL" --port "$PORT" --mode colocated -t 2
sweep colocated
stop_server

if [ -n "$LLAMA" ]; then
  # 4 slots of 2048 positions each, like tandem's 4 running sequences
  start_server llama-server "$LLAMA" -m "$MODEL_FILE" --port "$PORT" -t 2 -c 8192 -np 4 --cont-batching
  sweep llama-server
  stop_server
fi

# TTFT and ITL of the first class of the mix (the short chat turns by default)
"$TANDEM" plot --class "${MIX%%:*}" --title "$(basename "$MODEL" .gguf)" -o "$OUT" "$OUT/results" | tee -a "$OUT/run-info.md"
echo "split-vs-colocated: charts and summary.md in $OUT" >&2
