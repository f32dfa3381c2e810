//! The effects `backup`, the restores and the drill need: S3 objects read where they are, the
//! backup bucket, Secrets Manager, KMS and RDS restores. Each has one adapter; see
//! `adapters::{s3, secrets, kms, rds}`.

use std::collections::BTreeMap;
use std::future::Future;

use super::{EffectError, PortError};
use crate::model::{
    Copied, Instance, ObjectHead, Plaintext, RestoreSpec, SecretValue, SnapshotFacts, Stored,
};

/// KMS encryption context: what a ciphertext is bound to; decrypting needs the same pairs.
pub type Context = BTreeMap<String, String>;

/// S3 objects where they live (the configuration backed up), read only.
pub trait Objects: Send + Sync {
    /// The current version of `bucket/key`; `None` when there is none.
    fn head(
        &self,
        bucket: &str,
        key: &str,
    ) -> impl Future<Output = Result<Option<ObjectHead>, PortError>> + Send;
    /// The keys under `prefix`, in order, all pages.
    fn keys(
        &self,
        bucket: &str,
        prefix: &str,
    ) -> impl Future<Output = Result<Vec<String>, PortError>> + Send;
    /// The SHA-256 (hex) of exactly that version's bytes, read as a stream.
    fn sha256(&self, object: &ObjectHead)
        -> impl Future<Output = Result<String, PortError>> + Send;
}

/// The backup bucket. Every object is written with SSE-KMS under the backup key.
pub trait BackupStore: Send + Sync {
    /// Backups under `prefix`, in key order (their metadata is not read: see `metadata`).
    fn list(&self, prefix: &str) -> impl Future<Output = Result<Vec<Stored>, PortError>> + Send;
    /// One backup's metadata; `None` when there is no such backup.
    fn metadata(
        &self,
        key: &str,
    ) -> impl Future<Output = Result<Option<BTreeMap<String, String>>, PortError>> + Send;
    /// Copies that exact version of `from` to `to`, server side, with `metadata`, asking S3 for
    /// the copy's SHA-256.
    fn copy_in(
        &self,
        from: &ObjectHead,
        to: &str,
        metadata: &BTreeMap<String, String>,
    ) -> impl Future<Output = Result<Copied, EffectError>> + Send;
    fn put(
        &self,
        key: &str,
        body: Vec<u8>,
        metadata: &BTreeMap<String, String>,
    ) -> impl Future<Output = Result<(), EffectError>> + Send;
    /// `None` when there is no such backup.
    fn get(&self, key: &str) -> impl Future<Output = Result<Option<Vec<u8>>, PortError>> + Send;
    fn delete(&self, key: &str) -> impl Future<Output = Result<(), EffectError>> + Send;
}

/// Secrets Manager.
pub trait Secrets: Send + Sync {
    /// The current value of `name`; `None` when there is no such secret.
    fn read(
        &self,
        name: &str,
    ) -> impl Future<Output = Result<Option<SecretValue>, PortError>> + Send;
    /// Puts `value` as a new current version of `name` (no version is deleted); its version id.
    fn put(
        &self,
        name: &str,
        value: &Plaintext,
        binary: bool,
    ) -> impl Future<Output = Result<String, EffectError>> + Send;
}

/// KMS.
pub trait Keys: Send + Sync {
    /// HMAC-SHA-256 of `message` under the HMAC key `key_id`, computed inside KMS.
    fn mac(
        &self,
        key_id: &str,
        message: &[u8],
    ) -> impl Future<Output = Result<Vec<u8>, PortError>> + Send;
    /// Direct encryption (at most 4 KiB of plaintext).
    fn encrypt(
        &self,
        key_id: &str,
        plaintext: &Plaintext,
        context: &Context,
    ) -> impl Future<Output = Result<Vec<u8>, PortError>> + Send;
    /// A fresh AES-256 data key: in clear, and wrapped under `key_id`.
    fn data_key(
        &self,
        key_id: &str,
        context: &Context,
    ) -> impl Future<Output = Result<(Plaintext, Vec<u8>), PortError>> + Send;
    fn decrypt(
        &self,
        ciphertext: &[u8],
        context: &Context,
    ) -> impl Future<Output = Result<Plaintext, PortError>> + Send;
}

/// An RDS snapshot restored to a new DB instance, and that instance deleted (instances only).
pub trait Restores: Send + Sync {
    /// `None` when there is no DB snapshot `id`.
    fn snapshot(
        &self,
        id: &str,
    ) -> impl Future<Output = Result<Option<SnapshotFacts>, PortError>> + Send;
    /// Starts restoring `snapshot` to the new instance `instance`, as `spec` says.
    fn restore(
        &self,
        snapshot: &str,
        instance: &str,
        spec: &RestoreSpec,
    ) -> impl Future<Output = Result<(), EffectError>> + Send;
    /// `None` when there is no instance `id`.
    fn instance(
        &self,
        id: &str,
    ) -> impl Future<Output = Result<Option<Instance>, PortError>> + Send;
    /// Every instance tagged `key` = `value`, all pages.
    fn tagged(
        &self,
        key: &str,
        value: &str,
    ) -> impl Future<Output = Result<Vec<Instance>, PortError>> + Send;
    /// Deletes the instance with no final snapshot (a drill's, or a failed restore's).
    fn delete_instance(&self, id: &str) -> impl Future<Output = Result<(), EffectError>> + Send;
}
