#!/usr/bin/env bash
# GPU check: trains the default RouterDC (1000 steps, seed 1) on an XLA
# backend and on the pure-Go backend with the same binary, grouping and seed,
# and reports steps/s of both and the accuracy difference on the 8 test sets;
# with --onnx DIR also the ONNX encoder's embedding throughput on each.
#
#   benchmarks/gpu-check.sh [--xla cuda|cpu] [--no-xla] [--onnx DIR] [--bin FILE]
#
#   --xla cuda|cpu  the XLA plugin (GOMLX_BACKEND=xla:KIND); default cuda when
#                   nvidia-smi sees a GPU, else cpu
#   --no-xla        the Go half only (a baseline, or a machine without a plugin)
#   --onnx DIR      an ONNX encoder directory (encoder=onnx, encoder_path=DIR)
#   --bin FILE      a routerdc binary built with -tags xla (for a machine without
#                   Go or without the module cache); default: built here
#
# Needs a PJRT plugin (pjrt_c_api_cuda_plugin.so or pjrt_c_api_cpu_plugin.so)
# in PJRT_PLUGIN_LIBRARY_PATH (":"-separated directories) or go-xla's standard
# directories, and the data (ROUTERDC_DATA, else data/). Writes the figures to
# $OUT/gpu-check.md when OUT is set (and the two routers' router.json beside
# it), and always prints them. Every command runs under a deadline so the whole
# check ends within 5 minutes: give --onnx a small model (the repository's
# pipeline/encode/onnxenc/testdata/tiny_bert), not mDeBERTa on the Go backend.
set -euo pipefail
cd "$(dirname "$0")/.."
export GOEXPERIMENT=simd ROUTERDC_QUIET=1
export ROUTERDC_DATA="${ROUTERDC_DATA:-data}"

die() { echo "gpu-check: $*" >&2; exit 1; }
note() { echo "gpu-check: $*" >&2; }

