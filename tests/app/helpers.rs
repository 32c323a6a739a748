//! Spawns the real app on a fresh database per test (a temporary SQLite file, or a fresh
//! PostgreSQL database) and offers a logged-in browser-like session per user.

use std::io::Write;
use std::sync::atomic::{AtomicU32, Ordering};

use pufa::domain::activity::ActivityInput;
use pufa::domain::material::{DistributionInput, MaterialInput, ReceiptInput};
use pufa::domain::person::PersonInput;
use pufa::domain::schedule::{RecurrenceInput, SessionInput};
use pufa::domain::Role;
use pufa::services::people::create_person;
use pufa::services::users::{create_user, UserInput};
use pufa::services::villages::{create_village, VillageInput};
use pufa::services::Actor;
use pufa::services::{activities, materials, sessions};
use pufa::store::Db;
use rocket::figment::Figment;
use rocket::http::{ContentType, Status};
use rocket::local::asynchronous::Client;

pub const PASSWORD: &str = "普法password1";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Writes past libtest's output capture, so that a skipped test is visible in the run.
pub fn say(message: &str) {
    let _ = writeln!(std::io::stderr(), "{message}");
}

pub struct TestApp {
    pub db: Db,
    figment: Figment,
    _dir: tempfile::TempDir,
    postgres: Option<(String, String)>,
    /// The database's address, for running the `pufa` binary on it.
    pub url: String,
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

impl TestApp {
    /// A fresh app, or `None` when the backend is unavailable and not required.
    pub async fn spawn(backend: Backend, test_name: &str) -> Option<TestApp> {
        Self::spawn_with(backend, test_name, None).await
    }

    /// An app whose database was made by the first release (migration 0001 only) and
    /// filled with `fixture` (SQL in that schema), then migrated by this program.
    pub async fn spawn_from_first_schema(
        backend: Backend,
        test_name: &str,
        fixture: &str,
    ) -> Option<TestApp> {
        Self::spawn_with(backend, test_name, Some(fixture)).await
    }

    async fn spawn_with(
        backend: Backend,
        test_name: &str,
        first_schema_fixture: Option<&str>,
    ) -> Option<TestApp> {
        // Uploads are read in a child, as the server reads them.
        pufa::sheets::read::worker::use_worker(env!("CARGO_BIN_EXE_pufa").into());
        let dir = tempfile::tempdir().expect("temp dir");
        let (url, postgres) = match backend {
            Backend::Sqlite => (
                format!("sqlite://{}", dir.path().join("pufa.db").display()),
                None,
            ),
            Backend::Postgres => {
                let Some(admin_url) = std::env::var("PUFA_TEST_POSTGRES_URL")
                    .ok()
                    .filter(|u| !u.is_empty())
                else {
                    if std::env::var("PUFA_REQUIRE_PG").as_deref() == Ok("1") {
                        panic!("PUFA_REQUIRE_PG=1 but PUFA_TEST_POSTGRES_URL is not set");
                    }
                    say(&format!(
                        "SKIPPED {test_name} on PostgreSQL: set PUFA_TEST_POSTGRES_URL to run it"
                    ));
                    return None;
                };
                let name = format!(
                    "pufa_test_{}_{}_{}",
                    std::process::id(),
                    COUNTER.fetch_add(1, Ordering::SeqCst),
                    &pufa::random_token().to_lowercase().replace(['-', '_'], "")[..8]
                );
                let admin = Db::connect(&admin_url).await.unwrap_or_else(|e| {
                    panic!("PostgreSQL at PUFA_TEST_POSTGRES_URL is not reachable: {e}")
                });
                if let Db::Postgres(pool) = &admin {
                    sqlx::query(&format!("CREATE DATABASE {name}"))
                        .execute(pool)
                        .await
                        .expect("create test database");
                }
                admin.close().await;
                let mut url = url::Url::parse(&admin_url).expect("PUFA_TEST_POSTGRES_URL is a URL");
                url.set_path(&format!("/{name}"));
                (url.to_string(), Some((admin_url, name)))
            }
        };
        if let Some(fixture) = first_schema_fixture {
            fill_first_schema(&url, fixture).await;
        }
        let db = Db::connect_and_migrate(&url).await.expect("fresh database");
        let url = url.to_string();
        let figment = rocket::Config::figment()
            .merge(("secret_key", secret_key()))
            .merge(("log_level", "off"));
        Some(TestApp {
            db,
            figment,
            _dir: dir,
            postgres,
            url,
        })
    }

