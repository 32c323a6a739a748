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
