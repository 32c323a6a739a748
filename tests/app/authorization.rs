//! The authorization matrix: every route × every role and anonymous. Each role works on a
//! fresh app, so one role's changes cannot hide another's refusal.

use std::collections::BTreeSet;

use pufa::domain::Role;
use rocket::http::Status;

use crate::helpers::{on_both_backends, Backend, Reply, Session, TestApp, PASSWORD};

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Who {
    Anonymous,
    Admin,
    Organizer,
    Clerk,
    Viewer,
}

const EVERYONE_LOGGED_IN: &[Who] = &[Who::Admin, Who::Organizer, Who::Clerk, Who::Viewer];
const EDITORS: &[Who] = &[Who::Admin, Who::Organizer, Who::Clerk];
const ADMIN: &[Who] = &[Who::Admin];
const CATALOGUE: &[Who] = &[Who::Admin, Who::Organizer];
const ANYONE: &[Who] = &[
    Who::Anonymous,
    Who::Admin,
    Who::Organizer,
    Who::Clerk,
    Who::Viewer,
];

struct Ids {
    village: i64,
    empty_village: i64,
    person: i64,
    other_user: i64,
    /// A material with distributions, and one without (for the delete routes).
    material: i64,
    unused_material: i64,
    receipt: i64,
    distribution: i64,
    spare_distribution: i64,
    activity: i64,
    spare_activity: i64,
    session: i64,
    spare_session: i64,
    checkin_token: String,
    feed_token: String,
    requirement: i64,
    pending: i64,
    batch: i64,
    self_study: i64,
}

