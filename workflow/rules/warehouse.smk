# Publish and load work on what one step wrote: a log day (all its courses), a course's newest SQL
# tables, or the newest email file. A failed daily file so holds back only its own day, and the
# plan needs no index of every course's files.
rule publish_files:
    input:
        written=written_by,
    output:
        receipt=out("receipts/publish/{file_type}/{unit}.json"),
    log:
        out("logs/publish/{file_type}/{unit}.log"),
    conda:
        "../envs/steps.yaml"
    resources:
        gcs_api=1,
    params:
        storage=config["storage"],
        results_dir=results_of_receipt,
    script:
        "../../scripts/publish_files.py"


rule load_files:
    input:
        written=written_by,
        published=published_receipt,
    output:
        receipt=out("receipts/load/{file_type}/{unit}.json"),
    log:
        out("logs/load/{file_type}/{unit}.log"),
    conda:
        "../envs/steps.yaml"
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
