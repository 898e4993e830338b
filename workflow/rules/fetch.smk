checkpoint manifest:
    output:
        manifest=out("manifests/objects/{file_type}/{site}.json"),
        passed_over=out("manifests/objects/{file_type}/{site}.passed_over.json"),
    log:
        out("logs/manifest/{file_type}/{site}.log"),
    conda:
        "../envs/steps.yaml"
    resources:
        s3_api=1,
    params:
        selection=manifest_params,
    script:
        "../../scripts/manifest.py"


rule fetch_object:
    input:
        manifest=manifest_of_key,
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
        listed=listed_object,
    script:
        "../../scripts/download.py"


rule manifests:
    input:
        all_manifests,


rule download:
    input:
        all_manifests,
        all_downloads,
