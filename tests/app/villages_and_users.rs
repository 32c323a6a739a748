//! Villages (admin edits, all read) and accounts.

use pufa::domain::Role;
use rocket::http::Status;

use crate::helpers::{on_both_backends, Backend, TestApp, PASSWORD};

on_both_backends!(
    clerk_sees_only_their_own_village_in_the_list,
    village_with_data_cannot_be_deleted,
    duplicate_village_name_gets_a_message,
    admin_creates_a_clerk_who_sees_only_their_village,
    last_admin_cannot_be_demoted_or_deactivated,
);

async fn village_with_data_cannot_be_deleted(backend: Backend) {
    let Some(app) = TestApp::spawn(backend, "village_with_data_cannot_be_deleted").await else {
        return;
    };
    app.user("admin", Role::Admin, None).await;
    let used = app.village("龙凤村").await;
    let empty = app.village("空村").await;
    app.person("村民甲", Some(used)).await;
    let admin = app.session("admin").await;

    let confirm = admin.get(&format!("/villages/{used}/delete")).await;
    assert!(
        confirm.body.contains("删除“龙凤村”？"),
        "deleting asks first"
    );
    let refused = admin.post(&format!("/villages/{used}/delete"), &[]).await;
    assert_eq!(refused.status, Status::SeeOther);
    let list = admin.get("/villages").await;
    assert!(list.body.contains("已有人员、账号或活动等数据，不能删除"));
    assert!(pufa::store::villages::get(&app.db, used)
        .await
        .unwrap()
        .is_some());

    admin.post(&format!("/villages/{empty}/delete"), &[]).await;
    assert!(pufa::store::villages::get(&app.db, empty)
        .await
        .unwrap()
        .is_none());
}

async fn duplicate_village_name_gets_a_message(backend: Backend) {
    let Some(app) = TestApp::spawn(backend, "duplicate_village_name_gets_a_message").await else {
        return;
    };
    app.user("admin", Role::Admin, None).await;
    app.village("龙凤村").await;
    let admin = app.session("admin").await;
    let reply = admin
        .post(
            "/villages",
            &[
                ("name", " 龙凤村 "),
                ("kind", "village"),
                ("code", ""),
                ("display_order", "x"),
            ],
        )
        .await;
    assert_eq!(reply.status, Status::Ok);
    assert!(reply.body.contains("已有同名的村(社区)"));
    assert!(reply.body.contains("排序只能填写整数"));
    let created = admin
        .post(
            "/villages",
            &[
                ("name", "龙凤社区"),
                ("kind", "community"),
                ("code", "511921001"),
                ("display_order", "2"),
            ],
        )
        .await;
    assert_eq!(created.status, Status::SeeOther);
    let list = admin.get("/villages").await;
    assert!(
        list.body.contains("龙凤社区")
            && list.body.contains("社区")
            && list.body.contains("511921001")
    );
}

async fn admin_creates_a_clerk_who_sees_only_their_village(backend: Backend) {
    let Some(app) =
        TestApp::spawn(backend, "admin_creates_a_clerk_who_sees_only_their_village").await
    else {
        return;
    };
    app.user("admin", Role::Admin, None).await;
    let a = app.village("龙凤村").await;
    let b = app.village("青峰村").await;
    app.person("龙凤村民", Some(a)).await;
    app.person("青峰村民", Some(b)).await;
    let admin = app.session("admin").await;
    let village_a = a.to_string();

    let no_village = admin.post("/users", &clerk_fields("", PASSWORD)).await;
    assert!(no_village.body.contains("必须选择所属村(社区)"));
    let short = admin
        .post("/users", &clerk_fields(&village_a, "short"))
        .await;
    assert!(short.body.contains("密码至少8位"));
    let created = admin
        .post("/users", &clerk_fields(&village_a, PASSWORD))
        .await;
    assert_eq!(created.status, Status::SeeOther, "{}", created.body);

    let clerk = app.session("wenshu").await;
    let list = clerk.get("/people").await;
    assert!(list.body.contains("龙凤村民") && !list.body.contains("青峰村民"));

    // Moving the clerk to the other village changes what they see at once.
    let user = pufa::store::users::find_by_username(&app.db, "wenshu")
        .await
        .unwrap()
        .unwrap();
    let moved = admin
        .post(
            &format!("/users/{}", user.id),
            &[
                ("display_name", "文书"),
                ("role", "clerk"),
                ("village_id", &b.to_string()),
            ],
        )
        .await;
    assert_eq!(moved.status, Status::SeeOther);
    let list = clerk.get("/people").await;
    assert!(list.body.contains("青峰村民") && !list.body.contains("龙凤村民"));

    let reset = admin
        .post(
            &format!("/users/{}/password", user.id),
            &[
                ("password", "新密码new-pass"),
                ("password_confirm", "新密码new-pass"),
            ],
        )
        .await;
    assert_eq!(reset.status, Status::SeeOther);
    let visitor = app.anonymous().await;
    let old = visitor
        .post("/login", &[("username", "wenshu"), ("password", PASSWORD)])
        .await;
    assert!(old.body.contains("用户名或密码不正确"));
    let new = visitor
        .post(
            "/login",
            &[("username", "wenshu"), ("password", "新密码new-pass")],
        )
        .await;
    assert_eq!(new.status, Status::SeeOther);
}

async fn last_admin_cannot_be_demoted_or_deactivated(backend: Backend) {
    let Some(app) = TestApp::spawn(backend, "last_admin_cannot_be_demoted_or_deactivated").await
    else {
        return;
    };
    let admin_id = app.user("admin", Role::Admin, None).await;
    let admin = app.session("admin").await;
    let demote = admin
        .post(
            &format!("/users/{admin_id}"),
            &[
                ("display_name", "管理员"),
                ("role", "viewer"),
                ("village_id", ""),
            ],
        )
        .await;
    assert_eq!(demote.status, Status::SeeOther);
    let page = admin.get(demote.location.as_deref().unwrap()).await;
    assert!(page.body.contains("最后一个可用的管理员账号"));
    assert_eq!(
        pufa::store::users::get(&app.db, admin_id)
            .await
            .unwrap()
            .unwrap()
            .role,
        Role::Admin
    );
    admin
        .post(&format!("/users/{admin_id}/active"), &[("active", "false")])
        .await;
    assert!(
        pufa::store::users::get(&app.db, admin_id)
            .await
            .unwrap()
            .unwrap()
            .active
    );
}

/// The new-account form for the clerk `wenshu`.
fn clerk_fields<'a>(village_id: &'a str, password: &'a str) -> [(&'a str, &'a str); 5] {
    [
        ("username", "wenshu"),
        ("display_name", "文书"),
        ("role", "clerk"),
        ("village_id", village_id),
        ("password", password),
    ]
}

async fn clerk_sees_only_their_own_village_in_the_list(backend: Backend) {
    let Some(app) = TestApp::spawn(backend, "clerk_village_list").await else {
        return;
    };
    let own = app.village("龙凤村").await;
    app.village("石桥村").await;
    app.user("clerk", Role::Clerk, Some(own)).await;
    let clerk = app.session("clerk").await;
    let page = clerk.get("/villages").await;
    assert_eq!(page.status, Status::Ok);
    assert!(
        page.body.contains("龙凤村") && !page.body.contains("石桥村"),
        "{}",
        page.body
    );
    app.user("viewer", Role::Viewer, None).await;
    let viewer = app.session("viewer").await;
    let page = viewer.get("/villages").await;
    assert!(page.body.contains("龙凤村") && page.body.contains("石桥村"));
}
