# Publish and load work on what one step wrote: a log day (all its courses), a course's newest SQL
# tables, or the newest email file. A failed daily file so holds back only its own day, and the
# plan needs no index of every course's files.
rule publish_files:
    input:
        written=get_written_by,
    output:
        receipt=report(
            out("receipts/publish/{file_type}/{unit}.json"),
            caption="../report/publish_files.rst",
            category="Warehouse",
            subcategory="Published",
            labels={"file type": "{file_type}", "unit": "{unit}"},
        ),
    log:
        out("logs/publish/{file_type}/{unit}.log"),
    conda:
        "../envs/steps.yaml"
    # One gcs_api per publish, capped in the profiles: many jobs must not become as many
    # concurrent uploads to one bucket (Cloud Storage rate limits).
    resources:
        gcs_api=1,
    params:
        storage=config["storage"],
        results_dir=results_of_receipt,
    script:
        "../../scripts/publish_files.py"


rule load_files:
    input:
        written=get_written_by,
        # BigQuery loads the published gs:// objects when publishing: the unit's publish first.
        published=get_published_receipt,
    output:
        receipt=report(
            out("receipts/load/{file_type}/{unit}.json"),
            caption="../report/load_files.rst",
            category="Warehouse",
            subcategory="Loaded",
            labels={"file type": "{file_type}", "unit": "{unit}"},
        ),
    log:
        out("logs/load/{file_type}/{unit}.log"),
    conda:
        "../envs/steps.yaml"
    # DuckDB allows one writing process per database file: every DuckDB load takes the one
    # duckdb_writer the profiles provide, so loads queue in Snakemake rather than hold a core
    # waiting for the file's lock (up to 10 min). BigQuery loads run side by side, bq_jobs at a
    # time (its quotas on load jobs and table updates).
    resources:
        duckdb_writer=int(config["warehouse"]["kind"] == "duckdb"),
        bq_jobs=int(config["warehouse"]["kind"] == "bigquery"),
    params:
        warehouse=config["warehouse"],
        bucket=LOAD_BUCKET,
        results_dir=results_of_receipt,
    script:
        "../../scripts/load_files.py"


rule publish:
    input:
        all_published,


rule load:
    input:
        all_loaded,
