"""The logic of the edX research-data workflow, importable and testable without Snakemake.

One subpackage per stage, in pipeline order (the rules in workflow/rules/ mirror them):

    fetch/      list, download and decrypt the package's objects
    logs/       split the daily tracking logs per course
    sql/        split the weekly SQL bundles per course, derived tables, email opt-in
    warehouse/  publish to Cloud Storage, load into BigQuery or DuckDB (one interface)
    core/       what every stage shares (config, course ids, naming, typed values, files, errors)
    demo/       a small realistic encrypted package for the demo and the tests
"""
