//! The vocabulary of DESIGN.md as plain types, with parsing and validation. No I/O here.

pub mod account;
pub mod activity;
pub mod category;
pub mod dates;
pub mod fields;
pub mod id_number;
pub mod import;
pub mod labels;
pub mod material;
pub mod numbers;
pub mod person;
pub mod phone;
pub mod report;
pub mod role;
pub mod schedule;
pub mod self_study;
pub mod session;
pub mod text;
pub mod village;

pub use category::Category;
pub use id_number::IdNumber;
pub use phone::Phone;
pub use role::Role;
pub use village::{VillageKind, VillageScope};
