//! Setup link, login, logout, slow-down after failures, CSRF.

use pufa::domain::Role;
use pufa::services::auth;
use rocket::http::Status;

use crate::helpers::{on_both_backends, Backend, TestApp, PASSWORD};

on_both_backends!(
    setup_link_creates_the_first_admin_once,
    anonymous_visitor_is_sent_to_login,
    wrong_password_is_refused_in_chinese,
    repeated_failed_logins_are_slowed_down,
    deactivated_user_cannot_log_in_and_is_logged_out,
    post_without_or_with_wrong_csrf_token_is_refused,
    user_names_are_the_same_in_any_letter_case,
    every_page_carries_the_security_headers_and_no_inline_script,
    health_check_answers_without_login,
    a_cookie_replayed_after_log_out_gets_the_login_page,
    a_password_reset_or_change_ends_the_old_sessions,
    an_idle_session_ends,
    parallel_wrong_logins_are_all_counted,
    the_owner_logs_in_while_another_address_is_guessing,
    one_address_spraying_many_names_is_slowed_down,
    log_ins_are_in_the_audit_log_with_their_address,
    only_the_upload_takes_a_large_multipart_body,
    the_admin_reads_who_did_what_in_the_audit_log,
    a_form_token_holds_for_its_own_session_only,
);

async fn setup_link_creates_the_first_admin_once(backend: Backend) {
    let Some(app) = TestApp::spawn(backend, "setup_link_creates_the_first_admin_once").await else {
        return;
    };
    let token = auth::pending_setup_token(&app.db)
        .await
        .unwrap()
        .expect("token on an empty database");
    // Asking again (another start) gives the same link until it is used.
    assert_eq!(
        auth::pending_setup_token(&app.db).await.unwrap().as_deref(),
        Some(token.as_str())
    );

    let visitor = app.anonymous().await;
    assert_eq!(
        visitor.get("/setup?token=wrong").await.status,
        Status::Conflict
    );
    let page = visitor.get(&format!("/setup?token={token}")).await;
    assert_eq!(page.status, Status::Ok);
    assert!(page.body.contains("创建第一个管理员账号"));
    if std::env::var_os("PUFA_PUBLIC_URL").is_none() {
        assert!(
            page.body
                .contains("尚未设置本系统的对外地址（PUFA_PUBLIC_URL）"),
            "the setup page warns that links follow the browser's address"
        );
    }

    let mismatch = visitor
        .post(
            "/setup",
            &setup_fields(&token, "admin", "管理员", "other-password"),
        )
        .await;
    assert!(mismatch.body.contains("两次输入的密码不一致"));

    let created = visitor
        .post("/setup", &setup_fields(&token, "admin", "管理员", PASSWORD))
        .await;
    assert_eq!(created.status, Status::SeeOther, "{}", created.body);
    assert_eq!(
        visitor.get("/users").await.status,
        Status::Ok,
        "the new admin is logged in"
    );

    let again = app.anonymous().await;
    let replay = again
        .post("/setup", &setup_fields(&token, "intruder", "", PASSWORD))
        .await;
    assert_eq!(replay.status, Status::Conflict);
    assert!(replay.body.contains("初始化链接无效或已被使用"));
    assert_eq!(auth::pending_setup_token(&app.db).await.unwrap(), None);
    assert!(pufa::store::users::find_by_username(&app.db, "intruder")
        .await
        .unwrap()
        .is_none());
}

async fn anonymous_visitor_is_sent_to_login(backend: Backend) {
    let Some(app) = TestApp::spawn(backend, "anonymous_visitor_is_sent_to_login").await else {
        return;
    };
    let visitor = app.anonymous().await;
    let reply = visitor.get("/people?village=1").await;
    assert_eq!(reply.status, Status::SeeOther);
    assert_eq!(reply.location.as_deref(), Some("/login?next=%2Fpeople"));
    let login = visitor.get("/login").await;
    assert!(login.body.contains("登录普法台账"));
    assert!(login.body.contains("lang=\"zh-CN\""));
}

