//! A waiting upload is planned once: its preview, a reload and the commit share the plan
//! while nothing has changed, and a change made in between is planned against.

use std::sync::Arc;

use chrono::Local;
use pufa::services::imports::{self, batches, Preview};
use pufa::services::Actor;
use pufa::store;

use crate::helpers::{on_both_backends, Backend, TestApp};
use crate::imports::{admin, upload, xlsx, C};
use crate::intake::people_named;

on_both_backends!(
    a_previewed_upload_is_committed_with_its_plan,
    a_change_after_the_preview_is_planned_against,
    a_refused_commit_keeps_its_plan,
    an_undone_batch_no_longer_blocks_its_file,
    a_replaced_upload_is_not_shown_the_old_plan,
);

fn roster(names: &[&str]) -> Vec<u8> {
    roster_in("名单", names)
}

/// A roster whose sheet is `sheet`: under another name it is another file (another hash)
/// with the same rows.
fn roster_in(sheet: &str, names: &[&str]) -> Vec<u8> {
    let mut rows = vec![vec![
        C::T("姓名"),
        C::T("村(社区)"),
        C::T("联系电话"),
        C::T("身份类别"),
    ]];
    for name in names {
        // Each name keeps its number in every file.
        let number = name.chars().map(u32::from).sum::<u32>() % 10_000;
        rows.push(vec![
            C::S(name.to_string()),
            C::T("龙凤村"),
            C::S(format!("1390000{number:04}")),
            C::T("群众"),
        ]);
    }
    xlsx(sheet, &rows, &[])
}

/// The waiting upload, saved as the web saves it.
async fn saved(app: &TestApp, actor: &Actor, name: &str, bytes: &[u8]) -> i64 {
    batches::save_upload(&app.db, actor, name, None, None, bytes)
        .await
        .unwrap()
}

/// What the preview page shows for the waiting upload.
async fn planned(app: &TestApp, actor: &Actor, pending: i64) -> Arc<Preview> {
    let (_, preview) = batches::preview_pending(&app.db, actor, pending)
        .await
        .unwrap();
    preview.unwrap()
}

async fn a_previewed_upload_is_committed_with_its_plan(backend: Backend) {
    let Some(app) = TestApp::spawn(backend, "kept_plan").await else {
        return;
    };
    app.village("龙凤村").await;
    let actor = admin(&app).await;
    let file = roster(&["甲一", "甲二", "甲三"]);
    let pending = saved(&app, &actor, "名单.xlsx", &file).await;
    let first = planned(&app, &actor, pending).await;
    assert_eq!(first.created, 3);
    let reload = planned(&app, &actor, pending).await;
    assert!(
        Arc::ptr_eq(&first, &reload),
        "a reload shows the plan already made"
    );
    let (_, committed) = batches::commit_pending(&app.db, &actor, pending, false)
        .await
        .unwrap();
    assert!(
        Arc::ptr_eq(&first, &committed),
        "the commit writes the plan the preview showed"
    );
    assert_eq!(people_named(&app, "甲").await, 3);
}

async fn a_change_after_the_preview_is_planned_against(backend: Backend) {
    let Some(app) = TestApp::spawn(backend, "stale_plan").await else {
        return;
    };
    app.village("龙凤村").await;
    let actor = admin(&app).await;
    let file = roster(&["乙一", "乙二"]);
    let pending = saved(&app, &actor, "名单.xlsx", &file).await;
    let first = planned(&app, &actor, pending).await;
    assert_eq!(first.created, 2);
    // Meanwhile the same people arrive in another file (same rows, another sheet name).
    let other = roster_in("另一份", &["乙一", "乙二"]);
    imports::commit(&app.db, &actor, &upload("另一份.xlsx", &other), false)
        .await
        .unwrap();
    assert_eq!(people_named(&app, "乙").await, 2);
    let reload = planned(&app, &actor, pending).await;
    assert!(!Arc::ptr_eq(&first, &reload), "the plan is made again");
    assert_eq!((reload.created, reload.unchanged), (0, 2));
    let (_, committed) = batches::commit_pending(&app.db, &actor, pending, false)
        .await
        .unwrap();
    assert!(Arc::ptr_eq(&reload, &committed));
    assert_eq!(committed.created, 0);
    assert_eq!(people_named(&app, "乙").await, 2, "nobody twice");

    // A change between the preview and the commit, with no reload in between.
    let file = roster_in("第三份", &["乙一", "乙二", "乙三"]);
    let pending = saved(&app, &actor, "名单3.xlsx", &file).await;
    let shown = planned(&app, &actor, pending).await;
    assert_eq!(shown.created, 1);
    let fourth = roster_in("第四份", &["乙三"]);
    imports::commit(&app.db, &actor, &upload("第四份.xlsx", &fourth), false)
        .await
        .unwrap();
    let (_, committed) = batches::commit_pending(&app.db, &actor, pending, false)
        .await
        .unwrap();
    assert!(
        !Arc::ptr_eq(&shown, &committed),
        "planned again in the commit"
    );
    assert_eq!(committed.created, 0);
    assert_eq!(people_named(&app, "乙").await, 3, "nobody twice");
}

