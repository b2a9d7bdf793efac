#!/usr/bin/env bash
# Compares the CPU cost per request of `evalbench load` with vegeta's, at the
# same fixed rate, for the same streamed completions request, against the
# same server: `evalbench serve` (the simulator) in its own process, so the
# server's CPU is not counted for either client.
#
#   bench/vegeta.sh                     # 500 req/s for 30 s, 16 output tokens, 5 runs each
#   RATE=1000 DURATION=20s TOKENS=64 REPEAT=5 bench/vegeta.sh
#
# Prints each client's CPU seconds (user+sys, from /usr/bin/time) per
# completed request, the ratio evalbench/vegeta (target: at most 1.0) and the
# rate each achieved. Each run pairs the two clients back to back, and the
# ratio reported is the median of the runs' ratios: a shared machine's
# speed drifts by more than the difference being measured, and a pair sees
# the same machine. For evalbench it also prints the CPU of the
# measurement step alone (from load.json), which leaves out process start-up
# and writing the reports (charts, Parquet) after the run.
set -euo pipefail

RATE=${RATE:-500}
DURATION=${DURATION:-30s}
REPEAT=${REPEAT:-5}
TOKENS=${TOKENS:-16}
TTFT=${TTFT:-20ms}
ITL=${ITL:-2ms}
VEGETA_VERSION=${VEGETA_VERSION:-v12.13.0}
# vegeta keeps every reply body in its results by default (-max-body=-1);
# evalbench keeps none. VEGETA_FLAGS=-max-body=0 makes vegeta drop them too.
VEGETA_FLAGS=${VEGETA_FLAGS:-}

root=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT

for tool in go jq /usr/bin/time; do
  command -v "$tool" >/dev/null || { echo "bench: $tool is needed" >&2; exit 1; }
done

# Build both clients first, so no compile time is measured.
echo "bench: building evalbench and vegeta $VEGETA_VERSION" >&2
(cd "$root" && go build -o "$tmp/evalbench" .)
GOBIN="$tmp" GOFLAGS= go install "github.com/tsenart/vegeta/v12@$VEGETA_VERSION"

# The server, in its own process, on a free loopback port.
"$tmp/evalbench" serve --addr 127.0.0.1:0 --ttft "$TTFT" --itl "$ITL" --jitter 0 --capacity 0 >"$tmp/serve.log" 2>&1 &
server_pid=$!
url=""
for _ in $(seq 100); do
  url=$(sed -n 's/^simulator listening on \(http:[^ ]*\).*/\1/p' "$tmp/serve.log")
  [ -n "$url" ] && break
  sleep 0.1
done
[ -n "$url" ] || { echo "bench: the server did not start:" >&2; cat "$tmp/serve.log" >&2; exit 1; }

prompt="Benchmark the load generator, not the server: the same streamed request for both clients."
body=$(jq -cn --arg p "$prompt" --argjson n "$TOKENS" \
  '{model: "demo", prompt: $p, max_tokens: $n, min_tokens: $n, stream: true, stream_options: {include_usage: true}}')
printf '%s\n' "$body" >"$tmp/body.json"
jq -cn --arg p "$prompt" '{prompt: $p}' >"$tmp/prompts.jsonl"
printf 'POST %s/dedicated/v1/completions\nContent-Type: application/json\n@%s\n' "$url" "$tmp/body.json" >"$tmp/targets.txt"

echo "bench: $RATE req/s for $DURATION, $TOKENS output tokens per streamed request, server at $url" >&2

# A short run of each first, so neither pays for a cold page cache.
"$tmp/vegeta" attack $VEGETA_FLAGS -rate="$RATE/s" -duration=1s -targets="$tmp/targets.txt" >/dev/null
"$tmp/evalbench" load --base-url "$url/dedicated" --model demo --profile rate --rate "$RATE" --arrival constant \
  --duration 1s --warmup 0s --cooldown 0s --prompts "$tmp/prompts.jsonl" --output-tokens "$TOKENS" \
  --out "$tmp/warm" --quiet >/dev/null