async fn wrong_password_is_refused_in_chinese(backend: Backend) {
    let Some(app) = TestApp::spawn(backend, "wrong_password_is_refused_in_chinese").await else {
        return;
    };
    app.user("zhangsan", Role::Organizer, None).await;
    let visitor = app.anonymous().await;
    let reply = visitor
        .post(
            "/login",
            &[("username", "zhangsan"), ("password", "not-the-password")],
        )
        .await;
    assert_eq!(reply.status, Status::Ok);
    assert!(reply.body.contains("用户名或密码不正确"));
    let unknown = visitor
        .post(
            "/login",
            &[("username", "nobody"), ("password", "whatever123")],
        )
        .await;
    assert!(
        unknown.body.contains("用户名或密码不正确"),
        "same message whether or not the user exists"
    );
    assert_eq!(
        visitor.get("/people").await.status,
        Status::SeeOther,
        "still anonymous"
    );
}

async fn repeated_failed_logins_are_slowed_down(backend: Backend) {
    let Some(app) = TestApp::spawn(backend, "repeated_failed_logins_are_slowed_down").await else {
        return;
    };
    app.user("lisi", Role::Clerk, Some(app.village("龙凤村").await))
        .await;
    let visitor = app.anonymous().await;
    for _ in 0..5 {
        let reply = visitor
            .post(
                "/login",
                &[("username", "lisi"), ("password", "guess-guess")],
            )
            .await;
        assert!(reply.body.contains("用户名或密码不正确"));
    }
    // Now even the right password must wait.
    let reply = visitor
        .post("/login", &[("username", "lisi"), ("password", PASSWORD)])
        .await;
    assert!(reply.body.contains("登录失败次数过多"), "{}", reply.body);
    assert_eq!(visitor.get("/people").await.status, Status::SeeOther);
    // Another user name is not affected.
    app.user("wangwu", Role::Viewer, None).await;
    let other = visitor
        .post("/login", &[("username", "wangwu"), ("password", PASSWORD)])
        .await;
    assert_eq!(other.status, Status::SeeOther);
}

async fn deactivated_user_cannot_log_in_and_is_logged_out(backend: Backend) {
    let Some(app) =
        TestApp::spawn(backend, "deactivated_user_cannot_log_in_and_is_logged_out").await
    else {
        return;
    };
    app.user("admin", Role::Admin, None).await;
    let organizer_id = app.user("zhaoliu", Role::Organizer, None).await;
    let organizer = app.session("zhaoliu").await;
    assert_eq!(organizer.get("/people").await.status, Status::Ok);

    let admin = app.session("admin").await;
    let reply = admin
        .post(
            &format!("/users/{organizer_id}/active"),
            &[("active", "false")],
        )
        .await;
    assert_eq!(reply.status, Status::SeeOther);

    assert_eq!(
        organizer.get("/people").await.status,
        Status::SeeOther,
        "the open session ends at once"
    );
    let again = app.anonymous().await;
    let reply = again
        .post("/login", &[("username", "zhaoliu"), ("password", PASSWORD)])
        .await;
    assert!(reply.body.contains("用户名或密码不正确"));
}

async fn post_without_or_with_wrong_csrf_token_is_refused(backend: Backend) {
    let Some(app) =
        TestApp::spawn(backend, "post_without_or_with_wrong_csrf_token_is_refused").await
    else {
        return;
    };
    app.user("admin", Role::Admin, None).await;
    let admin = app.session("admin").await;
    let fields = [
        ("name", "伪造村"),
        ("kind", "village"),
        ("code", ""),
        ("display_order", "1"),
    ];

    let missing = admin.post_raw("/villages", &fields).await;
    assert_eq!(
        missing.status,
        Status::UnprocessableEntity,
        "no token field at all"
    );

    let mut wrong = vec![("csrf_token", "forged-token")];
    wrong.extend_from_slice(&fields);
    let reply = admin.post_raw("/villages", &wrong).await;
    assert_eq!(reply.status, Status::Forbidden);
    assert!(reply.body.contains("安全校验未通过"));

    let mut empty = vec![("csrf_token", "")];
    empty.extend_from_slice(&fields);
    assert_eq!(
        admin.post_raw("/villages", &empty).await.status,
        Status::Forbidden
    );

    // Another browser's valid token is no good either.
    let other = app.anonymous().await;
    let mut foreign = vec![("csrf_token", other.csrf_token.as_str())];
    foreign.extend_from_slice(&fields);
    assert_eq!(
        admin.post_raw("/villages", &foreign).await.status,
        Status::Forbidden
    );

    assert!(pufa::store::villages::find_by_name(&app.db, "伪造村")
        .await
        .unwrap()
        .is_none());
    let ok = admin.post("/villages", &fields).await;
    assert_eq!(ok.status, Status::SeeOther);
    assert!(pufa::store::villages::find_by_name(&app.db, "伪造村")
        .await
        .unwrap()
        .is_some());
}

