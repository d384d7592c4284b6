#!/usr/bin/env bash
# RouterBench-scale run: a synthetic dataset of 36,497 prompts x 11 LLMs in
# RouterBench's layout (about 30,000 for training), through the dataset,
# embed, grouping (t-SNE + k-means), train and evaluate stages of the default
# RouterDC, on a cold cache. Writes benchmarks/scale-report.md with each
# stage's wall time, the whole run's wall and CPU time, peak RSS and the
# machine's load, twice: with the CPU's widest SIMD and with
# GOMLX_SIMD_AVX512=false.
#   benchmarks/scale.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export GOEXPERIMENT=simd ROUTERDC_QUIET=1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go build -o bin/routerdc ./cmd/routerdc
go run ./benchmarks/scaledata "$tmp/data"
ntrain=$(($(wc -l < "$tmp/data/train.csv") - 1)) # the generated prompts hold no newline
ntest=$(($(wc -l < "$tmp/data/test.csv") - 1))
# run_once LABEL: one cold run of the declarations; prints a report section.
run_once() {
  rm -rf "$tmp/cache" "$tmp/out"
  local load wall cpu rss stages
  load=$(cut -d' ' -f1-3 /proc/loadavg)
  /usr/bin/time -v -o "$tmp/time" bin/routerdc run --cache "$tmp/cache" --out "$tmp/out" \
    "$tmp/data/data.yaml" "$tmp/data/tables.yaml" 2> "$tmp/log" || { cat "$tmp/log" >&2; exit 1; }
  wall=$(grep "Elapsed (wall clock)" "$tmp/time" | awk -F': ' '{print $2}')
  cpu=$(awk -F': ' '/User time|System time/ {s += $2} END {printf "%.0f", s}' "$tmp/time")
  rss=$(grep "Maximum resident set size" "$tmp/time" | awk -F': ' '{print $2}')
  stages=$(python3 - "$tmp/out/tables/scale-manifest.run.json" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
for st in ["data", "embed", "tsne", "group", "train", "evaluate", "report"]:
    s = m["stages"].get(st)
    if s:
        print(f"| {st} | {s['seconds']:.1f} s ({s['ran']} ran) |")
PY
)
  echo "## $1"
  echo
  echo "Load average before the run: $load. Each stage's own wall time (reading the CSVs is in the whole run only; encoding the training features is in train):"
  echo
  echo "| stage | wall time |"
  echo "|---|---|"
  echo "$stages"
  echo
  echo "Whole run: $wall wall, $cpu CPU-seconds, peak RSS $((rss / 1024)) MiB."
  echo
}
{
  echo "# Scale report"
  echo
  echo "Written by \`benchmarks/scale.sh\` (\`just scale\`) on $(date -u +%Y-%m-%dT%H:%MZ): $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)), GOEXPERIMENT=simd, backend ${GOMLX_BACKEND:-go:parallelism=-1}. Targets (issue #10): the grouping stage (t-SNE + k-means) for about 30,000 training queries <= 2 min, peak memory <= 4 GiB."
  echo
  echo "Synthetic RouterBench-layout data (\`go run ./benchmarks/scaledata\`): 36,497 prompts x 11 LLMs, $ntrain for training (every row: samples_per_task=0), $ntest for testing, 8 tasks selected by eval_name; the default RouterDC (1000 steps x 64, our t-SNE + k-means groups; Barnes-Hut t-SNE above 5,000 rows), one seed, cold cache."
  echo
  run_once "With the CPU's widest SIMD (AVX-512 where it has it)"
  GOMLX_SIMD_AVX512=false run_once "With GOMLX_SIMD_AVX512=false (AVX2 kernels)"
} > benchmarks/scale-report.md
cat benchmarks/scale-report.md
