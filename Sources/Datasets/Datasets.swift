// The Datasets target. See docs/architecture.md and docs/datasets.md.