/// The setup form with the password `PASSWORD`, confirmed as `confirm`.
fn setup_fields<'a>(
    token: &'a str,
    username: &'a str,
    display_name: &'a str,
    confirm: &'a str,
) -> [(&'a str, &'a str); 5] {
    [
        ("token", token),
        ("username", username),
        ("display_name", display_name),
        ("password", PASSWORD),
        ("password_confirm", confirm),
    ]
}

async fn user_names_are_the_same_in_any_letter_case(backend: Backend) {
    let Some(app) = TestApp::spawn(backend, "user_name_case").await else {
        return;
    };
    app.user("LiSi", Role::Viewer, None).await;
    // A phone capitalises the first letter; the account is still found.
    let visitor = app.anonymous().await;
    let reply = visitor
        .post("/login", &[("username", "lisi"), ("password", PASSWORD)])
        .await;
    assert_eq!(reply.status, Status::SeeOther, "{}", reply.body);
    // The failure throttle counts the account, not each spelling of it.
    let guesser = app.anonymous().await;
    for name in ["lisi", "LISI", "Lisi", "lISI", "LiSI"] {
        guesser
            .post("/login", &[("username", name), ("password", "guess-guess")])
            .await;
    }
    let reply = guesser
        .post("/login", &[("username", "liSi"), ("password", PASSWORD)])
        .await;
    assert!(reply.body.contains("登录失败次数过多"), "{}", reply.body);
    // And a second account cannot take the same name in other letters.
    app.user("admin", Role::Admin, None).await;
    let admin = app.session("admin").await;
    let reply = admin
        .post(
            "/users",
            &[
                ("username", "LISI"),
                ("display_name", "另一个李四"),
                ("role", "viewer"),
                ("village_id", ""),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(reply.status, Status::Ok, "the form again");
    assert!(
        reply.body.contains("已存在") || reply.body.contains("已被使用"),
        "{}",
        reply.body
    );
}

async fn every_page_carries_the_security_headers_and_no_inline_script(backend: Backend) {
    let Some(app) = TestApp::spawn(backend, "security_headers").await else {
        return;
    };
    let village = app.village("龙凤村").await;
    let person = app.person("张三", Some(village)).await;
    app.user("admin", Role::Admin, None).await;
    let admin = app.session("admin").await;
    let anonymous = app.anonymous().await;
    let pages = [
        "/?year=2021".to_string(),
        "/people".into(),
        format!("/people/{person}"),
        "/sessions".into(),
        "/materials".into(),
        "/distributions".into(),
        "/activities".into(),
        "/villages".into(),
        format!("/villages/{village}"),
        "/imports".into(),
        "/users".into(),
    ];
    let mut checked = 0;
    for (client, path) in pages
        .iter()
        .map(|p| (&admin.client, p.as_str()))
        .chain([(&anonymous.client, "/login")])
    {
        let response = client.get(path).dispatch().await;
        assert_eq!(response.status(), Status::Ok, "{path}");
        let headers = response.headers();
        let policy = headers
            .get_one("Content-Security-Policy")
            .unwrap_or_default();
        assert!(
            policy.contains("script-src 'self';") && policy.contains("frame-ancestors 'none'"),
            "{path}: {policy}"
        );
        assert_eq!(
            headers.get_one("Referrer-Policy"),
            Some("same-origin"),
            "{path}"
        );
        assert_eq!(
            headers.get_one("X-Content-Type-Options"),
            Some("nosniff"),
            "{path}"
        );
        assert_eq!(headers.get_one("Cache-Control"), Some("no-store"), "{path}");
        let body = response.into_string().await.unwrap_or_default();
        assert!(!body.contains("<script>"), "{path} has an inline script");
        for handler in ["onclick=", "onchange=", "onsubmit="] {
            assert!(!body.contains(handler), "{path} has an inline {handler}");
        }
        checked += 1;
    }
    assert_eq!(checked, 12);
    let script = anonymous.client.get("/static/app.js").dispatch().await;
    assert_eq!(script.status(), Status::Ok);
    assert!(script
        .into_string()
        .await
        .unwrap()
        .contains("data-autosubmit"));
    // The icon browsers ask for on a first visit is there (a 404 was an ERROR log line).
    for path in ["/favicon.ico", "/static/favicon.svg"] {
        let icon = anonymous.client.get(path).dispatch().await;
        assert_eq!(icon.status(), Status::Ok, "{path}");
        assert_eq!(icon.content_type(), Some(rocket::http::ContentType::SVG));
    }
}

async fn health_check_answers_without_login(backend: Backend) {
    let Some(app) = TestApp::spawn(backend, "healthz").await else {
        return;
    };
    let anonymous = app.anonymous().await;
    let reply = anonymous.get("/healthz").await;
    assert_eq!((reply.status, reply.body.as_str()), (Status::Ok, "ok"));
    app.db.close().await;
    let reply = anonymous.get("/healthz").await;
    assert_eq!(reply.status, Status::ServiceUnavailable);
}

/// The session cookie's value, as a thief would copy it.
fn session_cookie(session: &crate::helpers::Session) -> rocket::http::Cookie<'static> {
    session
        .client
        .cookies()
        .get_private("pufa_session")
        .expect("a session cookie")
        .into_owned()
}

/// A new browser with a copied session cookie: does it get in?
async fn replay(app: &TestApp, cookie: rocket::http::Cookie<'static>) -> Status {
    let client = app.client().await;
    let status = client
        .get("/people")
        .private_cookie(cookie)
        .dispatch()
        .await
        .status();
    status
}

async fn a_cookie_replayed_after_log_out_gets_the_login_page(backend: Backend) {
    let Some(app) = TestApp::spawn(backend, "replayed_cookie").await else {
        return;
    };
    app.user("organizer", Role::Organizer, None).await;
    let organizer = app.session("organizer").await;
    let copy = session_cookie(&organizer);
    assert_eq!(
        replay(&app, copy.clone()).await,
        Status::Ok,
        "the copy works while logged in"
    );
    let reply = organizer.post("/logout", &[]).await;
    assert_eq!(reply.location.as_deref(), Some("/login"));
    assert_eq!(
        replay(&app, copy).await,
        Status::SeeOther,
        "after log-out the copy is sent to the log-in page"
    );
}

async fn a_password_reset_or_change_ends_the_old_sessions(backend: Backend) {
    let Some(app) = TestApp::spawn(backend, "reset_ends_sessions").await else {
        return;
    };
    let clerk_id = app
        .user("clerk", Role::Clerk, Some(app.village("龙凤村").await))
        .await;
    app.user("admin", Role::Admin, None).await;
    let office = app.session("clerk").await;
    let phone = app.session("clerk").await;
    assert_eq!(office.get("/people").await.status, Status::Ok);
    // The admin sees both sessions and resets the password: both end.
    let admin = app.session("admin").await;
    let page = admin.get(&format!("/users/{clerk_id}")).await;
    assert!(page.body.contains("结束该账号的全部登录"), "{}", page.body);
    assert_eq!(page.body.matches("data-label=\"登录时间\"").count(), 2);
    admin
        .post(
            &format!("/users/{clerk_id}/password"),
            &[
                ("password", "new-pass-123"),
                ("password_confirm", "new-pass-123"),
            ],
        )
        .await;
    assert_eq!(office.get("/people").await.status, Status::SeeOther);
    assert_eq!(phone.get("/people").await.status, Status::SeeOther);

    // The clerk logs in with the new password twice and changes it on one: the other ends,
    // this one goes on.
    let log_in = |password: &'static str| {
        let app = &app;
        async move {
            let s = app.anonymous().await;
            let reply = s
                .post(
                    "/login",
                    &[("username", "clerk"), ("password", password), ("next", "/")],
                )
                .await;
            assert_eq!(reply.status, Status::SeeOther, "{}", reply.body);
            let mut s = s;
            let page = s.get("/account").await;
            s.csrf_token = crate::helpers::csrf_token_in(&page.body).unwrap();
            assert!(page.body.contains("修改密码") && page.body.contains("本机"));
            s
        }
    };
    let desk = log_in("new-pass-123").await;
    let other = log_in("new-pass-123").await;
    let wrong = desk
        .post(
            "/account/password",
            &[
                ("current", "not-it-at-all"),
                ("password", "newer-pass-456"),
                ("password_confirm", "newer-pass-456"),
            ],
        )
        .await;
    assert_eq!(wrong.status, Status::Ok);
    assert!(wrong.body.contains("当前密码不正确"), "{}", wrong.body);
    let changed = desk
        .post(
            "/account/password",
            &[
                ("current", "new-pass-123"),
                ("password", "newer-pass-456"),
                ("password_confirm", "newer-pass-456"),
            ],
        )
        .await;
    assert_eq!(
        changed.location.as_deref(),
        Some("/account"),
        "{}",
        changed.body
    );
    assert_eq!(
        desk.get("/people").await.status,
        Status::Ok,
        "this browser goes on"
    );
    assert_eq!(
        other.get("/people").await.status,
        Status::SeeOther,
        "the other ended"
    );
    // "Log out everywhere" ends this one too.
    let mut desk = desk;
    let page = desk.get("/account").await;
    desk.csrf_token = crate::helpers::csrf_token_in(&page.body).unwrap();
    let copy = session_cookie(&desk);
    let reply = desk.post("/account/sessions/end", &[]).await;
    assert_eq!(reply.location.as_deref(), Some("/login"));
    assert_eq!(replay(&app, copy).await, Status::SeeOther);
}

