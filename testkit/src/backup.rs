//! What `backup` reads and writes, seeded in the emulator: the Terraform state bucket and file
//! (versioned, with a SHA-256 checksum as an SDK upload has), the backup bucket, the backup key
//! and the HMAC key under their policy aliases, and the production secret.

use aws_config::SdkConfig;
use aws_sdk_kms::types::{KeySpec, KeyUsageType};
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{BucketVersioningStatus, ChecksumAlgorithm, VersioningConfiguration};

use super::BoxError;

pub const STATE_BUCKET: &str = "axiomcore-terraform-state";
pub const STATE_KEY: &str = "production/terraform.tfstate";
pub const BACKUP_BUCKET: &str = "axiom-ops-backups";
pub const SECRET: &str = "axiomcore/production";

/// What was seeded, to compare backups against.
#[derive(Debug, Clone)]
pub struct BackupSeed {
    pub state: Vec<u8>,
    /// The secret's value: a test must find it nowhere but in Secrets Manager.
    pub secret: String,
}

/// A value no backup, log line or notice may contain; distinct per call.
pub fn secret_value(len: usize) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let seed = format!("pw-{nanos:x}-{:x}-", std::process::id());
    seed.chars().cycle().take(len).collect()
}

async fn versioned_bucket(s3: &aws_sdk_s3::Client, name: &str) -> Result<(), BoxError> {
    s3.create_bucket().bucket(name).send().await?;
    s3.put_bucket_versioning()
        .bucket(name)
        .versioning_configuration(
            VersioningConfiguration::builder()
                .status(BucketVersioningStatus::Enabled)
                .build(),
        )
        .send()
        .await?;
    Ok(())
}

/// Writes `body` as the state file's new version.
pub async fn put_state(sdk: &SdkConfig, body: &[u8]) -> Result<(), BoxError> {
    aws_sdk_s3::Client::new(sdk)
        .put_object()
        .bucket(STATE_BUCKET)
        .key(STATE_KEY)
        .checksum_algorithm(ChecksumAlgorithm::Sha256)
        .body(ByteStream::from(body.to_vec()))
        .send()
        .await?;
    Ok(())
}

/// A KMS key under `alias`.
async fn key(
    kms: &aws_sdk_kms::Client,
    alias: &str,
    spec: KeySpec,
    usage: KeyUsageType,
) -> Result<(), BoxError> {
    let id = kms
        .create_key()
        .key_spec(spec)
        .key_usage(usage)
        .send()
        .await?
        .key_metadata
        .map(|m| m.key_id)
        .ok_or("create_key returned no key")?;
    kms.create_alias()
        .alias_name(alias)
        .target_key_id(id)
        .send()
        .await?;
    Ok(())
}

pub async fn seed_backup(sdk: &SdkConfig, secret_len: usize) -> Result<BackupSeed, BoxError> {
    let s3 = aws_sdk_s3::Client::new(sdk);
    versioned_bucket(&s3, STATE_BUCKET).await?;
    versioned_bucket(&s3, BACKUP_BUCKET).await?;
    let state = format!(
        "{{\"version\": 4, \"terraform_version\": \"1.9.0\", \"serial\": 41, \"lineage\": \"{}\", \"resources\": []}}\n",
        secret_value(16)
    )
    .into_bytes();
    put_state(sdk, &state).await?;

    let kms = aws_sdk_kms::Client::new(sdk);
    key(
        &kms,
        "alias/axiom-ops-backup",
        KeySpec::SymmetricDefault,
        KeyUsageType::EncryptDecrypt,
    )
    .await?;
    key(
        &kms,
        "alias/axiom-ops-backup-hmac",
        KeySpec::Hmac256,
        KeyUsageType::GenerateVerifyMac,
    )
    .await?;

    let secret = secret_value(secret_len);
    aws_sdk_secretsmanager::Client::new(sdk)
        .create_secret()
        .name(SECRET)
        .secret_string(&secret)
        .send()
        .await?;
    Ok(BackupSeed { state, secret })
}

/// Every version of every object in the backup bucket: (key, version id, bytes, metadata).
pub async fn backup_objects(
    sdk: &SdkConfig,
) -> Result<Vec<(String, String, Vec<u8>, Vec<(String, String)>)>, BoxError> {
    let s3 = aws_sdk_s3::Client::new(sdk);
    let versions = s3
        .list_object_versions()
        .bucket(BACKUP_BUCKET)
        .send()
        .await?;
    let mut out = Vec::new();
    for v in versions.versions() {
        let (Some(key), Some(id)) = (v.key(), v.version_id()) else {
            continue;
        };
        let o = s3
            .get_object()
            .bucket(BACKUP_BUCKET)
            .key(key)
            .version_id(id)
            .send()
            .await?;
        let mut metadata: Vec<(String, String)> =
            o.metadata.clone().unwrap_or_default().into_iter().collect();
        metadata.sort();
        let bytes = o.body.collect().await?.to_vec();
        out.push((key.to_owned(), id.to_owned(), bytes, metadata));
    }
    out.sort();
    Ok(out)
}
