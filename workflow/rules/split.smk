rule split_tracking_log:
    input:
        log=out("decrypted/log/{site}/{date}.log.gz"),
        version=get_log_version,
    output:
        receipt=report(
            out("receipts/split_tracking_log/{site}/{date}.json"),
            caption="../report/split_tracking_log.rst",
            category="Split",
            subcategory="Tracking logs",
            labels={"site": "{site}", "date": "{date}"},
        ),
    log:
        out("logs/split_tracking_log/{site}/{date}.log"),
    conda:
        "../envs/steps.yaml"
    params:
        outdir=out("TRACKING_LOGS"),
        courses=COURSES,
        options=config["logs"],
    script:
        "../../scripts/split_tracking_log.py"


rule split:
    input:
        ALL_SPLIT,
