//! Integration tests through the real app, each on a fresh database, on SQLite and on
//! PostgreSQL (`PUFA_TEST_POSTGRES_URL`).

mod authorization;
mod backup;
mod binary;
mod browser;
mod cli;
mod crash;
mod figures;
mod helpers;
mod imports;
mod intake;
mod issue_lists;
mod ledgers;
mod login;
mod messages;
mod people;
mod plans;
mod reader;
mod report;
mod sessions;
mod summary;
mod upgrade;
mod villages_and_users;
mod yearbook;
