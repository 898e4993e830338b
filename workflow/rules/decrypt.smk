# Decrypted outputs are temp() unless keep_decrypted (see decrypted_output): personal data.
rule decrypt_log:
    input:
        encrypted=get_encrypted_log,
        version=get_log_version,
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
        encrypted=get_encrypted_email,
        version=get_email_version,
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
        get_all_manifests,
        get_all_decrypted,
