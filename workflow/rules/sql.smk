checkpoint index_bundle:
    input:
        bundle=sql_bundle,
    output:
        index=out("manifests/sql/{bundle}.json"),
    log:
        out("logs/index_bundle/{bundle}.log"),
    conda:
        "../envs/steps.yaml"
    params:
        sites=config["sites"],
        courses=COURSES,
    script:
        "../../scripts/index_bundle.py"


rule sql_course:
    input:
        bundle=sql_bundle,
        index=out("manifests/sql/{bundle}.json"),
    output:
        receipt=out("receipts/sql_course/{bundle}/{base}.json"),
    log:
        out("logs/sql_course/{bundle}/{base}.log"),
    conda:
        "../envs/steps.yaml"
    params:
        sql_root=out("SQL"),
        gpg=config["gpg"],
    script:
        "../../scripts/sql_course.py"


rule sql_latest:
    input:
        indexes=all_bundle_indexes,
    output:
        latest=out("manifests/sql/latest.json"),
    log:
        out("logs/sql_latest.log"),
    conda:
        "../envs/steps.yaml"
    params:
        sql_root=out("SQL"),
    script:
        "../../scripts/sql_latest.py"


rule email_opt_in:
    input:
        decrypted=out("receipts/decrypt/email/{date}.json"),
        plain=out("decrypted/email/{date}"),
    output:
        receipt=out("receipts/email_opt_in/{date}.json"),
    log:
        out("logs/email_opt_in/{date}.log"),
    conda:
        "../envs/steps.yaml"
    params:
        outdir=out("EMAIL"),
        courses=COURSES,
    script:
        "../../scripts/email_opt_in.py"