    pub async fn client(&self) -> Client {
        Client::tracked(pufa::web::build(self.figment.clone(), self.db.clone()))
            .await
            .expect("valid rocket")
    }

    /// The key the app signs check-in links and form tokens with.
    pub fn token_key(&self) -> pufa::services::signing::TokenKey {
        pufa::web::token_key(&self.figment)
    }

    /// The address a session's QR code opens.
    pub fn checkin_path(&self, session: &pufa::store::sessions::Session) -> String {
        format!(
            "/checkin/{}",
            pufa::services::attendance::checkin_link_token(&self.token_key(), session)
        )
    }

    pub async fn village(&self, name: &str) -> i64 {
        let input = VillageInput {
            name: name.into(),
            kind: "village".into(),
            ..VillageInput::default()
        };
        create_village(&self.db, &Actor::operator(), &input)
            .await
            .expect("village")
    }

    pub async fn user(&self, username: &str, role: Role, village_id: Option<i64>) -> i64 {
        let input = UserInput {
            username: username.into(),
            display_name: format!("{username}的姓名"),
            role: role.code().into(),
            village_id,
            password: PASSWORD.into(),
        };
        create_user(&self.db, &Actor::operator(), &input)
            .await
            .expect("user")
    }

    pub async fn person(&self, name: &str, village_id: Option<i64>) -> i64 {
        let input = PersonInput {
            name: name.into(),
            village_id,
            ..PersonInput::default()
        };
        create_person(&self.db, &Actor::operator(), &input)
            .await
            .expect("person")
    }

    pub async fn material(&self, title: &str) -> i64 {
        let input = MaterialInput {
            title: title.into(),
            kind: "booklet".into(),
            unit: "册".into(),
            notes: String::new(),
        };
        materials::create_material(&self.db, &Actor::operator(), &input)
            .await
            .expect("material")
    }

    pub async fn receipt(&self, material_id: i64, quantity: i64) -> i64 {
        self.receipt_on(material_id, "2021-01-05", quantity).await
    }

    pub async fn receipt_on(&self, material_id: i64, date: &str, quantity: i64) -> i64 {
        let input = ReceiptInput {
            received_on: date.into(),
            quantity: quantity.to_string(),
            source: "县司法局".into(),
            notes: String::new(),
        };
        materials::record_receipt(&self.db, &Actor::operator(), material_id, &input)
            .await
            .expect("receipt")
    }

    pub async fn distribution(
        &self,
        material_id: i64,
        village_id: Option<i64>,
        date: &str,
        quantity: i64,
    ) -> i64 {
        let input = DistributionInput {
            material_id: material_id.to_string(),
            distributed_on: date.into(),
            village_id,
            quantity: quantity.to_string(),
            ..DistributionInput::default()
        };
        materials::create_distribution(&self.db, &Actor::operator(), &input)
            .await
            .expect("distribution")
    }

    pub async fn activity(&self, village_id: Option<i64>, date: &str, topic: &str) -> i64 {
        let input = ActivityInput {
            held_on: date.into(),
            village_id,
            topic: topic.into(),
            form: "lecture".into(),
            audience_count: "30".into(),
            ..ActivityInput::default()
        };
        activities::create_activity(&self.db, &Actor::operator(), &input)
            .await
            .expect("activity")
    }

