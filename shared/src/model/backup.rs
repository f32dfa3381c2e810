//! What `backup` copies and keeps: a source object's version, a stored backup's facts, and a
//! secret's value — which is never printed, logged, serialized or stored in clear, and whose
//! bytes are wiped when dropped.

use std::collections::BTreeMap;
use std::fmt;

use zeroize::Zeroizing;

/// One version of an S3 object, as `HeadObject` describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectHead {
    pub bucket: String,
    pub key: String,
    /// `None` in a bucket without versioning.
    pub version_id: Option<String>,
    pub etag: String,
    pub size: i64,
}

/// A backup in the backup bucket: its key and its metadata (`x-amz-meta-*`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Stored {
    pub key: String,
    pub metadata: BTreeMap<String, String>,
}

/// What S3 said of a server-side copy.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Copied {
    /// The copy's SHA-256, base64, as S3 computed it (`ChecksumSHA256`).
    pub sha256: Option<String>,
    /// The source version S3 copied.
    pub source_version_id: Option<String>,
}

/// Bytes that must never leave memory in clear. No `Display`, no `Serialize`; `Debug` says only
/// how long it is.
pub struct Plaintext(Zeroizing<Vec<u8>>);

impl Plaintext {
    pub fn new(bytes: Vec<u8>) -> Plaintext {
        Plaintext(Zeroizing::new(bytes))
    }

    /// The bytes, for the one call that needs them (encrypting, comparing, restoring).
    pub fn expose(&self) -> &[u8] {
        &self.0
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Plaintext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Plaintext(redacted, {} bytes)", self.0.len())
    }
}

/// A Secrets Manager secret's current value.
#[derive(Debug)]
pub struct SecretValue {
    pub version_id: String,
    pub value: Plaintext,
    /// `SecretBinary` rather than `SecretString`: restored the same way.
    pub binary: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plaintext_never_prints_its_bytes() {
        let p = || Plaintext::new(b"hunter2-very-secret".to_vec());
        let v = SecretValue {
            version_id: "v1".into(),
            value: p(),
            binary: false,
        };
        let shown = format!("{:?} {v:?}", p());
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("19 bytes"), "{shown}");
    }
}
