"""For trainers: `pull` (verified shards by language and licence, `ShardDataset`) and `model` (the small
bundled model; imports torch)."""
