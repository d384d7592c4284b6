#!/usr/bin/env bash
# Installs the GoNB kernel and Jupyter's nbconvert when missing, then executes
# every notebook top to bottom, headless; any cell error fails the run.
#
#   notebooks/run.sh            execute in place (refreshes the committed outputs)
#   notebooks/run.sh --check    execute into a temp dir, leave the notebooks as they are (CI)
#   notebooks/run.sh [--check] 02-train-routerdc.ipynb ...   just these
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

check=0
if [[ "${1:-}" == "--check" ]]; then
  check=1
  shift
fi

export GOEXPERIMENT=simd
gobin=$(go env GOPATH)/bin
export PATH="$gobin:$PATH"

# Jupyter from Debian: the nbconvert/nbclient/ipykernel of the distribution.
nbconvert=/usr/bin/jupyter-nbconvert
if [[ ! -x $nbconvert ]]; then
  echo "installing Jupyter (Debian: jupyter-nbconvert python3-nbclient python3-ipykernel)" >&2
  sudo=""
  if [[ $(id -u) != 0 ]]; then sudo=sudo; fi
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends jupyter-nbconvert python3-nbclient python3-ipykernel >/dev/null
fi

# GoNB at the version go.mod's tool directive pins (the one GoMLX v0.28.8
# requires), plus goimports, which GoNB runs on every cell.
if [[ ! -x $gobin/gonb || "$($gobin/gonb -V 2>&1 | grep -o 'v[0-9.]*' | head -1)" != "$(go list -m -f '{{.Version}}' github.com/janpfeifer/gonb)" ]]; then
  echo "installing the GoNB kernel ($(go list -m -f '{{.Version}}' github.com/janpfeifer/gonb))" >&2
  go install tool
fi
if [[ ! -x $gobin/goimports ]]; then
  go install golang.org/x/tools/cmd/goimports@v0.44.0
fi
if [[ ! -f "$(/usr/bin/jupyter --data-dir)/kernels/gonb/kernel.json" ]]; then
  # --force_deps: gopls (auto-complete only) is optional.
  (cd /tmp && "$gobin/gonb" --install --force_deps >/dev/null 2>&1)
fi

if [[ $# -eq 0 ]]; then
  set -- notebooks/[0-9]*.ipynb
fi

out=""
if [[ $check == 1 ]]; then
  out=$(mktemp -d)
  trap 'rm -rf "$out"' EXIT
fi

failed=0
for nb in "$@"; do
  nb=${nb#notebooks/}
  log=$(mktemp)
  start=$(date +%s)
  # Cell metadata (execution timestamps) is cleared so that a rerun only
  # changes the committed files where an output changed.
  args=(--to notebook --execute --ExecutePreprocessor.timeout=1800 --ExecutePreprocessor.kernel_name=gonb
    --ClearMetadataPreprocessor.enabled=True --ClearMetadataPreprocessor.clear_notebook_metadata=False)
  if [[ $check == 1 ]]; then
    args+=(--output-dir "$out")
  else
    args+=(--inplace)
  fi
  # The kernel runs in notebooks/, as it does when Jupyter opens the file.
  if (cd "$root/notebooks" && "$nbconvert" "${args[@]}" "$nb") >"$log" 2>&1; then
    echo "ok    $nb ($(($(date +%s) - start)) s)"
  else
    echo "FAIL  $nb ($(($(date +%s) - start)) s); the kernel's log ends with:" >&2
    grep -v '^I[0-9]' "$log" | tail -40 >&2
    failed=1
  fi
  rm -f "$log"
done
exit $failed