async fn an_idle_session_ends(backend: Backend) {
    let Some(app) = TestApp::spawn(backend, "idle_session").await else {
        return;
    };
    app.user("viewer", Role::Viewer, None).await;
    let attempt = auth::LoginAttempt {
        username: "viewer",
        password: PASSWORD,
        address: "10.0.0.7",
        user_agent: "test",
    };
    let (_, token) = auth::login(&app.db, &attempt).await.unwrap();
    let now = chrono::Utc::now();
    let later = |minutes| now + chrono::Duration::minutes(minutes);
    assert!(auth::session_user(&app.db, &token, later(100))
        .await
        .unwrap()
        .is_some());
    // Used at +100 min, so still alive 100 min later; then idle for more than two hours.
    assert!(auth::session_user(&app.db, &token, later(200))
        .await
        .unwrap()
        .is_some());
    assert!(
        auth::session_user(&app.db, &token, later(200 + auth::IDLE_MINUTES + 1))
            .await
            .unwrap()
            .is_none()
    );
    // However busy, a session ends after a working day.
    let (_, token) = auth::login(&app.db, &attempt).await.unwrap();
    let mut at = now;
    while at < now + chrono::Duration::hours(auth::SESSION_HOURS) {
        at += chrono::Duration::minutes(60);
        let alive = auth::session_user(&app.db, &token, at)
            .await
            .unwrap()
            .is_some();
        assert_eq!(
            alive,
            at - now <= chrono::Duration::hours(auth::SESSION_HOURS),
            "{at}"
        );
    }
}

