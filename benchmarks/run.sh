#!/usr/bin/env bash
# Measures the timing targets and writes benchmarks/report.md.
#   benchmarks/run.sh            Go benchmarks (train, routing)
#   benchmarks/run.sh --full     also a cold `routerdc reproduce` and `just test`
set -euo pipefail
cd "$(dirname "$0")/.."
export GOEXPERIMENT=simd ROUTERDC_QUIET=1
out=benchmarks/report.md
raw=$(mktemp)
trap 'rm -f "$raw"' EXIT

go build -o bin/routerdc ./cmd/routerdc
# The benchmarks need the data (ROUTERDC_DATA or data/): fail here, not skip.
bin/routerdc data --check
go test -run '^$' -bench 'TrainRouterDC|GroupingStage|ScaleGrouping' -benchtime 1x -timeout 30m ./benchmarks/ | tee -a "$raw"
go test -run '^$' -bench '^BenchmarkRoute' -benchtime 3x -timeout 30m ./benchmarks/ | tee -a "$raw"
go test -run '^$' -bench 'ImportLMEval|ExecuteSample' -benchtime 5x -timeout 10m ./benchmarks/ | tee -a "$raw"

full=""
if [[ "${1:-}" == "--full" ]]; then
  tmp=$(mktemp -d)
  t() { local s; s=$(date +%s%N); "$@" >/dev/null 2>&1; awk -v a="$s" -v b="$(date +%s%N)" 'BEGIN{printf "%.3f", (b-a)/1e9}'; }
  cold=$(t bin/routerdc reproduce --cache "$tmp/c1" --out "$tmp/o1")
  warm=$(t bin/routerdc reproduce --cache "$tmp/c1" --out "$tmp/o2")
  cold2=$(t bin/routerdc reproduce --cache "$tmp/c2" --out "$tmp/o3")
  same_warm=no; cmp -s <(cd "$tmp/o1" && cat tables/*.csv tables/*.md figures/*.png README.md) \
    <(cd "$tmp/o2" && cat tables/*.csv tables/*.md figures/*.png README.md) && same_warm=yes
  same_cold=no; cmp -s <(cd "$tmp/o1" && cat tables/*.csv) <(cd "$tmp/o3" && cat tables/*.csv) && same_cold=yes
  ablate=$(t bin/routerdc run --cache "$tmp/c1" --out "$tmp/o1" ablations)
  test_s=$(t just test)
  rm -rf "$tmp"
  full=$(printf '| `just reproduce`, cold (empty cache) | %.0f s | <= 900 s |\n| `just reproduce`, warm (nothing changed) | %.2f s; outputs byte-identical: %s | <= 5 s |\n| second cold run, same seeds: identical tables | %s | yes |\n| `just ablate` after the cold reproduce | %.0f s | <= 3600 s |\n| `just test` | %.0f s | <= 600 s |\n' \
    "$cold" "$warm" "$same_warm" "$same_cold" "$ablate" "$test_s")
fi

metric() { grep "^$1" "$raw" | head -1 | grep -o "[0-9.]* $2" | awk '{print $1}'; }
{
  echo "# Benchmark report"
  echo
  echo "Written by \`benchmarks/run.sh\` on $(date -u +%Y-%m-%dT%H:%MZ): $(nproc) cores, $(go version | cut -d' ' -f3), GOEXPERIMENT=simd, backend ${GOMLX_BACKEND:-go:parallelism=-1}."
  echo "Numbers move with machine load; rerun on an idle machine before comparing."
  echo
  echo "| measure | ours | target |"
  echo "|---|---|---|"
  echo "| train RouterDC, 1000 steps x 64, incl. features | $(metric BenchmarkTrainRouterDC wall_s) s ($(metric BenchmarkTrainRouterDC steps/s) steps/s) | <= 60 s |"
  echo "| grouping stage (t-SNE of 5000 queries + k-means; cached per seed) | $(metric BenchmarkGroupingStage wall_s) s | (no target) |"
  echo "| grouping stage at RouterBench scale (30000 synthetic prompts, Barnes-Hut t-SNE + k-means) | $(metric BenchmarkScaleGrouping wall_s) s wall, $(metric BenchmarkScaleGrouping cpu_s) s CPU, peak RSS $(metric BenchmarkScaleGrouping peak_rss_MiB) MiB | <= 120 s wall, RSS well under 4 GiB |"
  echo "| routing, batched (MMLU test, 4213 queries) | $(metric BenchmarkRouteBatched queries/s) queries/s | >= 5000 |"
  echo "| routing, one query, p50 | $(metric BenchmarkRouteSingle p50_ms) ms (p99 $(metric BenchmarkRouteSingle p99_ms) ms) | <= 1 ms |"
  echo "| scoring: lm-eval import (v0.4.3+ JSONL, 5000 MMLU docs) | $(metric BenchmarkImportLMEval docs/s) docs/s | (no target) |"
  echo "| scoring: one executed code sample, sandboxed (bwrap when installed) | $(metric BenchmarkExecuteSample ms/sample) ms | (no target; the harness's timeout is 3 s) |"
  [[ -n "$full" ]] && echo "$full"
  echo
  echo '```'
  grep -E "^(Benchmark|goos|goarch|cpu)" "$raw"
  echo '```'
} > "$out.tmp"
mv "$out.tmp" "$out"
cat "$out"
