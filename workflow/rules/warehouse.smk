checkpoint course_index:
    input:
        course_index_inputs,
    output:
        index=out("manifests/courses/{file_type}.json"),
    log:
        out("logs/course_index/{file_type}.log"),
    conda:
        "../envs/steps.yaml"
    params:
        results_dir=lambda wildcards, output: Path(output.index).parents[2],
    script:
        "../../scripts/course_index.py"


rule publish_course:
    input:
        files=course_files,
    output:
        receipt=out("receipts/publish/{file_type}/{base}.json"),
    log:
        out("logs/publish/{file_type}/{base}.log"),
    conda:
        "../envs/steps.yaml"
    resources:
        gcs_api=1,
    params:
        storage=config["storage"],
    script:
        "../../scripts/publish.py"


rule load_course:
    input:
        files=course_files,
        published=published_receipt,
    output:
        receipt=out("receipts/load/{file_type}/{base}.json"),
    log:
        out("logs/load/{file_type}/{base}.log"),
    conda:
        "../envs/steps.yaml"
    resources:
        duckdb_writer=int(config["warehouse"]["kind"] == "duckdb"),
        bq_jobs=int(config["warehouse"]["kind"] == "bigquery"),
    params:
        warehouse=config["warehouse"],
        bucket=LOAD_BUCKET,
    script:
        "../../scripts/load.py"


rule publish:
    input:
        all_published,


rule load:
    input:
        all_loaded,
