rule split_tracking_log:
    input:
        log=out("decrypted/log/{site}/{date}.log.gz"),
        version=log_version,
    output:
        receipt=out("receipts/split_tracking_log/{site}/{date}.json"),
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