    /// A one-hour law-study session on `date` at `time` (e.g. "2021-03-01", "09:00").
    pub async fn study_session(
        &self,
        village_id: Option<i64>,
        date: &str,
        time: &str,
        topic: &str,
    ) -> i64 {
        let start = chrono::NaiveTime::parse_from_str(time, "%H:%M").expect("time");
        let end = (start + chrono::Duration::hours(1))
            .format("%H:%M")
            .to_string();
        let input = SessionInput {
            kind: "pre_meeting".into(),
            topic: topic.into(),
            date: date.into(),
            start_time: time.into(),
            end_time: end,
            village_id,
            ..SessionInput::default()
        };
        match sessions::schedule(
            &self.db,
            &Actor::operator(),
            &input,
            &RecurrenceInput::default(),
            true,
        )
        .await
        .expect("session")
        {
            sessions::Saved::Done(ids) => ids[0],
            sessions::Saved::Conflicts(_) => unreachable!("conflicts are overridden"),
        }
    }

    /// A client logged in as `username` (created before with `user`).
    pub async fn session(&self, username: &str) -> Session {
        let mut session = self.anonymous().await;
        let response = session
            .post(
                "/login",
                &[
                    ("username", username),
                    ("password", PASSWORD),
                    ("next", "/"),
                ],
            )
            .await;
        assert_eq!(
            response.status,
            Status::SeeOther,
            "login of {username} failed: {}",
            response.body
        );
        assert_eq!(response.location.as_deref(), Some("/"));
        // The CSRF token is new after the log-in: forms carry the one the next page gives
        // (a light one; the dashboard computes the year).
        let page = session.get("/account").await;
        session.csrf_token = csrf_token_in(&page.body).expect("pages carry a CSRF token");
        session
    }

    pub async fn anonymous(&self) -> Session {
        let client = self.client().await;
        let mut session = Session {
            client,
            csrf_token: String::new(),
        };
        let page = session.get("/login").await;
        session.csrf_token = csrf_token_in(&page.body).expect("login page carries a CSRF token");
        session
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        let Some((admin_url, name)) = self.postgres.take() else {
            return;
        };
        let db = self.db.clone();
        // Drop the test database from a thread of its own: Drop cannot await.
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            runtime.block_on(async move {
                db.close().await;
                let admin = Db::connect(&admin_url).await.ok()?;
                if let Db::Postgres(pool) = &admin {
                    let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                        .execute(pool)
                        .await;
                }
                admin.close().await;
                Some(())
            })
        })
        .join();
    }
}

/// Makes the database as the first release did (only its first migration) and runs the
/// fixture in it.
async fn fill_first_schema(url: &str, fixture: &str) {
    fn first(all: &sqlx::migrate::Migrator) -> sqlx::migrate::Migrator {
        sqlx::migrate::Migrator {
            migrations: std::borrow::Cow::Owned(all.iter().take(1).cloned().collect()),
            ignore_missing: false,
            locking: true,
            no_tx: false,
        }
    }
    let db = Db::connect(url).await.expect("database");
    match &db {
        Db::Sqlite(pool) => {
            first(&sqlx::migrate!("migrations/sqlite"))
                .run(pool)
                .await
                .expect("first schema");
            sqlx::raw_sql(fixture).execute(pool).await.expect("fixture");
        }
        Db::Postgres(pool) => {
            first(&sqlx::migrate!("migrations/postgres"))
                .run(pool)
                .await
                .expect("first schema");
            sqlx::raw_sql(fixture).execute(pool).await.expect("fixture");
            // The fixture names its ids; new rows continue after them.
            let tables: Vec<String> = sqlx::query_scalar(
                "SELECT table_name::text FROM information_schema.columns \
                 WHERE table_schema = current_schema() AND column_name = 'id' AND is_identity = 'YES'",
            )
            .fetch_all(pool)
            .await
            .expect("tables");
            for table in tables {
                sqlx::query(&format!(
                    "SELECT setval(pg_get_serial_sequence('{table}', 'id'), \
                     COALESCE((SELECT MAX(id) FROM {table}), 0) + 1, false)"
                ))
                .execute(pool)
                .await
                .expect("sequence");
            }
        }
    }
    db.close().await;
}