xla_kind="" use_xla=yes onnx_dir="" bin=""
while (($#)); do
  case "$1" in
    --xla) [[ $# -ge 2 ]] || die "--xla needs cuda or cpu"; xla_kind=$2; shift 2 ;;
    --no-xla) use_xla=no; shift ;;
    --onnx) [[ $# -ge 2 ]] || die "--onnx needs a model directory"; onnx_dir=$2; shift 2 ;;
    --bin) [[ $# -ge 2 ]] || die "--bin needs a file"; bin=$2; shift 2 ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | grep '^#' | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument $1 (want --xla cuda|cpu, --no-xla, --onnx DIR, --bin FILE)" ;;
  esac
done
if [[ -z $xla_kind ]]; then
  xla_kind=cpu
  if command -v nvidia-smi >/dev/null && nvidia-smi -L 2>/dev/null | grep -q '^GPU'; then
    xla_kind=cuda
  fi
fi
[[ $xla_kind == cuda || $xla_kind == cpu ]] || die "--xla $xla_kind: want cuda or cpu"
if [[ -n $onnx_dir && ! -d $onnx_dir ]]; then
  die "--onnx $onnx_dir: not a directory"
fi

start=$SECONDS
budget=290 # seconds for the whole check: the brief's 5 minutes, less a margin
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# limited CMD...: CMD under what is left of the budget, so a hung backend
# ends the check instead of holding the machine.
limited() {
  local left=$((budget - (SECONDS - start)))
  ((left > 5)) || die "out of time (${budget} s) before: $*"
  timeout "$left" "$@"
}

if [[ -z $bin ]]; then
  command -v go >/dev/null || die "no go command to build with: pass --bin FILE (built with: GOEXPERIMENT=simd go build -tags xla -o FILE ./cmd/routerdc)"
  note "building routerdc with -tags xla"
  bin=$tmp/routerdc-xla
  go build -tags xla -o "$bin" ./cmd/routerdc
fi
[[ -x $bin ]] || die "--bin $bin: not an executable"
"$bin" data --check >/dev/null || die "the data is missing or damaged in $ROUTERDC_DATA (set ROUTERDC_DATA, or run: just data)"

# The directories go-xla searches, for the error message (go-xla also reads
# /etc/ld.so.conf's, so this is a hint; the preflight below decides).
plugin_dirs() {
  if [[ -n ${PJRT_PLUGIN_LIBRARY_PATH+set} ]]; then
    tr ':' '\n' <<<"$PJRT_PLUGIN_LIBRARY_PATH"
  else
    printf '%s\n' "$HOME/.local/lib/go-xla" "$HOME/.local/lib/go-xla/nvidia" "$HOME/.local/lib/gomlx/pjrt" \
      /usr/local/lib/go-xla /usr/local/lib/go-xla/nvidia /usr/local/lib/gomlx/pjrt
    tr ':' '\n' <<<"${LD_LIBRARY_PATH:-}"
  fi | grep '^/' || true
}
found_plugin() {
  local d f
  while read -r d; do
    for f in "$d"/pjrt_c_api_"$1"*_plugin.so "$d"/pjrt[-_]plugin[-_]"$1"*.so; do
      [[ -f $f ]] && { echo "$f"; return 0; }
    done
  done < <(plugin_dirs)
  return 1
}

xla_cfg=xla:$xla_kind plugin=""
if [[ $use_xla == yes ]]; then
  plugin=$(found_plugin "$xla_kind") || plugin="(none in the searched directories)"
  # Preflight: one training step on the XLA backend loads the plugin and
  # compiles a graph, so a missing or broken plugin fails here, in seconds,
  # before the minutes of training.
  note "preflight on GOMLX_BACKEND=$xla_cfg (plugin: $plugin)"
  if ! GOMLX_BACKEND=$xla_cfg limited "$bin" train --out "$tmp/preflight" --no-cache \
    --set "group=task;steps=1;eval_every=1" >"$tmp/preflight.log" 2>&1; then
    cat "$tmp/preflight.log" >&2
    {
      echo
      echo "gpu-check: no usable PJRT plugin for GOMLX_BACKEND=$xla_cfg (the error above is routerdc's)."
      echo "  Searched for pjrt_c_api_${xla_kind}_plugin.so in:"
      plugin_dirs | sed 's/^/    /'
      echo "  Install one (go run -tags xla ./benchmarks/pjrtinstall $xla_kind, which needs network) or set"
      echo "  PJRT_PLUGIN_LIBRARY_PATH to the directory holding it; --no-xla runs the Go half only."
    } >&2
    exit 1
  fi
fi

# train NAME: the default RouterDC, seed 1, into $tmp/NAME, on the backend of
# the caller's GOMLX_BACKEND. Both runs share one cache so they train on the
# same t-SNE groups (the grouping stage does not depend on the backend); the
# first run computes them.
train() {
  note "training RouterDC (1000 steps) on ${GOMLX_BACKEND:-the Go backend}"
  limited "$bin" train --seed 1 --cache "$tmp/cache" --out "$tmp/$1" 2>>"$tmp/train.log" ||
    { cat "$tmp/train.log" >&2; die "training on ${GOMLX_BACKEND:-the Go backend} failed"; }
}
# num KEY FILE: the first number under "KEY" in a JSON file (router.json's
# keys used here are unique; no jq or python on the GPU machine is assumed).
num() { grep -o "\"$1\": *[-0-9.eE+]*" "$2" | head -1 | sed 's/.*: *//'; }

tasks=(MMLU GSM8K CMMLU ARC-C HumanEval PreAlgebra MBPP C-EVAL)
files=(mmlu_test.json gsm8k-test.json cmmlu_test.json arc_challenge_test.json humaneval_test.json
  MATH_prealgebra.json mbpp.json ceval.json)
# evaluate NAME: one accuracy per test set into $tmp/NAME.acc, in tasks' order.
evaluate() {
  local f out acc
  : >"$tmp/$1.acc"
  for f in "${files[@]}"; do
    out=$(limited "$bin" eval --router "$tmp/$1" --data "$ROUTERDC_DATA/split2_model7/$f") ||
      die "eval of $1 on $f failed"
    acc=$(grep -o '"accuracy": *[-0-9.eE+]*' <<<"$out" | sed 's/.*: *//') || die "eval of $1 on $f printed no accuracy: $out"
    echo "$acc" >>"$tmp/$1.acc"
  done
}

load_start=$(cut -d' ' -f1-3 /proc/loadavg)
(
  unset GOMLX_BACKEND
  train go
  evaluate go
)
if [[ $use_xla == yes ]]; then
  GOMLX_BACKEND=$xla_cfg train xla
  GOMLX_BACKEND=$xla_cfg evaluate xla
fi

# ONNX: embedding throughput of the encoder on each backend, measured by a
# short training run on 200 queries per task (group=task skips the t-SNE,
# which would embed the queries a second time): encode_s covers loading the
# model and embedding the training queries. A failure here (a model too slow
# for the deadline) is reported in its row and fails the check at the end,
# after the report is written.
onnx_note="" onnx_rows="" status=0
onnx() { # onnx NAME LABEL GOMLX_BACKEND ("" for the Go default)
  local name=$1 label=$2 cfg=$3 n s
  if ! (
    if [[ -n $cfg ]]; then export GOMLX_BACKEND=$cfg; else unset GOMLX_BACKEND; fi
    limited "$bin" train --seed 1 --no-cache --out "$tmp/onnx-$name" \
      --set "encoder=onnx;encoder_path=$onnx_dir;group=task;samples_per_task=200;steps=50" >"$tmp/onnx.log" 2>&1
  ); then
    cat "$tmp/onnx.log" >&2
    note "training with the ONNX encoder on $label failed"
    onnx_rows+="| $label | failed: $(tail -1 "$tmp/onnx.log" | tr '|' '/') | | |"$'\n'
    status=1
    return
  fi
  n=$(num num_train "$tmp/onnx-$name/router.json")
  s=$(num encode_s "$tmp/onnx-$name/router.json")
  onnx_rows+=$(awk -v l="$label" -v n="$n" -v s="$s" 'BEGIN { printf "| %s | %d | %.2f s | %.0f |", l, n, s, n / s }')$'\n'
}
if [[ -z $onnx_dir ]]; then
  onnx_note="skipped: no ONNX encoder given (--onnx DIR)."
elif ! "$bin" settings | awk '$1 == "encoder_path" { ok = 1 } END { exit !ok }'; then
  onnx_note="skipped: this routerdc has no onnx encoder kind (no encoder_path setting in \`routerdc settings\`)."
else
  note "ONNX encoder $onnx_dir on the Go backend"
  onnx go "Go (go:parallelism=-1)" ""
  if [[ $use_xla == yes ]]; then
    note "ONNX encoder $onnx_dir on $xla_cfg"
    onnx xla "$xla_cfg" "$xla_cfg"
  fi
fi

# The report.
gpu="none seen by nvidia-smi"
if command -v nvidia-smi >/dev/null; then
  gpu=$(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null | head -1) || gpu="nvidia-smi failed"
fi
row() { # row LABEL NAME
  local f=$tmp/$2/router.json
  awk -v l="$1" -v sps="$(num steps_per_second "$f")" -v sec="$(num seconds "$f")" -v tot="$(num total_s "$f")" \
    -v bs="$(num best_step "$f")" -v acc="$(num best_select_acc "$f")" \
    'BEGIN { printf "| %s | %.1f | %.2f s | %.2f s | %d | %.2f |\n", l, sps, sec, tot, bs, acc }'
}
{
  echo "# routerdc GPU check"
  echo
  echo "- date: $(date -u +%Y-%m-%dT%H:%M:%SZ); commit: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
  echo "- GPU: $gpu"
  echo "- CPU: $(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //'), $(nproc) cores; load average before: $load_start"
  echo "- binary: $bin (-tags xla); data: $ROUTERDC_DATA"
  if [[ $use_xla == yes ]]; then
    echo "- XLA: GOMLX_BACKEND=$xla_cfg, plugin $plugin"
  else
    echo "- XLA: not run (--no-xla)"
  fi
  echo
  echo "Default RouterDC, seed 1, $(num steps "$tmp/go/router.json") steps, the same t-SNE groups on both backends. steps/s is"
  echo "routerdc's own (training steps over training time, first-step compilation and the checkpoint"
  echo "evaluations every 50 steps included); train s is that time, total s adds encoding the queries."
  echo
  echo "| backend | steps/s | train s | total s | best step | selection acc. |"
  echo "|---|---|---|---|---|---|"
  row "Go (go:parallelism=-1)" go
  if [[ $use_xla == yes ]]; then row "$xla_cfg" xla; fi
  echo
  echo "Test accuracy (%, \`routerdc eval\`, the 8 test sets):"
  echo
  if [[ $use_xla == yes ]]; then
    paste "$tmp/go.acc" "$tmp/xla.acc" | awk -v names="${tasks[*]}" '
      BEGIN { split(names, t, " "); print "| test set | Go | XLA | XLA - Go |"; print "|---|---|---|---|" }
      { d = $2 - $1; printf "| %s | %.2f | %.2f | %+.2f |\n", t[NR], $1, $2, d
        if (NR <= 5) { gi += $1; xi += $2 } else { go += $1; xo += $2 }
        if (d < 0) d = -d; if (d > m) m = d }
      END { printf "| ID mean (first 5) | %.2f | %.2f | %+.2f |\n", gi / 5, xi / 5, (xi - gi) / 5
            printf "| OOD mean (last 3) | %.2f | %.2f | %+.2f |\n", go / 3, xo / 3, (xo - go) / 3
            printf "\nLargest difference on one test set: %.2f points.\n", m }'
  else
    awk -v names="${tasks[*]}" '
      BEGIN { split(names, t, " "); print "| test set | Go |"; print "|---|---|" }
      { printf "| %s | %.2f |\n", t[NR], $1; if (NR <= 5) gi += $1; else go += $1 }
      END { printf "| ID mean (first 5) | %.2f |\n| OOD mean (last 3) | %.2f |\n", gi / 5, go / 3 }' "$tmp/go.acc"
  fi
  echo
  echo "ONNX encoder embedding throughput (training queries embedded, model load included):"
  echo
  if [[ -n $onnx_note ]]; then
    echo "$onnx_note"
  else
    echo "Model: $onnx_dir"
    echo
    echo "| backend | queries | encode s | queries/s |"
    echo "|---|---|---|---|"
    printf '%s' "$onnx_rows"
  fi
  echo
  echo "Whole check: $((SECONDS - start)) s wall."
} >"$tmp/report.md"

if [[ -n ${OUT:-} ]]; then
  mkdir -p "$OUT"
  cp "$tmp/go/router.json" "$OUT/gpu-check-go-router.json.tmp" && mv "$OUT/gpu-check-go-router.json.tmp" "$OUT/gpu-check-go-router.json"
  if [[ $use_xla == yes ]]; then
    cp "$tmp/xla/router.json" "$OUT/gpu-check-xla-router.json.tmp" && mv "$OUT/gpu-check-xla-router.json.tmp" "$OUT/gpu-check-xla-router.json"
  fi
  cp "$tmp/report.md" "$OUT/gpu-check.md.tmp" && mv "$OUT/gpu-check.md.tmp" "$OUT/gpu-check.md"
  note "wrote $OUT/gpu-check.md"
fi
cat "$tmp/report.md"
exit "$status"
