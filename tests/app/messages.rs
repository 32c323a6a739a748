//! What the import pages and refusals tell a clerk: a file without one correct row offers
//! no import; an undo refused for later edits names the records as their pages show them.

use rocket::http::Status;

use pufa::domain::session::{AttendanceSource, AttendanceStatus};
use pufa::domain::Role;
use pufa::services::imports;
use pufa::store;

use crate::helpers::{on_both_backends, with_pool, Backend, TestApp};
use crate::imports::{admin, upload, upload_through_web, xlsx, C};

on_both_backends!(
    a_file_whose_every_row_is_wrong_offers_no_import,
    an_undo_refused_for_an_edited_mark_names_whose_mark_at_which_session,
);

async fn a_file_whose_every_row_is_wrong_offers_no_import(backend: Backend) {
    let Some(app) = TestApp::spawn(backend, "nothing_to_import").await else {
        return;
    };
    let village = app.village("龙凤村").await;
    app.material("民法典手册").await;
    app.user("clerk", Role::Clerk, Some(village)).await;
    let clerk = app.session("clerk").await;
    let rows = vec![
        vec![C::T("发放日期"), C::T("资料名称"), C::T("数量")],
        vec![C::T("2021-13-05"), C::T("民法典手册"), C::N(100.0)],
        vec![C::T("2021-03-05"), C::T("民法典手册"), C::T("约50")],
    ];
    let location = upload_through_web(&clerk, "全错.xlsx", &xlsx("三月", &rows, &[])).await;
    let page = clerk.get(&location).await;
    assert_eq!(page.status, Status::Ok);
    assert!(
        page.body.contains("全部 2 行都有错误，没有可以导入的数据"),
        "{}",
        page.body
    );
    assert!(!page.body.contains("确认导入"), "{}", page.body);
    assert!(!page.body.contains("只导入正确的行"), "{}", page.body);
    // A forged form asking for "only the correct rows" records nothing either.
    let reply = clerk
        .post(&format!("{location}/commit"), &[("allow_partial", "true")])
        .await;
    assert_eq!(reply.location.as_deref(), Some(location.as_str()));
    let page = clerk.get(&location).await;
    assert!(page.body.contains("未导入任何数据"), "{}", page.body);
    let batches: i64 = with_pool!(&app.db, |pool| sqlx::query_scalar(
        "SELECT COUNT(*) FROM import_batches"
    )
    .fetch_one(pool)
    .await
    .unwrap());
    assert_eq!(batches, 0);
}

async fn an_undo_refused_for_an_edited_mark_names_whose_mark_at_which_session(backend: Backend) {
    let Some(app) = TestApp::spawn(backend, "undo_names_rows").await else {
        return;
    };
    app.village("龙凤村").await;
    let actor = admin(&app).await;
    let rows = vec![
        vec![
            C::T("日期"),
            C::T("学习内容"),
            C::T("姓名"),
            C::T("村(社区)"),
            C::T("签到情况"),
        ],
        vec![
            C::T("2021-03-01"),
            C::T("学习宪法"),
            C::T("张三"),
            C::T("龙凤村"),
            C::T("√"),
        ],
    ];
    let bytes = xlsx("签到", &rows, &[]);
    let (batch, _) = imports::commit(&app.db, &actor, &upload("签到.xlsx", &bytes), false)
        .await
        .unwrap();
    let session: i64 = with_pool!(&app.db, |pool| sqlx::query_scalar(
        "SELECT id FROM sessions WHERE topic = '学习宪法'"
    )
    .fetch_one(pool)
    .await
    .unwrap());
    let zhang: i64 = with_pool!(&app.db, |pool| sqlx::query_scalar(
        "SELECT id FROM people WHERE name = '张三'"
    )
    .fetch_one(pool)
    .await
    .unwrap());
    // An organizer corrects the imported mark by hand: 张三 had asked for leave.
    let mark = store::attendance::Mark {
        person_id: zhang,
        status: AttendanceStatus::Excused,
        hours_credited: 0.0,
    };
    store::attendance::save_marks(&app.db, session, &[mark], AttendanceSource::Manual, None)
        .await
        .unwrap();
    let today = chrono::Local::now().date_naive();
    let refused = imports::undo(&app.db, &actor, batch, today)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        refused.contains("考勤记录“张三（2021-03-01 学习宪法）”"),
        "{refused}"
    );
    assert!(!refused.contains('#'), "{refused}");
}