fn secret_key() -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(pufa::random_bytes::<64>())
}

pub fn csrf_token_in(html: &str) -> Option<String> {
    let marker = "name=\"csrf_token\" value=\"";
    let start = html.find(marker)? + marker.len();
    let end = html[start..].find('"')? + start;
    Some(html[start..end].to_string())
}

pub struct Session {
    pub client: Client,
    pub csrf_token: String,
}

pub struct Reply {
    pub status: Status,
    pub location: Option<String>,
    pub body: String,
}

impl Session {
    pub async fn get(&self, path: &str) -> Reply {
        let response = self.client.get(path.to_string()).dispatch().await;
        Reply {
            status: response.status(),
            location: response.headers().get_one("Location").map(str::to_string),
            body: response.into_string().await.unwrap_or_default(),
        }
    }

    /// A download: status, content type and the raw bytes.
    pub async fn get_bytes(&self, path: &str) -> (Status, Option<String>, Vec<u8>) {
        let response = self.client.get(path.to_string()).dispatch().await;
        let status = response.status();
        let content_type = response.content_type().map(|c| c.to_string());
        let bytes = response.into_bytes().await.unwrap_or_default();
        (status, content_type, bytes)
    }

    /// Posts a form with this session's CSRF token added.
    pub async fn post(&self, path: &str, fields: &[(&str, &str)]) -> Reply {
        let mut all: Vec<(&str, &str)> = vec![("csrf_token", self.csrf_token.as_str())];
        all.extend_from_slice(fields);
        self.post_raw(path, &all).await
    }

    /// Posts exactly these fields (no token added).
    pub async fn post_raw(&self, path: &str, fields: &[(&str, &str)]) -> Reply {
        self.post_with_headers(path, fields, &[]).await
    }

    /// Posts a form with this session's CSRF token and extra request headers (a client
    /// claiming things about itself).
    pub async fn post_claiming(
        &self,
        path: &str,
        fields: &[(&str, &str)],
        headers: &[(&'static str, String)],
    ) -> Reply {
        let mut all: Vec<(&str, &str)> = vec![("csrf_token", self.csrf_token.as_str())];
        all.extend_from_slice(fields);
        self.post_with_headers(path, &all, headers).await
    }

    async fn post_with_headers(
        &self,
        path: &str,
        fields: &[(&str, &str)],
        headers: &[(&'static str, String)],
    ) -> Reply {
        let body: String = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(fields)
            .finish();
        let mut request = self
            .client
            .post(path.to_string())
            .header(ContentType::Form)
            .body(body);
        for (name, value) in headers {
            request = request.header(rocket::http::Header::new(*name, value.clone()));
        }
        let response = request.dispatch().await;
        Reply {
            status: response.status(),
            location: response.headers().get_one("Location").map(str::to_string),
            body: response.into_string().await.unwrap_or_default(),
        }
    }
}

/// Generates `name::sqlite` and `name::postgres` for `async fn name(backend: Backend)`.
macro_rules! on_both_backends {
    ($($name:ident),+ $(,)?) => {
        $(
            mod $name {
                #[rocket::async_test]
                async fn sqlite() {
                    super::$name($crate::helpers::Backend::Sqlite).await
                }

                #[rocket::async_test]
                async fn postgres() {
                    super::$name($crate::helpers::Backend::Postgres).await
                }
            }
        )+
    };
}
pub(crate) use on_both_backends;

/// Runs `$body` with `$pool` bound to the database's concrete pool; the body is written
/// once and compiled for each backend.
macro_rules! with_pool {
    ($db:expr, |$pool:ident| $body:expr) => {
        match $db {
            pufa::store::Db::Sqlite($pool) => $body,
            pufa::store::Db::Postgres($pool) => $body,
        }
    };
}
pub(crate) use with_pool;
