//! Tokens derived from the server's key: what the database keeps (a random seed, a session
//! token's hash) is not enough to make them, so a copy of the database (a backup, a leaked
//! file) does not hold a working check-in link or form token.

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

use super::passwords::secrets_match;

/// The key tokens are signed with, derived from the server's secret key (the one that
/// encrypts cookies; kept in `data/secret.key` or configured as ROCKET_SECRET_KEY), so every
/// instance sharing that key accepts the same links.
#[derive(Clone)]
pub struct TokenKey([u8; 32]);

impl std::fmt::Debug for TokenKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenKey(…)")
    }
}

/// Hex characters of a signature kept in a token (128 bits).
const SIGNATURE_HEX: usize = 32;

impl TokenKey {
    /// The token key of a server secret (any text form of it).
    pub fn from_secret(secret: &str) -> Self {
        let mut hasher = Sha256::new();
        hasher.update(b"pufa token key v1\x00");
        hasher.update(secret.as_bytes());
        TokenKey(hasher.finalize().into())
    }

    /// A key nobody else has: for a server started without a configured secret (a debug
    /// run), whose links then last until it stops, like its cookies.
    pub fn random() -> Self {
        TokenKey(crate::random_bytes::<32>())
    }

    /// The signature of `data` for one purpose, in hex; a signature for one purpose is
    /// never valid for another.
    pub fn sign(&self, purpose: &str, data: &str) -> String {
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(&self.0) else {
            // HMAC takes a key of any length; this cannot happen.
            return String::new();
        };
        mac.update(purpose.as_bytes());
        mac.update(b"\x00");
        mac.update(data.as_bytes());
        let bytes = mac.finalize().into_bytes();
        let mut hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        hex.truncate(SIGNATURE_HEX);
        hex
    }

    /// Whether `signature` is the signature of `data` for `purpose` (constant time).
    pub fn verify(&self, purpose: &str, data: &str, signature: &str) -> bool {
        signature.len() == SIGNATURE_HEX && secrets_match(&self.sign(purpose, data), signature)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_depend_on_key_purpose_and_data() {
        let key = TokenKey::from_secret("one");
        let sig = key.sign("checkin", "7:seed");
        assert_eq!(sig.len(), SIGNATURE_HEX);
        assert!(key.verify("checkin", "7:seed", &sig));
        assert!(!key.verify("csrf", "7:seed", &sig));
        assert!(!key.verify("checkin", "8:seed", &sig));
        assert!(!TokenKey::from_secret("two").verify("checkin", "7:seed", &sig));
        assert!(!key.verify("checkin", "7:seed", &sig[..31]));
        assert_eq!(TokenKey::from_secret("one").sign("checkin", "7:seed"), sig);
    }
}