fn attempt<'a>(username: &'a str, password: &'a str, address: &'a str) -> auth::LoginAttempt<'a> {
    auth::LoginAttempt {
        username,
        password,
        address,
        user_agent: "test",
    }
}

async fn parallel_wrong_logins_are_all_counted(backend: Backend) {
    let Some(app) = TestApp::spawn(backend, "parallel_logins").await else {
        return;
    };
    app.user("admin", Role::Admin, None).await;
    let tries = (0..40).map(|_| {
        let db = app.db.clone();
        tokio::spawn(async move {
            auth::login(&db, &attempt("admin", "wrong-guess", "203.0.113.9")).await
        })
    });
    let mut checked = 0;
    for t in tries.collect::<Vec<_>>() {
        match t.await.unwrap() {
            Err(auth::LoginError::WrongCredentials) => checked += 1,
            Err(auth::LoginError::TooManyFailures(_)) => {}
            other => panic!("{:?}", other.map(|(u, _)| u.username)),
        }
    }
    assert!(
        checked <= 5,
        "{checked} guesses were checked, at most 5 may be"
    );
    let counted = pufa::store::rate_limits::get(&app.db, "login:admin:203.0.113.9")
        .await
        .unwrap()
        .unwrap()
        .failures;
    assert_eq!(counted, 40, "every attempt is counted");
    // The right password from that address must wait now.
    assert!(matches!(
        auth::login(&app.db, &attempt("admin", PASSWORD, "203.0.113.9")).await,
        Err(auth::LoginError::TooManyFailures(_))
    ));
}

