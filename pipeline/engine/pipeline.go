package engine

// The pipeline's stages, in run order. A new stage is one entry here plus
// the function that computes it (run through Do).
const (
	StageScore    = "score"
	StageMerge    = "merge"
	StageData     = "data"
	StageEmbed    = "embed"
	StageTSNE     = "tsne"
	StageGroup    = "group"
	StageTrain    = "train"
	StageEvaluate = "evaluate"
	StageReport   = "report"
)

// Pipeline is the stage graph that every declaration runs on.
var Pipeline = MustGraph(
	Stage{Name: StageScore, Version: "score-1",
		Doc:     "one source's scores of one LLM on one task (lm-eval or bigcode logs, or an OpenAI-compatible API)",
		Params:  []string{"source", "files_sha256"},
		Outputs: []string{"records.jsonl"}},
	Stage{Name: StageMerge, Version: "merge-1",
		Doc:     "one RouterDC-format dataset: every declared LLM's scores on one task, copied to the declaration's out",
		Inputs:  []string{StageScore},
		Params:  []string{"llms", "task", "fill", "drop_incomplete"},
		Outputs: []string{"dataset.json"}},
	Stage{Name: StageData, Version: "data-1",
		Doc:    "the dataset: its tasks and LLMs and the SHA256 of every file it reads (the released split is checked against SHA256SUMS)",
		Params: []string{"dataset"}},
	Stage{Name: StageEmbed, Version: "embed-2",
		Doc:     "the encoder (kind, settings, content hash of the files it reads) fitted on the distinct training questions; for a neural encoder also every query's vector, so no text is embedded twice",
		Inputs:  []string{StageData},
		Params:  []string{"encoder", "samples_per_task", "val_fraction", "seed"},
		Outputs: []string{"encoder.json"}},
	Stage{Name: StageTSNE, Version: "group-1",
		Doc:     "exact t-SNE of the training features to 5 dimensions (shared by every number of groups)",
		Inputs:  []string{StageEmbed},
		Params:  []string{"seed"},
		Outputs: []string{"tsne.json"}},
	Stage{Name: StageGroup, Version: "group-1",
		Doc:     "k-means of the t-SNE embedding into N groups (group=ours with a sample-sample loss), with ARI/NMI",
		Inputs:  []string{StageTSNE},
		Params:  []string{"clusters", "seed"},
		Outputs: []string{"groups.json"}},
	Stage{Name: StageTrain, Version: "train-3",
		Doc:     "a router trained on the training files (one per method and seed; resumable)",
		Inputs:  []string{StageData, StageEmbed, StageGroup},
		Params:  []string{"settings", "gomlx", "backend", "monitor"},
		Outputs: []string{"router/", "report.json"}},
	Stage{Name: StageEvaluate, Version: "evaluate-2",
		Doc:     "the router on every test set (exclude_llm applies here)",
		Inputs:  []string{StageTrain},
		Params:  []string{"exclude_llm"},
		Outputs: []string{"outcome.json"}},
	Stage{Name: StageReport, Version: "report-1",
		// Not cached: it has no entry files; it writes under --out.
		Doc:    "tables, sweep CSVs, figures and manifests under --out from every evaluate output of a declaration (written on every run, not cached)",
		Inputs: []string{StageEvaluate}},
)
