# The report jobs' one log input: a receipt over every day's load, written again when any day is
# loaded (again). A course's job so lists three files however many days the logs have, and runs
# again when a day changes; inside it the fingerprints rebuild only the tables a day changes.
rule logs_loaded:
    input:
        files=per_unit("load", "log"),
    output:
        receipt=out("receipts/load/log.json"),
    log:
        out("logs/load/log.log"),
    localrule: True
    conda:
        "../envs/steps.yaml"
    script:
        "../../scripts/checksums.py"


# The same for the templates and schemas (shipped, and reports.query_dir's): an edited template
# runs the report jobs again, and they rebuild that table and what reads it.
rule report_templates:
    input:
        files=REPORT_TEMPLATES,
    output:
        receipt=out("receipts/report_templates.json"),
    log:
        out("logs/report/templates.log"),
    localrule: True
    conda:
        "../envs/steps.yaml"
    script:
        "../../scripts/checksums.py"


# One job per course builds all its report tables in one warehouse connection, in the order of
# what they read: a job per table would cost 36 jobs a course to plan and, on DuckDB, a process
# start and a wait for the file's lock per table. The fingerprints in the course's receipt decide
# which tables are built again.
rule report_course:
    input:
        sql=out("receipts/load/sql/{base}.json"),
        logs=LOGS_LOADED,
        templates=out("receipts/report_templates.json"),
    output:
        receipt=report(
            out("receipts/report/{base}.json"),
            caption="../report/report_course.rst",
            category="Warehouse",
            subcategory="Report tables",
            labels={"course": "{base}"},
        ),
    log:
        out("logs/report/{base}.log"),
    conda:
        "../envs/steps.yaml"
    # As load_files: one DuckDB writer at a time, BigQuery jobs capped by bq_jobs.
    resources:
        duckdb_writer=int(config["warehouse"]["kind"] == "duckdb"),
        bq_jobs=int(config["warehouse"]["kind"] == "bigquery"),
    params:
        warehouse=config["warehouse"],
        reports=config["reports"],
        course_id=get_course_id,
        log_tables=config["warehouse"]["log_tables"],
        org=config["org"],
    script:
        "../../scripts/report.py"


# Once every course's report job is done, one job brings their tables together in {org}_reports
# (person_course_all, course_summary, enrollment_by_day); the courses' fingerprints decide which
# are built again.
rule report_organisation:
    input:
        courses=get_report_receipts,
        templates=out("receipts/report_templates.json"),
    output:
        receipt=report(
            out("receipts/report_organisation.json"),
            caption="../report/report_organisation.rst",
            category="Warehouse",
            subcategory="Report tables",
        ),
    log:
        out("logs/report/organisation.log"),
    conda:
        "../envs/steps.yaml"
    resources:
        duckdb_writer=int(config["warehouse"]["kind"] == "duckdb"),
        bq_jobs=int(config["warehouse"]["kind"] == "bigquery"),
    params:
        warehouse=config["warehouse"],
        org=config["org"],
    script:
        "../../scripts/report_organisation.py"


rule report:
    input:
        get_report_receipts,
        REPORT_ORGANISATION,
