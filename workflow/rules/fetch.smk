# No listing rule: the source is listed when the workflow plans (see `listing` in common.smk).


rule fetch_object:
    input:
        version=out("manifests/versions/{bucket}/{key}.json"),
    output:
        raw=encrypted_output(out("raw/{bucket}/{key}")),
    log:
        out("logs/download/{bucket}/{key}.log"),
    wildcard_constraints:
        key=r".+\.(gpg|zip)",
    retries: 1
    conda:
        "../envs/steps.yaml"
    resources:
        s3_api=1,
    params:
        source=config["source"],
    script:
        "../../scripts/fetch_object.py"


rule manifests:
    input:
        all_manifests,


rule download:
    input:
        all_manifests,
        all_downloads,
