//! Password hashing (argon2) and comparing secrets, in one place for logins, the setup
//! link, account administration and the CSRF check.

use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::Argon2;
use subtle::ConstantTimeEq;

use super::{ServiceError, ServiceResult};
use crate::domain::account::NewPassword;

pub fn hash(password: &NewPassword) -> ServiceResult<String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_str().as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|e| ServiceError::Refused(format!("无法处理该密码：{e}")))
}

pub fn verify(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .map(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

/// Password hashing is deliberately slow (tens of milliseconds of CPU each): it runs on the
/// blocking pool, at most this many at once, so that a flood of log-ins waits its turn
/// instead of stalling every page.
const HASHING_AT_ONCE: usize = 2;
static HASHING: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(HASHING_AT_ONCE);

async fn off_the_request_threads<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> ServiceResult<T> {
    let _permit = HASHING
        .acquire()
        .await
        .map_err(|_| ServiceError::Refused("服务正在关闭，请稍后重试".into()))?;
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|_| ServiceError::Refused("无法处理该密码，请重试".into()))
}

/// `verify` on the blocking pool, behind the semaphore.
pub async fn verify_blocking(password: &str, hash: &str) -> ServiceResult<bool> {
    let (password, hash) = (password.to_string(), hash.to_string());
    off_the_request_threads(move || verify(&password, &hash)).await
}

/// `hash` on the blocking pool, behind the semaphore.
pub async fn hash_blocking(password: &NewPassword) -> ServiceResult<String> {
    let password = password.clone();
    off_the_request_threads(move || hash(&password)).await?
}

/// What the server keeps of a session or feed token: its SHA-256, in hex.
pub fn token_hash(token: &str) -> String {
    super::imports::sha256_hex(token.as_bytes())
}

/// An argon2 hash of a random password nobody knows: logins with an unknown name are
/// checked against it, so that timing does not tell which names exist.
pub const UNKNOWN_USER_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$0P6VnS2b6VhtrTnrUXNjp41ZU3E9B1h6GtiJnO1R2ew";

/// Whether two secrets (tokens) are equal, in time that does not depend on where they differ.
pub fn secrets_match(a: &str, b: &str) -> bool {
    a.as_bytes().ct_eq(b.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_hash_round_trip() {
        let password = NewPassword::parse("正确的密码123").unwrap();
        let hash = hash(&password).unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify("正确的密码123", &hash));
        assert!(!verify("错误的密码123", &hash));
    }

    #[test]
    fn unknown_user_hash_is_well_formed_and_matches_nothing_common() {
        assert!(PasswordHash::new(UNKNOWN_USER_HASH).is_ok());
        assert!(!verify("", UNKNOWN_USER_HASH));
        assert!(!verify("password", UNKNOWN_USER_HASH));
    }

    #[test]
    fn secrets_are_compared_whole() {
        assert!(secrets_match("abc", "abc"));
        assert!(!secrets_match("abc", "abd"));
        assert!(!secrets_match("abc", "abcd"));
        assert!(!secrets_match("", "a"));
    }
}
