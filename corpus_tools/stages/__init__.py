"""Per-document stages, each a datatrove `PipelineStep` that annotates and (separately) decides."""
