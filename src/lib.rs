//! pufa (普法台账): legal-education activity and training management for township
//! governments. See DESIGN.md for the architecture: `domain` ← `store` / `sheets` ←
//! `services` ← `web` and `cli`.

pub mod cli;
pub mod config;
pub mod domain;
pub mod embedded;
pub mod services;
pub mod sheets;
pub mod store;
pub mod web;

use argon2::password_hash::rand_core::{OsRng, RngCore};
use base64::Engine;

/// Random bytes from the operating system.
pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    OsRng.fill_bytes(&mut bytes);
    bytes
}

/// A URL-safe random token (setup links, CSRF, calendar feeds, check-in links).
pub fn random_token() -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(random_bytes::<24>())
}
