#!/usr/bin/env bash
# Measures the timing targets and writes benchmarks/report.md.
#   benchmarks/run.sh                 the Go benchmarks (training, grouping, routing, scoring),
#                                     twice: with the CPU's widest SIMD and with
#                                     GOMLX_SIMD_AVX512=false (what AVX2-only CPUs get)
#   benchmarks/run.sh --full          also the commands a user runs: `routerdc train` (cold and
#                                     with its grouping cached), a cold and a warm
#                                     `routerdc reproduce`, `just ablate` after it, `just test`
#   benchmarks/run.sh --full --twice  also a second cold reproduce (separate cache), checking
#                                     that its tables are identical to the first
# ROUTERDC_BENCH_CACHE=DIR (a new directory) keeps the cold reproduce's cache,
# and the ablations', there: `just reproduce --cache DIR` then rewrites results/
# warm.
# The report's tables are copied into README.md's benchmark block.
# Every command row gives wall time, CPU time (user + system), peak RSS and the
# 1-minute load average just before it started: numbers from a loaded machine
# say so.
set -euo pipefail
cd "$(dirname "$0")/.."
export GOEXPERIMENT=simd ROUTERDC_QUIET=1
full=no twice=no
for a in "$@"; do
  case "$a" in
    --full) full=yes ;;
    --twice) twice=yes ;;
    *) echo "benchmarks/run.sh: unknown argument $a (want --full, --twice)" >&2; exit 2 ;;
  esac
done
out=benchmarks/report.md
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
c1=${ROUTERDC_BENCH_CACHE:-$tmp/c1}
if [[ -e $c1 ]]; then
  echo "benchmarks/run.sh: ROUTERDC_BENCH_CACHE=$c1 exists; the cold run needs a new directory" >&2
  exit 2
fi

go build -o bin/routerdc ./cmd/routerdc
# The benchmarks need the data (ROUTERDC_DATA or data/): fail here, not skip.
bin/routerdc data --check
load_start=$(cut -d' ' -f1-3 /proc/loadavg)

# gobench FILE: the Go benchmarks, raw output into FILE.
gobench() {
  go test -run '^$' -bench 'TrainRouterDC|GroupingStage' -benchtime 1x -timeout 30m ./benchmarks/ | tee -a "$1"
  go test -run '^$' -bench '^BenchmarkRoute' -benchtime 3x -timeout 30m ./benchmarks/ | tee -a "$1"
  go test -run '^$' -bench 'ImportLMEval|ExecuteSample' -benchtime 5x -timeout 10m ./benchmarks/ | tee -a "$1"
}
gobench "$tmp/simd"
GOMLX_SIMD_AVX512=false gobench "$tmp/avx2"
# metric FILE BENCHMARK UNIT: the first value reported in UNIT.
metric() { grep "^$2" "$1" | head -1 | grep -o "[0-9.]* $3" | awk '{print $1}'; }
both() { printf '%s %s | %s %s' "$(metric "$tmp/simd" "$1" "$2")" "$3" "$(metric "$tmp/avx2" "$1" "$2")" "$3"; }

