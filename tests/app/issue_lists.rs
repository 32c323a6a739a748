//! The preview and batch pages list the first 200 errors and notes of an import, with the
//! count of each and the whole list as a download: a sheet that registers thousands of new
//! people has a note for each, and the page stays small enough for a phone (a long list of
//! notes starts folded).

use std::io::Cursor;

use calamine::{Data, Reader, Xlsx};
use pufa::domain::Role;
use rocket::http::Status;

use crate::helpers::{on_both_backends, Backend, Session, TestApp};
use crate::imports::{upload_through_web, xlsx, C};

on_both_backends!(a_long_list_of_issues_is_cut_on_the_page_and_whole_in_the_download,);

/// The kinds (错误/提示) of the lines of a downloaded 问题和提示 workbook, after checking
/// its header.
async fn downloaded_kinds(session: &Session, path: &str) -> Vec<String> {
    let (status, _, bytes) = session.get_bytes(path).await;
    assert_eq!(status, Status::Ok, "{path}");
    let mut book = Xlsx::new(Cursor::new(bytes)).expect("an xlsx");
    let range = book.worksheet_range("问题和提示").expect("the sheet");
    assert_eq!(range.get_value((0, 6)), Some(&Data::String("说明".into())));
    range.rows().skip(1).map(|row| row[0].to_string()).collect()
}

async fn a_long_list_of_issues_is_cut_on_the_page_and_whole_in_the_download(backend: Backend) {
    let Some(app) = TestApp::spawn(backend, "issue_lists").await else {
        return;
    };
    let village = app.village("龙凤村").await;
    app.user("clerk", Role::Clerk, Some(village)).await;
    let clerk = app.session("clerk").await;
    // 250 attendees nobody has registered (a note each) and 210 rows with no such date.
    let mut rows = vec![vec![C::T("日期"), C::T("学习内容"), C::T("姓名")]];
    for i in 0..250 {
        rows.push(vec![
            C::T("2021-03-05"),
            C::T("宪法学习"),
            C::S(format!("人员{i}")),
        ]);
    }
    for i in 0..210 {
        rows.push(vec![
            C::T("2021-13-05"),
            C::T("宪法学习"),
            C::S(format!("错行{i}")),
        ]);
    }
    let file = xlsx("签到", &rows, &[]);
    let location = upload_through_web(&clerk, "签到.xlsx", &file).await;
    let page = clerk.get(&location).await;
    assert_eq!(page.status, Status::Ok);
    let body = &page.body;
    assert!(
        body.contains("错误（210）") && body.contains("提示（250）"),
        "{body}"
    );
    assert_eq!(body.matches("不是有效日期").count(), 200);
    assert_eq!(body.matches("导入时新建该人员").count(), 200);
    assert!(body.contains("这里只列出前 200 条，共 250 条"), "{body}");
    // So many notes start folded: 确认导入 is not hundreds of cards down on a phone.
    assert!(body.contains(r#"<details class="card issues">"#), "{body}");
    let download = format!("{location}/issues.xlsx");
    assert!(body.contains(&format!("href=\"{download}\"")), "{body}");
    let kinds = downloaded_kinds(&clerk, &download).await;
    assert_eq!(kinds.iter().filter(|k| *k == "错误").count(), 210);
    assert_eq!(kinds.iter().filter(|k| *k == "提示").count(), 250);
    assert_eq!(kinds.len(), 460);

    // The batch page after the import cuts its lists the same way.
    let reply = clerk
        .post(&format!("{location}/commit"), &[("allow_partial", "true")])
        .await;
    let batch = reply.location.expect("the batch page");
    assert!(batch.starts_with("/imports/batches/"), "{batch}");
    let page = clerk.get(&batch).await;
    let body = &page.body;
    assert!(body.contains("提示（250）"), "{body}");
    assert!(body.contains(r#"<details class="card issues">"#), "{body}");
    assert_eq!(body.matches("不是有效日期").count(), 200);
    assert_eq!(body.matches("导入时新建该人员").count(), 200);
    let download = format!("{batch}/issues.xlsx");
    assert!(body.contains(&format!("href=\"{download}\"")), "{body}");
    assert_eq!(downloaded_kinds(&clerk, &download).await.len(), 460);
    // Another village's clerk gets neither list.
    let other = app.village("凤凰村").await;
    app.user("other", Role::Clerk, Some(other)).await;
    let other = app.session("other").await;
    let (status, _, _) = other.get_bytes(&download).await;
    assert_ne!(status, Status::Ok);
    let (status, _, _) = other.get_bytes(&format!("{location}/issues.xlsx")).await;
    assert_ne!(status, Status::Ok);
}
