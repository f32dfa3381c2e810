//! A secret's value as it is stored: encrypted under the backup key before it leaves memory, and
//! compared only by a keyed MAC computed inside KMS.
//!
//! - Up to 4 KiB (KMS's limit) the value is encrypted by KMS directly; larger values use envelope
//!   encryption: a fresh AES-256 data key from KMS seals the value with AES-256-GCM here, and only
//!   the data key's KMS-wrapped form is kept.
//! - Both are bound to an encryption context naming the secret and its version (also the GCM
//!   associated data), so one secret's backup cannot be passed off as another's, and a key
//!   policy can allow decrypting secret backups alone.
//! - The stored document is JSON an operator can read: `aws kms decrypt` with the context opens
//!   the `kms` scheme by hand.

use base64::{engine::general_purpose::STANDARD, Engine as _};
use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN};
use ring::rand::{SecureRandom, SystemRandom};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::model::Plaintext;
use crate::ports::{Context, Keys, PortError};

pub const FORMAT: &str = "axiom-ops/secret-backup/v1";
/// The most KMS encrypts directly.
pub const KMS_MAX: usize = 4096;
/// What the MAC is computed over: a label and the value's SHA-256, so any size fits KMS's 4 KiB
/// message limit. The digest lives only in memory, on its way into KMS.
const MAC_LABEL: &[u8] = b"axiom-ops/secret-mac/v1\n";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Scheme {
    #[serde(rename = "kms")]
    Kms,
    #[serde(rename = "envelope-aes-256-gcm")]
    Envelope,
}

/// A secret backup's body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sealed {
    pub format: String,
    pub scheme: Scheme,
    pub key_id: String,
    pub context: Context,
    /// The value was `SecretBinary`.
    pub binary: bool,
    /// Base64.
    pub ciphertext: String,
    /// The KMS-wrapped data key (envelope only), base64.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
}

/// The encryption context of one secret version's backup.
pub fn context(secret: &str, version_id: &str) -> Context {
    [
        ("axiom-ops:purpose", "secret-backup"),
        ("axiom-ops:secret", secret),
        ("axiom-ops:version", version_id),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect()
}

/// The keyed MAC (base64) of a value, by KMS under the HMAC key `key_id`.
pub async fn mac_of<K: Keys>(
    keys: &K,
    key_id: &str,
    value: &Plaintext,
) -> Result<String, PortError> {
    let mut message = MAC_LABEL.to_vec();
    message.extend_from_slice(&Sha256::digest(value.expose()));
    let message = Zeroizing::new(message);
    Ok(STANDARD.encode(keys.mac(key_id, &message).await?))
}

fn aad(context: &Context) -> Result<Vec<u8>, PortError> {
    serde_json::to_vec(context).map_err(|e| PortError(format!("encryption context: {e}")))
}

fn aes_key(data_key: &Plaintext) -> Result<LessSafeKey, PortError> {
    UnboundKey::new(&AES_256_GCM, data_key.expose())
        .map(LessSafeKey::new)
        .map_err(|_| PortError("KMS returned a data key that is not 256 bits".into()))
}

/// Encrypts `value` under `key_id`, bound to `context`.
pub async fn seal<K: Keys>(
    keys: &K,
    key_id: &str,
    context: Context,
    value: &Plaintext,
    binary: bool,
) -> Result<Sealed, PortError> {
    let mut sealed = Sealed {
        format: FORMAT.to_owned(),
        scheme: Scheme::Kms,
        key_id: key_id.to_owned(),
        context,
        binary,
        ciphertext: String::new(),
        data_key: None,
        nonce: None,
    };
    if value.len() <= KMS_MAX {
        let blob = keys.encrypt(key_id, value, &sealed.context).await?;
        sealed.ciphertext = STANDARD.encode(blob);
        return Ok(sealed);
    }
    let (data_key, wrapped) = keys.data_key(key_id, &sealed.context).await?;
    let key = aes_key(&data_key)?;
    let mut nonce = [0u8; NONCE_LEN];
    SystemRandom::new()
        .fill(&mut nonce)
        .map_err(|_| PortError("no randomness for a nonce".into()))?;
    // Sealed in place: the buffer holds ciphertext once this returns, plaintext only if it fails.
    let mut buf = Zeroizing::new(value.expose().to_vec());
    key.seal_in_place_append_tag(
        Nonce::assume_unique_for_key(nonce),
        Aad::from(aad(&sealed.context)?),
        &mut *buf,
    )
    .map_err(|_| PortError("AES-256-GCM sealing failed".into()))?;
    sealed.scheme = Scheme::Envelope;
    sealed.ciphertext = STANDARD.encode(&*buf);
    sealed.data_key = Some(STANDARD.encode(wrapped));
    sealed.nonce = Some(STANDARD.encode(nonce));
    Ok(sealed)
}

/// Decrypts a backup, in memory (a restore, the drill's check).
pub async fn open<K: Keys>(keys: &K, sealed: &Sealed) -> Result<Plaintext, PortError> {
    if sealed.format != FORMAT {
        return Err(PortError(format!(
            "a secret backup in format {:?}; this version reads {FORMAT:?}",
            sealed.format
        )));
    }
    let b64 = |what: &str, s: &str| {
        STANDARD
            .decode(s)
            .map_err(|_| PortError(format!("the backup's {what} is not base64")))
    };
    let ciphertext = b64("ciphertext", &sealed.ciphertext)?;
    match sealed.scheme {
        Scheme::Kms => keys.decrypt(&ciphertext, &sealed.context).await,
        Scheme::Envelope => {
            let (Some(wrapped), Some(nonce)) = (&sealed.data_key, &sealed.nonce) else {
                return Err(PortError(
                    "an envelope backup without its data key or nonce".into(),
                ));
            };
            let data_key = keys
                .decrypt(&b64("data key", wrapped)?, &sealed.context)
                .await?;
            let nonce: [u8; NONCE_LEN] = b64("nonce", nonce)?
                .try_into()
                .map_err(|_| PortError("the backup's nonce is not 96 bits".into()))?;
            let mut buf = Zeroizing::new(ciphertext);
            let plain = aes_key(&data_key)?
                .open_in_place(
                    Nonce::assume_unique_for_key(nonce),
                    Aad::from(aad(&sealed.context)?),
                    &mut buf,
                )
                .map_err(|_| {
                    PortError("the backup does not decrypt: altered, or another secret's".into())
                })?;
            Ok(Plaintext::new(plain.to_vec()))
        }
    }
}