# measure LABEL TARGET CMD...: one row of the commands table.
rows=""
measure() {
  local label=$1 target=$2 load
  shift 2
  load=$(cut -d' ' -f1 /proc/loadavg)
  /usr/bin/time -f '%e %U %S %M' -o "$tmp/time" "$@" >"$tmp/log" 2>&1 || { tail -20 "$tmp/log" >&2; exit 1; }
  read -r wall user sys rss < "$tmp/time"
  rows+=$(printf '| %s | %.1f s | %.0f s | %.0f MiB | %s | %s |' "$label" "$wall" "$(echo "$user + $sys" | bc)" "$(echo "$rss / 1024" | bc)" "$load" "$target")$'\n'
  printf '%s' "$rows" > benchmarks/.commands-partial.md # a failure later keeps what was measured
}
# commands MODE ENV...: the commands table's rows for one SIMD mode (each
# cold run with its own cache).
commands() {
  local mode=$1 cache
  shift
  cache=$c1
  [[ $mode == widest ]] || cache=$tmp/c-$mode
  measure "\`routerdc train\` (defaults: group=ours, t-SNE grouping computed), cold cache; $mode" '<= 15 s' \
    env "$@" bin/routerdc train --cache "$tmp/tc-$mode" --out "$tmp/r1-$mode"
  measure "\`routerdc train\` again, grouping cached; $mode" '<= 15 s' \
    env "$@" bin/routerdc train --cache "$tmp/tc-$mode" --out "$tmp/r2-$mode"
  measure "\`just reproduce\` (5 seeds), cold (empty cache); $mode" '<= 300 s' \
    env "$@" bin/routerdc reproduce --cache "$cache" --out "$tmp/o1-$mode"
  measure "\`just reproduce\`, warm (nothing changed); $mode" '<= 1 s' \
    env "$@" bin/routerdc reproduce --cache "$cache" --out "$tmp/o2-$mode"
  same=no
  cmp -s <(cd "$tmp/o1-$mode" && cat tables/* figures/* README.md manifest.json) \
    <(cd "$tmp/o2-$mode" && cat tables/* figures/* README.md manifest.json) && same=yes
  rows+="| warm outputs byte-identical to the cold run's; $mode | $same | | | | yes |"$'\n'
}
if [[ $full == yes ]]; then
  commands widest
  if [[ $twice == yes ]]; then
    measure 'second cold `just reproduce` (separate cache); widest' '<= 300 s' \
      bin/routerdc reproduce --cache "$tmp/c2" --out "$tmp/o3"
    same=no
    cmp -s <(cd "$tmp/o1-widest" && cat tables/*) <(cd "$tmp/o3" && cat tables/*) && same=yes
    rows+="| second cold run: identical tables | $same | | | | yes |"$'\n'
  fi
  measure '`just ablate` after the cold reproduce (every sweep + t-SNE figure); widest' '<= 1200 s' \
    bin/routerdc run --cache "$c1" --out "$tmp/o1-widest" ablations
  commands avx512-off GOMLX_SIMD_AVX512=false
  measure '`just ablate` after the cold reproduce (every sweep + t-SNE figure); avx512-off' '<= 1200 s' \
    env GOMLX_SIMD_AVX512=false bin/routerdc run --cache "$tmp/c-avx512-off" --out "$tmp/o1-avx512-off" ablations
  same=no
  cmp -s <(cd "$tmp/o1-widest" && cat tables/table*.csv) <(cd "$tmp/o1-avx512-off" && cat tables/table*.csv) && same=yes
  rows+="| reproduce tables identical with and without AVX-512 | $same | | | | |"$'\n'
  measure '`just test`; widest' '<= 120 s' just test
fi

{
  echo "# Benchmark report"
  echo
  echo "Written by \`benchmarks/run.sh${1:+ $*}\` on $(date -u +%Y-%m-%dT%H:%MZ): $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'); AVX-512: $(grep -qm1 avx512f /proc/cpuinfo && echo yes || echo no)), $(go version | cut -d' ' -f3), GOEXPERIMENT=simd, backend ${GOMLX_BACKEND:-go:parallelism=-1}."
  echo "Load average (1, 5, 15 min) when it started: $load_start. Numbers move with machine load: compare runs from idle machines only."
  echo
  echo "## Go benchmarks"
  echo
  echo "Training and grouping use the default settings (\`routerdc settings\`) with \`group=cluster\` for training: the grouping (t-SNE) is its own, cached stage, timed in its own row."
  echo
  echo "| measure | widest SIMD | GOMLX_SIMD_AVX512=false | target |"
  echo "|---|---|---|---|"
  echo "| train RouterDC, 1000 steps x 64 (with 20 checkpoint evaluations on 5000 queries): wall | $(both BenchmarkTrainRouterDC train_s s) | <= 3 s |"
  echo "| same, with data loading, encoder fit and features: wall | $(both BenchmarkTrainRouterDC wall_s s) | |"
  echo "| same: CPU (user + system) | $(both BenchmarkTrainRouterDC cpu_s s) | |"
  echo "| same: steps/s | $(both BenchmarkTrainRouterDC steps/s '') | |"
  echo "| grouping stage (exact t-SNE of 5000 queries + k-means; cached per seed): wall | $(both BenchmarkGroupingStage wall_s s) | (none) |"
  echo "| same: CPU | $(both BenchmarkGroupingStage cpu_s s) | |"
  echo "| routing, batched (20,000 MMLU/CMMLU/GSM8K test questions, batches of 256, in process) | $(both BenchmarkRouteBatched queries/s queries/s) | >= 20000 queries/s |"
  echo "| \`routerdc route\` on the same 20,000 (binary, stdin to file): throughput | $(both BenchmarkRouteCommand queries/s queries/s) | >= 20000 queries/s |"
  echo "| same: CPU (user + system) | $(both BenchmarkRouteCommand cpu_s s) | |"
  echo "| routing, one query, p50 | $(both BenchmarkRouteSingle p50_ms ms) | <= 1 ms |"
  echo "| routing, one query, p99 | $(both BenchmarkRouteSingle p99_ms ms) | |"
  echo "| scoring: lm-eval import (v0.4.3+ JSONL, 5000 MMLU docs) | $(both BenchmarkImportLMEval docs/s docs/s) | (none) |"
  echo "| scoring: one executed code sample, sandboxed (bwrap when installed) | $(both BenchmarkExecuteSample ms/sample ms) | (none; the harness's timeout is 3 s) |"
  if [[ $full == yes ]]; then
    echo
    echo "## Commands (default settings; widest SIMD, then GOMLX_SIMD_AVX512=false)"
    echo
    echo "| command | wall | CPU (user + system) | peak RSS | load before | target |"
    echo "|---|---|---|---|---|---|"
    printf '%s' "$rows"
  fi
  echo
  echo '```'
  grep -hE "^(Benchmark|goos|goarch|cpu)" "$tmp/simd"
  echo '# GOMLX_SIMD_AVX512=false'
  grep -hE "^Benchmark" "$tmp/avx2"
  echo '```'
} > "$out.tmp"
mv "$out.tmp" "$out"
rm -f benchmarks/.commands-partial.md
python3 benchmarks/readme_block.py # the README's timings are this run's
cat "$out"