async fn the_owner_logs_in_while_another_address_is_guessing(backend: Backend) {
    let Some(app) = TestApp::spawn(backend, "owner_not_locked_out").await else {
        return;
    };
    app.user("admin", Role::Admin, None).await;
    for _ in 0..10 {
        let _ = auth::login(&app.db, &attempt("admin", "guess", "198.51.100.4")).await;
    }
    assert!(matches!(
        auth::login(&app.db, &attempt("admin", PASSWORD, "198.51.100.4")).await,
        Err(auth::LoginError::TooManyFailures(_))
    ));
    assert!(
        auth::login(&app.db, &attempt("ADMIN", PASSWORD, "192.168.1.20"))
            .await
            .is_ok(),
        "the admin at their own desk is not locked out"
    );
}

async fn one_address_spraying_many_names_is_slowed_down(backend: Backend) {
    let Some(app) = TestApp::spawn(backend, "password_spraying").await else {
        return;
    };
    app.user("wangwu", Role::Viewer, None).await;
    for i in 0..20 {
        let name = format!("user{i}");
        assert!(matches!(
            auth::login(&app.db, &attempt(&name, "Password1", "198.51.100.77")).await,
            Err(auth::LoginError::WrongCredentials)
        ));
    }
    assert!(matches!(
        auth::login(&app.db, &attempt("wangwu", PASSWORD, "198.51.100.77")).await,
        Err(auth::LoginError::TooManyFailures(_))
    ));
    assert!(
        auth::login(&app.db, &attempt("wangwu", PASSWORD, "198.51.100.78"))
            .await
            .is_ok()
    );
}

async fn log_ins_are_in_the_audit_log_with_their_address(backend: Backend) {
    let Some(app) = TestApp::spawn(backend, "login_audit").await else {
        return;
    };
    let id = app.user("wangwu", Role::Viewer, None).await;
    let _ = auth::login(&app.db, &attempt("wangwu", "wrong-one", "192.0.2.1")).await;
    auth::login(&app.db, &attempt("wangwu", PASSWORD, "192.0.2.2"))
        .await
        .unwrap();
    let log = pufa::store::audit::for_entity(&app.db, "user", id)
        .await
        .unwrap();
    let of = |action: &str| {
        log.iter()
            .find(|r| r.action == action)
            .and_then(|r| r.after.clone())
            .unwrap_or_default()
    };
    assert!(of("login_failed").contains("192.0.2.1"), "{log:#?}");
    assert!(of("login").contains("192.0.2.2"), "{log:#?}");
}

/// The import limit (20 MiB files) is the upload's alone: any other form sent as multipart
/// is refused before its body is read.
async fn only_the_upload_takes_a_large_multipart_body(backend: Backend) {
    let Some(app) = TestApp::spawn(backend, "multipart_limit").await else {
        return;
    };
    let village = app.village("龙凤村").await.to_string();
    app.user("organizer", Role::Organizer, None).await;
    let organizer = app.session("organizer").await;
    let big = "名".repeat(700_000); // 2 MiB of a name
    let (content_type, body) = crate::imports::multipart(
        &organizer.csrf_token,
        "x.txt",
        b"",
        &[("name", big.as_str()), ("village_id", village.as_str())],
    );
    let status = organizer
        .client
        .post("/people")
        .header(content_type)
        .body(body)
        .dispatch()
        .await
        .status();
    assert_eq!(status, Status::UnsupportedMediaType);
    let people = pufa::store::people::count(&app.db, &Default::default())
        .await
        .unwrap();
    assert_eq!(people, 0);
}

