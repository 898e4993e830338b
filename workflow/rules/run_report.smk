# The run report: plots and tables drawn from the run's receipts and manifests alone (no warehouse
# access), shown by `snakemake --report`. One local job at the end of `all`, run again when a
# receipt or the listing changes; every output is the same bytes for the same receipts.
rule run_report:
    input:
        manifests=get_all_manifests,
        passed_over=get_all_passed_over,
        splits=get_all_splits,
        sql_courses=get_sql_courses,
        loads=get_all_loads,
        reports=get_report_receipts,
        organisation=REPORT_ORGANISATION,
    output:
        events=report(
            out("run_report/events_per_day.png"),
            caption="../report/run_report_events.rst",
            category="Run report",
            labels={"what": "events per course per day"},
        ),
        outside=report(
            out("run_report/no_course_and_rejects_per_day.png"),
            caption="../report/run_report_outside.rst",
            category="Run report",
            labels={"what": "no-course events and rejects per day"},
        ),
        times=report(
            out("run_report/step_times.png"),
            caption="../report/run_report_times.rst",
            category="Run report",
            labels={"what": "seconds per step and longest jobs"},
        ),
        rows_html=report(
            out("run_report/table_rows.html"),
            caption="../report/run_report_rows.rst",
            category="Run report",
            labels={"what": "rows per table per course"},
        ),
        rows_csv=report(
            out("run_report/table_rows.csv"),
            caption="../report/run_report_rows.rst",
            category="Run report",
            labels={"what": "rows per table per course (CSV)"},
        ),
        objects_html=report(
            out("run_report/package_objects.html"),
            caption="../report/run_report_objects.rst",
            category="Run report",
            labels={"what": "package objects selected and passed over"},
        ),
        objects_csv=report(
            out("run_report/package_objects.csv"),
            caption="../report/run_report_objects.rst",
            category="Run report",
            labels={"what": "package objects selected and passed over (CSV)"},
        ),
        data=report(
            out("run_report/plot_data.json"),
            caption="../report/run_report_data.rst",
            category="Run report",
            labels={"what": "the data behind the plots (JSON)"},
        ),
    log:
        out("logs/run_report.log"),
    localrule: True
    conda:
        "../envs/steps.yaml"
    script:
        "../../scripts/run_report.py"
