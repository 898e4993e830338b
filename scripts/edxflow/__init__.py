"""The logic of the edX research-data workflow, importable and testable without Snakemake."""