# Interleaved repeats, so drift on a shared machine hits both clients alike.
printf '%-4s %-22s %9s %12s %8s %8s %9s %15s %7s\n' "run" "client" "completed" "rate (req/s)" "user (s)" "sys (s)" "wall (s)" "cpu µs/request" "ratio" >"$tmp/table"
run_vegeta() {
  /usr/bin/time -f '%U %S %e' -o "$tmp/vegeta.time" \
    "$tmp/vegeta" attack $VEGETA_FLAGS -rate="$RATE/s" -duration="$DURATION" -targets="$tmp/targets.txt" -output="$tmp/vegeta.bin"
  "$tmp/vegeta" report -type=json "$tmp/vegeta.bin" >"$tmp/vegeta.json"
}
run_evalbench() {
  rm -rf "$tmp/run"
  /usr/bin/time -f '%U %S %e' -o "$tmp/evalbench.time" \
    "$tmp/evalbench" load --base-url "$url/dedicated" --model demo --profile rate --rate "$RATE" --arrival constant \
    --duration "$DURATION" --warmup 0s --cooldown 0s --prompts "$tmp/prompts.jsonl" --output-tokens "$TOKENS" \
    --out "$tmp/run" --quiet --format json >"$tmp/load.json"
}
for i in $(seq "$REPEAT"); do
  # The order alternates, so a machine speeding up or slowing down over
  # the session favours neither client.
  if [ $((i % 2)) = 1 ]; then run_vegeta; run_evalbench; else run_evalbench; run_vegeta; fi

  read -r vu vs vwall <"$tmp/vegeta.time"
  read -r eu es ewall <"$tmp/evalbench.time"
  v_ok=$(jq '(.requests * .success) | round' "$tmp/vegeta.json")
  v_rate=$(jq '.rate' "$tmp/vegeta.json")
  e_ok=$(jq '.steps[0].requests.ok' "$tmp/load.json")
  e_err=$(jq '.steps[0].requests.errors' "$tmp/load.json")
  e_rate=$(jq '.steps[0].throughput.send_rate' "$tmp/load.json")
  e_step=$(jq '.steps[0].client.cpu_seconds' "$tmp/load.json")
  [ "$e_err" = 0 ] || echo "bench: evalbench counted $e_err errors in run $i" >&2
  awk -v i="$i" -v vu="$vu" -v vs="$vs" -v vok="$v_ok" -v vrate="$v_rate" -v vwall="$vwall" \
      -v eu="$eu" -v es="$es" -v eok="$e_ok" -v erate="$e_rate" -v ewall="$ewall" -v estep="$e_step" 'BEGIN {
    v = 1e6 * (vu + vs) / vok; p = 1e6 * (eu + es) / eok; st = 1e6 * estep / eok
    printf "%-4d %-22s %9d %12.2f %8.2f %8.2f %9.2f %15.1f %7s\n", i, "vegeta", vok, vrate, vu, vs, vwall, v, "-"
    printf "%-4d %-22s %9d %12.2f %8.2f %8.2f %9.2f %15.1f %7.2f\n", i, "evalbench (process)", eok, erate, eu, es, ewall, p, p / v
    printf "%-4d %-22s %9d %12.2f %8s %8s %9s %15.1f %7.2f\n", i, "evalbench (step only)", eok, erate, "-", "-", "-", st, st / v
  }' >>"$tmp/table"
done
cat "$tmp/table"
awk 'NR > 1 {
    name = $2; for (k = 3; k <= NF - 7; k++) name = name " " $k
    v[name] = v[name] " " $(NF - 1); if ($NF != "-") r[name] = r[name] " " $NF
  }
  function median(list,   a, m, j, t, x, y) {
    m = split(list, a, " ")
    for (x = 1; x <= m; x++) for (y = x + 1; y <= m; y++) if (a[y] + 0 < a[x] + 0) { t = a[x]; a[x] = a[y]; a[y] = t }
    return (m % 2) ? a[(m + 1) / 2] : (a[m / 2] + a[m / 2 + 1]) / 2
  }
  END {
    mv = median(v["vegeta"]); mp = median(v["evalbench (process)"]); ms = median(v["evalbench (step only)"])
    printf "\nmedian CPU per request: vegeta %.1f µs, evalbench %.1f µs (process), %.1f µs (measurement step only)\n", mv, mp, ms
    printf "ratio evalbench/vegeta, median of the runs'\'' ratios: %.2f (process), %.2f (step only); target <= 1.0\n", median(r["evalbench (process)"]), median(r["evalbench (step only)"])
  }' "$tmp/table"
echo "asked $RATE req/s for $DURATION, $TOKENS output tokens each, $REPEAT runs per client; vegeta flags: ${VEGETA_FLAGS:-none}"