async fn a_refused_commit_keeps_its_plan(backend: Backend) {
    let Some(app) = TestApp::spawn(backend, "refused_keeps_plan").await else {
        return;
    };
    app.village("龙凤村").await;
    let actor = admin(&app).await;
    // Two good rows and one without a name.
    let rows = vec![
        vec![
            C::T("姓名"),
            C::T("村(社区)"),
            C::T("联系电话"),
            C::T("身份类别"),
        ],
        vec![
            C::T("丙一"),
            C::T("龙凤村"),
            C::T("13900001001"),
            C::T("群众"),
        ],
        vec![
            C::T("丙二"),
            C::T("龙凤村"),
            C::T("13900001002"),
            C::T("群众"),
        ],
        vec![C::T(""), C::T("龙凤村"), C::T("13900001003"), C::T("群众")],
    ];
    let file = xlsx("名单", &rows, &[]);
    let pending = saved(&app, &actor, "名单.xlsx", &file).await;
    let shown = planned(&app, &actor, pending).await;
    assert_eq!((shown.created, shown.rejected), (2, 1));
    let refused = batches::commit_pending(&app.db, &actor, pending, false).await;
    assert!(
        refused
            .as_ref()
            .is_err_and(|e| e.to_string().contains("只导入正确的行")),
        "{refused:?}"
    );
    let back = planned(&app, &actor, pending).await;
    assert!(
        Arc::ptr_eq(&shown, &back),
        "the preview the refusal returns to is not planned again"
    );
    let (_, committed) = batches::commit_pending(&app.db, &actor, pending, true)
        .await
        .unwrap();
    assert!(Arc::ptr_eq(&shown, &committed));
    assert_eq!(people_named(&app, "丙").await, 2);
}

async fn an_undone_batch_no_longer_blocks_its_file(backend: Backend) {
    let Some(app) = TestApp::spawn(backend, "undone_twin").await else {
        return;
    };
    app.village("龙凤村").await;
    let actor = admin(&app).await;
    imports::commit(
        &app.db,
        &actor,
        &upload("名单.xlsx", &roster(&["丁一"])),
        false,
    )
    .await
    .unwrap();
    // The same rows in another file: a batch that changes nothing, so undoing it changes
    // no record either (only the batch).
    let same = roster_in("再报", &["丁一"]);
    let (unchanged, p) = imports::commit(&app.db, &actor, &upload("再报.xlsx", &same), false)
        .await
        .unwrap();
    assert_eq!((p.created, p.updated, p.unchanged), (0, 0, 1));
    let pending = saved(&app, &actor, "再报.xlsx", &same).await;
    let shown = planned(&app, &actor, pending).await;
    assert_eq!(shown.already_imported.map(|(id, _)| id), Some(unchanged));
    imports::undo(&app.db, &actor, unchanged, Local::now().date_naive())
        .await
        .unwrap();
    let again = planned(&app, &actor, pending).await;
    assert_eq!(
        again.already_imported, None,
        "the undone batch no longer counts"
    );
    batches::commit_pending(&app.db, &actor, pending, false)
        .await
        .unwrap();
}

async fn a_replaced_upload_is_not_shown_the_old_plan(backend: Backend) {
    let Some(app) = TestApp::spawn(backend, "replaced_upload").await else {
        return;
    };
    app.village("龙凤村").await;
    let actor = admin(&app).await;
    let first = roster(&["戊一"]);
    let pending = saved(&app, &actor, "名单.xlsx", &first).await;
    let shown = planned(&app, &actor, pending).await;
    assert_eq!(shown.created, 1);
    store::imports::delete_pending(&app.db, pending)
        .await
        .unwrap();
    // The next upload (SQLite may give it the same id) under the same name.
    let second = roster(&["戊一", "戊二", "戊三"]);
    let next = saved(&app, &actor, "名单.xlsx", &second).await;
    let shown = planned(&app, &actor, next).await;
    assert_eq!(shown.created, 3, "the new file's plan, not the old one's");
}
