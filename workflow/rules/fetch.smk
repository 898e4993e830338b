# No listing rule or checkpoint (the listing was a checkpoint once): the source is listed when the
# workflow plans, so the dry run shows every job and one run takes in what is new (see `listing`
# in common.smk).


# The version file is written by the listing (not by a rule): a newer one means the object was
# replaced upstream, and it is fetched again.
rule fetch_object:
    input:
        version=out("manifests/versions/{bucket}/{key}.json"),
    output:
        raw=encrypted_output(out("raw/{bucket}/{key}")),
    log:
        out("logs/download/{bucket}/{key}.log"),
    wildcard_constraints:
        key=r".+\.(gpg|zip)",
    # The script already retries transient failures in-process (with backoff, and botocore's own
    # retries); one job-level retry covers what outlasts those, such as a longer S3 outage or a
    # job killed with its node, before the object's jobs fail.
    retries: 1
    conda:
        "../envs/steps.yaml"
    # One s3_api per download, capped in the default profile (4; --resources raises it): many
    # --cores or --jobs must not become as many concurrent requests, which S3 answers with SlowDown.
    resources:
        s3_api=1,
    params:
        source=config["source"],
    script:
        "../../scripts/fetch_object.py"


# The manifests are written by the listing at plan time: this target plans, and so lists, only.
rule manifests:
    input:
        get_all_manifests,


rule download:
    input:
        get_all_manifests,
        get_all_downloads,
