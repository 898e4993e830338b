# The one checkpoint: which courses the newest bundle holds is known only from its zip directory.
checkpoint index_bundle:
    input:
        bundle=sql_bundle,
        version=bundle_version,
    output:
        index=out("manifests/sql/{bundle}.json"),
    log:
        out("logs/index_bundle/{bundle}.log"),
    conda:
        "../envs/steps.yaml"
    params:
        sites=config["sites"],
        courses=COURSES,
        gpg=config["gpg"],
    script:
        "../../scripts/index_bundle.py"


rule sql_course:
    input:
        bundle=sql_bundle,
        version=bundle_version,
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
        max_member_expansion=config["max_member_expansion"],
    script:
        "../../scripts/sql_course.py"


# Older bundles (snapshots: all) are kept as files only, so one job per bundle is enough and
# needs no index checkpoint: planning grows with bundles, not bundles times courses.
rule sql_snapshot:
    input:
        bundle=sql_bundle,
        version=bundle_version,
    output:
        receipt=out("receipts/sql_snapshot/{bundle}.json"),
    log:
        out("logs/sql_snapshot/{bundle}.log"),
    conda:
        "../envs/steps.yaml"
    params:
        sites=config["sites"],
        courses=COURSES,
        sql_root=out("SQL"),
        course_receipts=lambda wildcards: out(f"receipts/sql_course/{wildcards.bundle}"),
        gpg=config["gpg"],
        max_member_expansion=config["max_member_expansion"],
    script:
        "../../scripts/sql_snapshot.py"


rule email_opt_in:
    input:
        decrypted=out("receipts/decrypt/email/{date}.json"),
        version=email_version,
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