/// One row: method, route as Rocket names it, concrete path, form fields, who is allowed.
type Row = (
    &'static str,
    &'static str,
    String,
    Vec<(&'static str, String)>,
    &'static [Who],
);

fn matrix(ids: &Ids) -> Vec<Row> {
    let v = ids.village.to_string();
    let person_form = |name: &str| {
        vec![
            ("name", name.to_string()),
            ("gender", String::new()),
            ("village_id", v.clone()),
            ("post", String::new()),
            ("phone", String::new()),
            ("id_number", String::new()),
            ("notes", String::new()),
        ]
    };
    let village_form = |name: &str| {
        vec![
            ("name", name.to_string()),
            ("kind", "village".to_string()),
            ("code", String::new()),
            ("display_order", "1".to_string()),
        ]
    };
    let (p, u, ev) = (ids.person, ids.other_user, ids.empty_village);
    let (m, um, r) = (ids.material, ids.unused_material, ids.receipt);
    let (d, sd, a, sa) = (
        ids.distribution,
        ids.spare_distribution,
        ids.activity,
        ids.spare_activity,
    );
    let material_form = |title: &str| {
        vec![
            ("title", title.to_string()),
            ("kind", "booklet".to_string()),
            ("unit", "册".to_string()),
            ("notes", String::new()),
        ]
    };
    let distribution_form = vec![
        ("material_id", m.to_string()),
        ("distributed_on", "2021-03-05".to_string()),
        ("village_id", v.clone()),
        ("quantity", "20".to_string()),
        ("recipients", String::new()),
        ("place", String::new()),
        ("handled_by", String::new()),
        ("session_id", String::new()),
        ("activity_id", String::new()),
        ("notes", String::new()),
    ];
    let activity_form = vec![
        ("held_on", "2021-03-05".to_string()),
        ("village_id", v.clone()),
        ("topic", "民法典宣传".to_string()),
        ("form", "stall".to_string()),
        ("place", "village".to_string()),
        ("audience_groups", "villagers".to_string()),
        ("audience_count", "50".to_string()),
        ("speaker", String::new()),
        ("venue", String::new()),
        ("notes", String::new()),
    ];
    let receipt_form = vec![
        ("received_on", "2021-01-05".to_string()),
        ("quantity", "100".to_string()),
        ("source", "县司法局".to_string()),
        ("notes", String::new()),
    ];
    let get = |route: &'static str, path: String, who: &'static [Who]| -> Row {
        ("GET", route, path, vec![], who)
    };
    let ledger_rows: Vec<Row> = vec![
        get("/materials?<year>", "/materials".into(), EVERYONE_LOGGED_IN),
        get(
            "/materials/export.xlsx?<year>",
            "/materials/export.xlsx".into(),
            EVERYONE_LOGGED_IN,
        ),
        get(
            "/materials/<id>?<year>",
            format!("/materials/{m}"),
            EVERYONE_LOGGED_IN,
        ),
        get("/materials/new", "/materials/new".into(), CATALOGUE),
        (
            "POST",
            "/materials",
            "/materials".into(),
            material_form("新资料"),
            CATALOGUE,
        ),
        get(
            "/materials/<id>/edit",
            format!("/materials/{m}/edit"),
            CATALOGUE,
        ),
        (
            "POST",
            "/materials/<id>",
            format!("/materials/{m}"),
            material_form("改名资料"),
            CATALOGUE,
        ),
        get(
            "/materials/<id>/delete",
            format!("/materials/{um}/delete"),
            CATALOGUE,
        ),
        (
            "POST",
            "/materials/<id>/delete",
            format!("/materials/{um}/delete"),
            vec![],
            CATALOGUE,
        ),
        (
            "POST",
            "/materials/<id>/receipts",
            format!("/materials/{m}/receipts"),
            receipt_form,
            CATALOGUE,
        ),
        (
            "POST",
            "/materials/receipts/<id>/delete",
            format!("/materials/receipts/{r}/delete"),
            vec![],
            CATALOGUE,
        ),
        get(
            "/distributions?<query..>",
            "/distributions?year=2021".into(),
            EVERYONE_LOGGED_IN,
        ),
        get(
            "/distributions/export.xlsx?<query..>",
            "/distributions/export.xlsx?year=2021".into(),
            EVERYONE_LOGGED_IN,
        ),
        get("/distributions/new", "/distributions/new".into(), EDITORS),
        (
            "POST",
            "/distributions",
            "/distributions".into(),
            distribution_form.clone(),
            EDITORS,
        ),
        get(
            "/distributions/<id>/edit",
            format!("/distributions/{d}/edit"),
            EDITORS,
        ),
        (
            "POST",
            "/distributions/<id>",
            format!("/distributions/{d}"),
            distribution_form,
            EDITORS,
        ),
        get(
            "/distributions/<id>/delete",
            format!("/distributions/{sd}/delete"),
            EDITORS,
        ),
        (
            "POST",
            "/distributions/<id>/delete",
            format!("/distributions/{sd}/delete"),
            vec![],
            EDITORS,
        ),
        get(
            "/activities?<query..>",
            "/activities?year=2021".into(),
            EVERYONE_LOGGED_IN,
        ),
        get(
            "/activities/export.xlsx?<query..>",
            "/activities/export.xlsx?year=2021".into(),
            EVERYONE_LOGGED_IN,
        ),
        get(
            "/activities/<id>",
            format!("/activities/{a}"),
            EVERYONE_LOGGED_IN,
        ),
        get("/activities/new", "/activities/new".into(), EDITORS),
        (
            "POST",
            "/activities",
            "/activities".into(),
            activity_form.clone(),
            EDITORS,
        ),
        get(
            "/activities/<id>/edit",
            format!("/activities/{a}/edit"),
            EDITORS,
        ),
        (
            "POST",
            "/activities/<id>",
            format!("/activities/{a}"),
            activity_form,
            EDITORS,
        ),
        get(
            "/activities/<id>/delete",
            format!("/activities/{sa}/delete"),
            EDITORS,
        ),
        (
            "POST",
            "/activities/<id>/delete",
            format!("/activities/{sa}/delete"),
            vec![],
            EDITORS,
        ),
        get(
            "/villages/<id>?<year>",
            format!("/villages/{v}?year=2021"),
            EVERYONE_LOGGED_IN,
        ),
    ];
    let (s, ss) = (ids.session, ids.spare_session);
    let session_form = vec![
        ("kind", "lecture".to_string()),
        ("topic", "法治讲座".to_string()),
        ("date", "2021-05-10".to_string()),
        ("start_time", "14:00".to_string()),
        ("end_time", "16:00".to_string()),
        ("venue", String::new()),
        ("speaker", String::new()),
        ("organizer", String::new()),
        ("village_id", v.clone()),
        ("hours_credited", String::new()),
        ("notes", String::new()),
    ];
    let post = |route: &'static str,
                path: String,
                fields: Vec<(&'static str, String)>,
                who: &'static [Who]|
     -> Row { ("POST", route, path, fields, who) };
    let session_rows: Vec<Row> = vec![
        get(
            "/sessions?<query..>",
            "/sessions?year=2021".into(),
            EVERYONE_LOGGED_IN,
        ),
        get(
            "/sessions/calendar?<year>&<month>",
            "/sessions/calendar?year=2021&month=3".into(),
            EVERYONE_LOGGED_IN,
        ),
        get("/sessions/new?<date>", "/sessions/new".into(), EDITORS),
        post(
            "/sessions",
            "/sessions".into(),
            session_form.clone(),
            EDITORS,
        ),
        get(
            "/sessions/<id>",
            format!("/sessions/{s}"),
            EVERYONE_LOGGED_IN,
        ),
        get(
            "/sessions/<id>/edit",
            format!("/sessions/{s}/edit"),
            EDITORS,
        ),
        post(
            "/sessions/<id>",
            format!("/sessions/{s}"),
            session_form,
            EDITORS,
        ),
        get(
            "/sessions/<id>/cancel",
            format!("/sessions/{ss}/cancel"),
            EDITORS,
        ),
        post(
            "/sessions/<id>/cancel",
            format!("/sessions/{ss}/cancel"),
            vec![],
            EDITORS,
        ),
        get(
            "/sessions/<id>/invite?<village>&<q>&<picked>",
            format!("/sessions/{s}/invite"),
            EDITORS,
        ),
        post(
            "/sessions/<id>/invite",
            format!("/sessions/{s}/invite"),
            vec![("person_ids", p.to_string())],
            EDITORS,
        ),
        post(
            "/sessions/<id>/attendance",
            format!("/sessions/{s}/attendance"),
            vec![
                ("rows[0].person_id", p.to_string()),
                ("rows[0].status", "present".into()),
                ("rows[0].hours", String::new()),
            ],
            EDITORS,
        ),
        post(
            "/sessions/<id>/all-present",
            format!("/sessions/{s}/all-present"),
            vec![],
            EDITORS,
        ),
        post(
            "/sessions/<id>/walk-in",
            format!("/sessions/{s}/walk-in"),
            vec![
                ("person_id", p.to_string()),
                ("name", String::new()),
                ("phone", String::new()),
            ],
            EDITORS,
        ),
        post(
            "/sessions/<id>/checkin/reopen",
            format!("/sessions/{s}/checkin/reopen"),
            vec![],
            EDITORS,
        ),
        post(
            "/sessions/<id>/invitees/<person_id>/remove",
            format!("/sessions/{s}/invitees/{p}/remove"),
            vec![],
            EDITORS,
        ),
        get(
            "/sessions/<id>/signin.xlsx",
            format!("/sessions/{s}/signin.xlsx"),
            EVERYONE_LOGGED_IN,
        ),
        get(
            "/sessions/<id>/signin",
            format!("/sessions/{s}/signin"),
            EVERYONE_LOGGED_IN,
        ),
        get(
            "/sessions/requirements?<year>&<village>",
            "/sessions/requirements?year=2021".into(),
            EVERYONE_LOGGED_IN,
        ),
        get(
            "/sessions/requirements.xlsx?<year>&<village>",
            "/sessions/requirements.xlsx?year=2021".into(),
            EVERYONE_LOGGED_IN,
        ),
        get(
            "/checkin/<token>",
            format!("/checkin/{}", ids.checkin_token),
            ANYONE,
        ),
        post(
            "/checkin/<token>",
            format!("/checkin/{}", ids.checkin_token),
            vec![("name", "本村人员".into()), ("phone_last4", "0000".into())],
            ANYONE,
        ),
        get(
            "/sessions.ics?<token>",
            format!("/sessions.ics?token={}", ids.feed_token),
            ANYONE,
        ),
        post(
            "/sessions/feed-token",
            "/sessions/feed-token".into(),
            vec![],
            EVERYONE_LOGGED_IN,
        ),
        get(
            "/settings/requirements",
            "/settings/requirements".into(),
            ADMIN,
        ),
        post(
            "/settings/requirements",
            "/settings/requirements".into(),
            vec![
                ("category", "village_cadre".into()),
                ("session_kind", String::new()),
                ("min_sessions", "4".into()),
                ("min_hours", "8".into()),
            ],
            ADMIN,
        ),
        post(
            "/settings/requirements/<id>/delete",
            format!("/settings/requirements/{}/delete", ids.requirement),
            vec![],
            ADMIN,
        ),
    ];
    let (pending, batch) = (ids.pending, ids.batch);
    let import_rows: Vec<Row> = vec![
        get("/imports", "/imports".into(), EDITORS),
        post(
            "/imports",
            "/imports".into(),
            vec![("file", String::new())],
            EDITORS,
        ),
        get(
            "/imports/preview/<id>",
            format!("/imports/preview/{pending}"),
            EDITORS,
        ),
        get(
            "/imports/preview/<id>/rejected.xlsx",
            format!("/imports/preview/{pending}/rejected.xlsx"),
            EDITORS,
        ),
        get(
            "/imports/preview/<id>/issues.xlsx",
            format!("/imports/preview/{pending}/issues.xlsx"),
            EDITORS,
        ),
        post(
            "/imports/preview/<id>/commit",
            format!("/imports/preview/{pending}/commit"),
            vec![],
            EDITORS,
        ),
        get(
            "/imports/history",
            "/imports/history".into(),
            EVERYONE_LOGGED_IN,
        ),
        get(
            "/imports/batches/<id>",
            format!("/imports/batches/{batch}"),
            EVERYONE_LOGGED_IN,
        ),
        get(
            "/imports/batches/<id>/rejected.xlsx",
            format!("/imports/batches/{batch}/rejected.xlsx"),
            EVERYONE_LOGGED_IN,
        ),
        get(
            "/imports/batches/<id>/issues.xlsx",
            format!("/imports/batches/{batch}/issues.xlsx"),
            EVERYONE_LOGGED_IN,
        ),
        get(
            "/imports/batches/<id>/undo",
            format!("/imports/batches/{batch}/undo"),
            ADMIN,
        ),
        post(
            "/imports/batches/<id>/undo",
            format!("/imports/batches/{batch}/undo"),
            vec![],
            ADMIN,
        ),
        get(
            "/imports/templates/<file>",
            "/imports/templates/roster.xlsx".into(),
            EVERYONE_LOGGED_IN,
        ),
    ];
    let mut rows = vec![
        ("GET", "/login?<next>", "/login".into(), vec![], ANYONE),
        (
            "POST",
            "/login",
            "/login".into(),
            vec![
                ("username", "nobody".into()),
                ("password", "wrong-password".into()),
            ],
            ANYONE,
        ),
        (
            "GET",
            "/static/app.css",
            "/static/app.css".into(),
            vec![],
            ANYONE,
        ),
        (
            "GET",
            "/static/app.js",
            "/static/app.js".into(),
            vec![],
            ANYONE,
        ),
        ("GET", "/favicon.ico", "/favicon.ico".into(), vec![], ANYONE),
        (
            "GET",
            "/static/favicon.svg",
            "/static/favicon.svg".into(),
            vec![],
            ANYONE,
        ),
        ("GET", "/healthz", "/healthz".into(), vec![], ANYONE),
        (
            "GET",
            "/report.docx?<year>&<village>",
            "/report.docx?year=2021".into(),
            vec![],
            EVERYONE_LOGGED_IN,
        ),
        (
            "GET",
            "/self-study?<query..>",
            "/self-study?year=2021".into(),
            vec![],
            EVERYONE_LOGGED_IN,
        ),
        (
            "GET",
            "/self-study/new?<person>",
            format!("/self-study/new?person={}", ids.person),
            vec![],
            EDITORS,
        ),
        (
            "POST",
            "/self-study",
            "/self-study".into(),
            vec![
                ("person_id", ids.person.to_string()),
                ("studied_on", "2021-03-05".into()),
                ("content", "《民法典》第三编".into()),
                ("form", "reading".into()),
                ("hours", "2".into()),
                ("notes", String::new()),
            ],
            EDITORS,
        ),
        (
            "GET",
            "/self-study/<id>/delete",
            format!("/self-study/{}/delete", ids.self_study),
            vec![],
            EDITORS,
        ),
        (
            "POST",
            "/self-study/<id>/delete",
            format!("/self-study/{}/delete", ids.self_study),
            vec![],
            EDITORS,
        ),
        (
            "POST",
            "/settings/township",
            "/settings/township".into(),
            vec![("name", "龙凤场镇".into())],
            ADMIN,
        ),
        (
            "GET",
            "/settings/backup",
            "/settings/backup".into(),
            vec![],
            ADMIN,
        ),
        (
            "GET",
            "/?<year>&<village>",
            "/".into(),
            vec![],
            EVERYONE_LOGGED_IN,
        ),
        (
            "GET",
            "/export?<year>&<village>",
            "/export?year=2021".into(),
            vec![],
            EVERYONE_LOGGED_IN,
        ),
        (
            "GET",
            "/people?<query..>",
            "/people".into(),
            vec![],
            EVERYONE_LOGGED_IN,
        ),
        ("GET", "/people/new", "/people/new".into(), vec![], EDITORS),
        (
            "POST",
            "/people",
            "/people".into(),
            person_form("新人员"),
            EDITORS,
        ),
        (
            "GET",
            "/people/<id>?<year>",
            format!("/people/{p}"),
            vec![],
            EVERYONE_LOGGED_IN,
        ),
        (
            "GET",
            "/people/<id>/edit",
            format!("/people/{p}/edit"),
            vec![],
            EDITORS,
        ),
        (
            "POST",
            "/people/<id>",
            format!("/people/{p}"),
            person_form("改名人员"),
            EDITORS,
        ),
        (
            "POST",
            "/people/<id>/active",
            format!("/people/{p}/active"),
            vec![("active", "false".into())],
            EDITORS,
        ),
        (
            "GET",
            "/villages",
            "/villages".into(),
            vec![],
            EVERYONE_LOGGED_IN,
        ),
        (
            "GET",
            "/villages/new",
            "/villages/new".into(),
            vec![],
            ADMIN,
        ),
        (
            "POST",
            "/villages",
            "/villages".into(),
            village_form("新村"),
            ADMIN,
        ),
        (
            "GET",
            "/villages/<id>/edit",
            format!("/villages/{v}/edit"),
            vec![],
            ADMIN,
        ),
        (
            "POST",
            "/villages/<id>",
            format!("/villages/{v}"),
            village_form("改名村"),
            ADMIN,
        ),
        (
            "GET",
            "/villages/<id>/delete",
            format!("/villages/{ev}/delete"),
            vec![],
            ADMIN,
        ),
        (
            "POST",
            "/villages/<id>/delete",
            format!("/villages/{ev}/delete"),
            vec![],
            ADMIN,
        ),
        ("GET", "/users", "/users".into(), vec![], ADMIN),
        ("GET", "/users/new", "/users/new".into(), vec![], ADMIN),
        (
            "POST",
            "/users",
            "/users".into(),
            vec![
                ("username", "newuser".into()),
                ("display_name", "新用户".into()),
                ("role", "viewer".into()),
                ("village_id", String::new()),
                ("password", PASSWORD.into()),
            ],
            ADMIN,
        ),
        ("GET", "/users/<id>", format!("/users/{u}"), vec![], ADMIN),
        (
            "POST",
            "/users/<id>",
            format!("/users/{u}"),
            vec![
                ("display_name", "改名".into()),
                ("role", "viewer".into()),
                ("village_id", String::new()),
            ],
            ADMIN,
        ),
        (
            "POST",
            "/users/<id>/password",
            format!("/users/{u}/password"),
            vec![
                ("password", "another-pass".into()),
                ("password_confirm", "another-pass".into()),
            ],
            ADMIN,
        ),
        (
            "POST",
            "/users/<id>/sessions/end",
            format!("/users/{u}/sessions/end"),
            vec![],
            ADMIN,
        ),
        (
            "POST",
            "/users/<id>/active",
            format!("/users/{u}/active"),
            vec![("active", "false".into())],
            ADMIN,
        ),
        (
            "GET",
            "/account",
            "/account".into(),
            vec![],
            EVERYONE_LOGGED_IN,
        ),
        (
            "GET",
            "/audit?<user>&<village>&<action>&<from>&<to>&<page>",
            "/audit?action=login".into(),
            vec![],
            ADMIN,
        ),
        // A wrong current password: the page again with the message, nothing changed.
        (
            "POST",
            "/account/password",
            "/account/password".into(),
            vec![
                ("current", "not-the-password".into()),
                ("password", "another-pass".into()),
                ("password_confirm", "another-pass".into()),
            ],
            EVERYONE_LOGGED_IN,
        ),
        (
            "POST",
            "/account/sessions/end",
            "/account/sessions/end".into(),
            vec![],
            EVERYONE_LOGGED_IN,
        ),
        // The setup link is refused for everybody once it is used (tested in login.rs).
        (
            "GET",
            "/setup?<token>",
            "/setup?token=x".into(),
            vec![],
            &[],
        ),
        (
            "POST",
            "/setup",
            "/setup".into(),
            vec![
                ("token", "x".into()),
                ("username", "x".into()),
                ("display_name", String::new()),
                ("password", PASSWORD.into()),
                ("password_confirm", PASSWORD.into()),
            ],
            &[],
        ),
        ("POST", "/logout", "/logout".into(), vec![], ANYONE),
    ];
    rows.extend(ledger_rows);
    rows.extend(session_rows);
    rows.extend(import_rows);
    rows
}

async fn session_for(app: &TestApp, who: Who, village: i64) -> Session {
    let (name, role, village) = match who {
        Who::Anonymous => return app.anonymous().await,
        Who::Admin => ("m_admin", Role::Admin, None),
        Who::Organizer => ("m_organizer", Role::Organizer, None),
        Who::Clerk => ("m_clerk", Role::Clerk, Some(village)),
        Who::Viewer => ("m_viewer", Role::Viewer, None),
    };
    app.user(name, role, village).await;
    app.session(name).await
}

fn refused(who: Who, reply: &Reply) -> bool {
    match who {
        Who::Anonymous => {
            reply.status == Status::SeeOther
                && reply
                    .location
                    .as_deref()
                    .is_some_and(|l| l.starts_with("/login?next="))
        }
        _ => reply.status == Status::Forbidden,
    }
}

fn succeeded(reply: &Reply) -> bool {
    reply.status == Status::Ok
        || (reply.status == Status::SeeOther
            && !reply
                .location
                .as_deref()
                .unwrap_or("")
                .starts_with("/login?next="))
}

on_both_backends!(every_route_for_every_role);

async fn every_route_for_every_role(backend: Backend) {
    for who in [
        Who::Anonymous,
        Who::Admin,
        Who::Organizer,
        Who::Clerk,
        Who::Viewer,
    ] {
        let Some(app) = TestApp::spawn(backend, "every_route_for_every_role").await else {
            return;
        };
        // The setup link is spent: an admin exists.
        let first_admin = app.user("first_admin", Role::Admin, None).await;
        let village = app.village("龙凤村").await;
        let ids = Ids {
            village,
            empty_village: app.village("空村").await,
            person: app.person("本村人员", Some(village)).await,
            other_user: app.user("other_user", Role::Organizer, None).await,
            material: app.material("民法典手册").await,
            unused_material: app.material("未用资料").await,
            receipt: 0,
            distribution: 0,
            spare_distribution: 0,
            activity: 0,
            spare_activity: 0,
            session: 0,
            spare_session: 0,
            checkin_token: String::new(),
            feed_token: String::new(),
            requirement: 0,
            pending: 0,
            batch: 0,
            self_study: 0,
        };
        let ids = Ids {
            receipt: app.receipt(ids.material, 100).await,
            distribution: app
                .distribution(ids.material, Some(village), "2021-03-01", 10)
                .await,
            spare_distribution: app
                .distribution(ids.material, Some(village), "2021-03-02", 5)
                .await,
            activity: app.activity(Some(village), "2021-04-01", "宪法宣传").await,
            spare_activity: app.activity(Some(village), "2021-04-02", "禁毒宣传").await,
            ..ids
        };
        let session = app
            .study_session(Some(village), "2021-03-01", "09:00", "会前学法")
            .await;
        let checkin_token = pufa::services::attendance::checkin_link_token(
            &app.token_key(),
            &pufa::store::sessions::get(&app.db, session)
                .await
                .unwrap()
                .unwrap(),
        );
        let feed_token = pufa::random_token();
        let feed_user = app.user("feed_user", Role::Viewer, None).await;
        pufa::store::users::set_calendar_token(
            &app.db,
            feed_user,
            &pufa::services::passwords::token_hash(&feed_token),
        )
        .await
        .unwrap();
        pufa::store::attendance::save_requirement(
            &app.db,
            pufa::domain::Category::TownshipCadre,
            "",
            12,
            40.0,
            None,
        )
        .await
        .unwrap();
        let requirement = pufa::store::attendance::requirements(&app.db)
            .await
            .unwrap()[0]
            .id;
        let ids = Ids {
            session,
            spare_session: app
                .study_session(Some(village), "2021-03-08", "09:00", "会前学法")
                .await,
            checkin_token,
            feed_token,
            requirement,
            ..ids
        };
        let session = session_for(&app, who, village).await;
        // An upload waiting for preview belongs to whoever uploaded it: here, this role.
        let uploader = match who {
            Who::Anonymous => first_admin,
            _ => {
                let name = format!("m_{}", format!("{who:?}").to_lowercase());
                pufa::store::users::find_by_username(&app.db, &name)
                    .await
                    .unwrap()
                    .unwrap()
                    .id
            }
        };
        let csv = "发放日期,资料名称,数量\n2021-03-05,民法典手册,10\n".as_bytes();
        let pending = pufa::store::imports::save_pending(
            &app.db,
            uploader,
            "发放.csv",
            None,
            Some(village),
            csv,
        )
        .await
        .unwrap();
        let admin = pufa::store::users::get(&app.db, first_admin)
            .await
            .unwrap()
            .unwrap();
        let upload = pufa::services::imports::Upload {
            file_name: "已导入.csv",
            // One row left out, so that the batch has rejected rows to download.
            bytes: "发放日期,资料名称,数量\n2021-03-06,宪法读本,5\n2021-03-07,宪法读本,很多\n"
                .as_bytes(),
            kind: None,
            village_id: Some(village),
        };
        let (batch, _) = pufa::services::imports::commit(
            &app.db,
            &pufa::services::Actor::from_user(&admin).unwrap(),
            &upload,
            true,
        )
        .await
        .unwrap();
        let self_study = pufa::services::self_study::create_self_study(
            &app.db,
            &pufa::services::Actor::operator(),
            &pufa::domain::self_study::SelfStudyInput {
                person_id: ids.person.to_string(),
                studied_on: "2021-03-01".into(),
                content: "《宪法》".into(),
                form: "video".into(),
                hours: "1.5".into(),
                notes: String::new(),
            },
        )
        .await
        .unwrap();
        let ids = Ids {
            pending,
            batch,
            self_study,
            ..ids
        };
        let table = matrix(&ids);

        // Every mounted route must be in the table.
        let mounted: BTreeSet<(String, String)> = app
            .client()
            .await
            .rocket()
            .routes()
            .map(|r| (r.method.as_str().to_string(), r.uri.to_string()))
            .collect();
        let listed: BTreeSet<(String, String)> = table
            .iter()
            .map(|(m, r, ..)| (m.to_string(), r.to_string()))
            .collect();
        assert_eq!(
            mounted, listed,
            "routes missing from (or stale in) the authorization matrix"
        );

        for (method, _, path, fields, allowed) in &table {
            if *path == "/logout" || *path == "/account/sessions/end" {
                continue; // they end the session: /logout runs last, the other in login.rs
            }
            let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let reply = if *method == "GET" {
                session.get(path).await
            } else {
                session.post(path, &fields).await
            };
            if allowed.contains(&who) {
                assert!(
                    succeeded(&reply),
                    "{who:?} {method} {path} should be allowed, got {} {:?}: {}",
                    reply.status,
                    reply.location,
                    reply.body
                );
            } else if path.starts_with("/setup") {
                assert_eq!(
                    reply.status,
                    Status::Conflict,
                    "{who:?} {method} {path}: spent setup link"
                );
            } else {
                assert!(
                    refused(who, &reply),
                    "{who:?} {method} {path} should be refused, got {} {:?}",
                    reply.status,
                    reply.location
                );
            }
        }
        let logout = session.post("/logout", &[]).await;
        assert_eq!(logout.location.as_deref(), Some("/login"));
        assert_eq!(
            session.get("/").await.status,
            Status::SeeOther,
            "{who:?} is logged out"
        );
    }
}