/// Log-ins and downloads are in the audit log; the admin filters and pages through it.
async fn the_admin_reads_who_did_what_in_the_audit_log(backend: Backend) {
    let Some(app) = TestApp::spawn(backend, "audit_page").await else {
        return;
    };
    let village = app.village("龙凤村").await;
    app.user("clerk", Role::Clerk, Some(village)).await;
    app.user("admin", Role::Admin, None).await;
    let clerk = app.session("clerk").await;
    let (status, _, _) = clerk
        .get_bytes("/sessions/requirements.xlsx?year=2021")
        .await;
    assert_eq!(status, Status::Ok);
    for i in 0..120 {
        app.person(&format!("人员{i}"), Some(village)).await;
    }
    let admin = app.session("admin").await;
    let downloads = admin.get("/audit?action=download").await;
    assert_eq!(downloads.status, Status::Ok);
    assert!(
        downloads.body.contains("文件：学法未达标人员_2021.xlsx")
            && downloads.body.contains("clerk"),
        "{}",
        downloads.body
    );
    assert!(!downloads.body.contains("登录失败"));
    assert!(
        !downloads.body.contains("null"),
        "empty values are left out"
    );
    let all = admin.get("/audit").await;
    assert!(all.body.contains("第 1 / 2 页"), "{}", all.body);
    assert!(all.body.contains("page=2"));
    let second = admin.get("/audit?page=2").await;
    assert!(second.body.contains("第 2 / 2 页"));
    // By village: the village itself, its clerk's account and its 120 people were created;
    // another village has only its own creation.
    let other = app.village("石桥村").await;
    let own = admin
        .get(&format!("/audit?village={village}&action=create"))
        .await;
    assert!(own.body.contains("共 122 条"), "{}", own.body);
    let theirs = admin
        .get(&format!("/audit?village={other}&action=create"))
        .await;
    assert!(theirs.body.contains("共 1 条"), "{}", theirs.body);
    // A clerk may not read it.
    assert_eq!(clerk.get("/audit").await.status, Status::Forbidden);
}

/// An attacker who plants their own (valid) anonymous CSRF cookie in the admin's browser
/// and posts a form with the matching token: the admin's session expects its own token.
async fn a_form_token_holds_for_its_own_session_only(backend: Backend) {
    let Some(app) = TestApp::spawn(backend, "csrf_bound_to_session").await else {
        return;
    };
    app.user("admin", Role::Admin, None).await;
    let admin = app.session("admin").await;
    let victim_session = session_cookie(&admin);
    let fields = |name: &'static str, token: String| {
        url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs([
                ("csrf_token", token.as_str()),
                ("name", name),
                ("kind", "village"),
                ("code", ""),
                ("display_order", "1"),
            ])
            .finish()
    };
    // The attacker's browser holds a CSRF cookie and its token; it sends the admin's session.
    let attacker = app.anonymous().await;
    let status = attacker
        .client
        .post("/villages")
        .header(rocket::http::ContentType::Form)
        .private_cookie(victim_session.clone())
        .body(fields("伪造村", attacker.csrf_token.clone()))
        .dispatch()
        .await
        .status();
    assert_eq!(
        status,
        Status::Forbidden,
        "a planted cookie's token is refused"
    );
    assert!(pufa::store::villages::find_by_name(&app.db, "伪造村")
        .await
        .unwrap()
        .is_none());

    // The same account's other session has a token of its own.
    let second = app.session("admin").await;
    assert_ne!(second.csrf_token, admin.csrf_token);
    let mut foreign = vec![("csrf_token", admin.csrf_token.as_str())];
    foreign.extend_from_slice(&[
        ("name", "别处村"),
        ("kind", "village"),
        ("code", ""),
        ("display_order", "1"),
    ]);
    assert_eq!(
        second.post_raw("/villages", &foreign).await.status,
        Status::Forbidden
    );

    // Its own token works, and ends with the session.
    let ok = admin
        .post(
            "/villages",
            &[
                ("name", "本会话村"),
                ("kind", "village"),
                ("code", ""),
                ("display_order", "1"),
            ],
        )
        .await;
    assert_eq!(ok.status, Status::SeeOther, "{}", ok.body);
    let token = admin.csrf_token.clone();
    admin.post("/logout", &[]).await;
    let reply = attacker
        .client
        .post("/villages")
        .header(rocket::http::ContentType::Form)
        .private_cookie(victim_session)
        .body(fields("旧令牌村", token))
        .dispatch()
        .await;
    let location = reply.headers().get_one("Location").unwrap_or_default();
    assert!(
        location.starts_with("/login"),
        "an ended session's form goes to the log-in page, not through: {location}"
    );
    assert!(pufa::store::villages::find_by_name(&app.db, "旧令牌村")
        .await
        .unwrap()
        .is_none());
}
