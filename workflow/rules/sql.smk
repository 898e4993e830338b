# The one checkpoint: which courses the newest bundle holds is known only from its zip directory,
# once the bundle is fetched, and those courses decide the sql_course, publish and load jobs. Only
# the newest bundle is indexed (older ones go to sql_snapshot), so a plan makes one DAG round more,
# not one per bundle.
checkpoint index_bundle:
    input:
        bundle=get_sql_bundle,
        version=get_bundle_version,
    output:
        index=report(
            out("manifests/sql/{bundle}.json"),
            caption="../report/index_bundle.rst",
            category="Manifests",
            labels={"bundle": "{bundle}"},
        ),
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


# One job per course of the newest bundle: a bad course fails alone, and loads wait for their own
# course only. The index tells the job which members are its course's.
rule sql_course:
    input:
        bundle=get_sql_bundle,
        version=get_bundle_version,
        index=out("manifests/sql/{bundle}.json"),
    output:
        receipt=report(
            out("receipts/sql_course/{bundle}/{base}.json"),
            caption="../report/sql_course.rst",
            category="Split",
            subcategory="SQL tables",
            labels={"course": "{base}", "bundle": "{bundle}"},
        ),
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
        bundle=get_sql_bundle,
        version=get_bundle_version,
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
        version=get_email_version,
        plain=out("decrypted/email/{date}"),
    output:
        receipt=report(
            out("receipts/email_opt_in/{date}.json"),
            caption="../report/email_opt_in.rst",
            category="Split",
            subcategory="Email opt-in",
            labels={"date": "{date}"},
        ),
    log:
        out("logs/email_opt_in/{date}.log"),
    conda:
        "../envs/steps.yaml"
    params:
        outdir=out("EMAIL"),
        courses=COURSES,
    script:
        "../../scripts/email_opt_in.py"
