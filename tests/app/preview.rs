//! What the preview offers: a file without one correct row cannot be imported.

use rocket::http::Status;

use pufa::domain::Role;

use crate::helpers::{on_both_backends, with_pool, Backend, TestApp};
use crate::imports::{upload_through_web, xlsx, C};

on_both_backends!(a_file_whose_every_row_is_wrong_offers_no_import);

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
