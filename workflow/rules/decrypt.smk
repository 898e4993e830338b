rule decrypt_log:
    input:
        encrypted=encrypted_log,
        version=log_version,
    output:
        plain=decrypted_output(out("decrypted/log/{site}/{date}.log.gz")),
    log:
        out("logs/decrypt/log/{site}/{date}.log"),
    conda:
        "../envs/steps.yaml"
    params:
        gpg=config["gpg"],
        is_zip=False,
        owner_only_from=decrypted_root,
    script:
        "../../scripts/decrypt.py"


rule decrypt_email:
    input:
        encrypted=encrypted_email,
        version=email_version,
    output:
        plain=decrypted_output(directory(out("decrypted/email/{date}"))),
        receipt=out("receipts/decrypt/email/{date}.json"),
    log:
        out("logs/decrypt/email/{date}.log"),
    conda:
        "../envs/steps.yaml"
    params:
        gpg=config["gpg"],
        is_zip=True,
        owner_only_from=decrypted_root,
    script:
        "../../scripts/decrypt.py"


rule decrypt:
    input:
        all_manifests,
        all_decrypted,
