//! Self-study (自学) and the annual report document: records by form and by import, the
//! figures they add to the summary, and the .docx read back and rendered.

use std::io::Read;
use std::process::Command;

use chrono::NaiveDate;
use pufa::domain::import::ImportKind;
use pufa::domain::self_study::SelfStudyInput;
use pufa::domain::{Category, Role};
use pufa::services::imports::{self, Upload};
use pufa::services::summary::annual_summary;
use pufa::services::{self_study, Actor};
use rocket::http::Status;

use crate::helpers::{on_both_backends, say, Backend, TestApp};
use crate::imports::admin;

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 28).unwrap()
}

fn register(rows: &[&str]) -> String {
    let mut text =
        String::from("龙凤村2021年干部自学登记表\n日期,姓名,村(社区),学习内容,学习形式,学时\n");
    for row in rows {
        text.push_str(row);
        text.push('\n');
    }
    text
}

fn csv_upload<'a>(name: &'a str, text: &'a str) -> Upload<'a> {
    Upload {
        file_name: name,
        bytes: text.as_bytes(),
        kind: None,
        village_id: None,
    }
}

on_both_backends!(
    self_study_register_imports_updates_and_undoes,
    self_study_form_keeps_clerks_to_their_village,
    self_study_requirement_counts_self_study_only,
    report_document_on_the_web_is_the_actors_report,
);

async fn self_study_register_imports_updates_and_undoes(backend: Backend) {
    let Some(app) = TestApp::spawn(backend, "self_study_import").await else {
        return;
    };
    let village = app.village("龙凤村").await;
    app.person("张三", Some(village)).await;
    app.person("李四", Some(village)).await;
    let actor = admin(&app).await;
    let file = register(&[
        "2021-03-05,张三,龙凤村,《民法典》第三编,读书,2",
        "2021-04-10,张三,龙凤村,《宪法》,学习强国,1.5学时",
        "2021-05-01,李四,龙凤村,《信访工作条例》,观看视频,1",
        "2021-05-02,王五,龙凤村,《土地管理法》,读书,1",
        "2021-05-03,李四,龙凤村,《安全生产法》,读书,",
    ]);
    let preview = imports::preview(&app.db, &actor, &csv_upload("自学.csv", &file))
        .await
        .unwrap();
    assert_eq!(preview.kind, ImportKind::SelfStudy, "told by its title");
    // The blank template comes back as a register too (by its sheet's name).
    let template = pufa::sheets::import_files::template(ImportKind::SelfStudy, &[]).unwrap();
    let blank = imports::preview(
        &app.db,
        &actor,
        &crate::imports::upload("模板.xlsx", &template),
    )
    .await
    .unwrap();
    assert_eq!(blank.kind, ImportKind::SelfStudy);
    assert_eq!((preview.created, preview.rejected), (3, 2));
    let messages: Vec<String> = preview.errors.iter().map(|e| e.describe()).collect();
    assert!(
        messages.iter().any(|m| m.contains("名册中没有“王五”")),
        "{messages:?}"
    );
    assert!(
        messages.iter().any(|m| m.contains("请填写学时")),
        "{messages:?}"
    );
    // Nothing is written by a preview, nor by a commit with rejected rows.
    assert!(
        imports::commit(&app.db, &actor, &csv_upload("自学.csv", &file), false)
            .await
            .is_err()
    );
    let s = annual_summary(&app.db, &actor, 2021, None, today())
        .await
        .unwrap();
    assert_eq!(s.self_study_records, 0);

    let (batch, _) = imports::commit(&app.db, &actor, &csv_upload("自学.csv", &file), true)
        .await
        .unwrap();
    let s = annual_summary(&app.db, &actor, 2021, None, today())
        .await
        .unwrap();
    assert_eq!(
        (
            s.self_study_records,
            s.self_study_hours,
            s.self_study_people
        ),
        (3, 4.5, 2)
    );
    let village_line = &s.village_lines[0];
    assert_eq!(village_line.self_study_hours, 4.5);

    // The corrected file: one row's hours change, nothing is duplicated.
    let corrected = register(&[
        "2021-03-05,张三,龙凤村,《民法典》第三编,读书,3",
        "2021-04-10,张三,龙凤村,《宪法》,学习强国,1.5学时",
        "2021-05-01,李四,龙凤村,《信访工作条例》,观看视频,1",
    ]);
    let (second, p) = imports::commit(
        &app.db,
        &actor,
        &csv_upload("自学（改）.csv", &corrected),
        false,
    )
    .await
    .unwrap();
    assert_eq!((p.created, p.updated, p.unchanged), (0, 1, 2));
    let s = annual_summary(&app.db, &actor, 2021, None, today())
        .await
        .unwrap();
    assert_eq!((s.self_study_records, s.self_study_hours), (3, 5.5));

    // Undo the correction: the old hours come back; undo the first: nothing is left.
    imports::undo(&app.db, &actor, second, today())
        .await
        .unwrap();
    let s = annual_summary(&app.db, &actor, 2021, None, today())
        .await
        .unwrap();
    assert_eq!((s.self_study_records, s.self_study_hours), (3, 4.5));
    imports::undo(&app.db, &actor, batch, today())
        .await
        .unwrap();
    let s = annual_summary(&app.db, &actor, 2021, None, today())
        .await
        .unwrap();
    assert_eq!((s.self_study_records, s.self_study_people), (0, 0));
}

async fn self_study_form_keeps_clerks_to_their_village(backend: Backend) {
    let Some(app) = TestApp::spawn(backend, "self_study_form").await else {
        return;
    };
    let own = app.village("龙凤村").await;
    let other = app.village("石桥村").await;
    let mine = app.person("张三", Some(own)).await;
    let theirs = app.person("李四", Some(other)).await;
    app.user("clerk", Role::Clerk, Some(own)).await;
    let clerk = app.session("clerk").await;
    let form = |person: i64, hours: &'static str| {
        vec![
            ("person_id", person.to_string()),
            ("studied_on", "2021-06-01".to_string()),
            ("content", "《民法典》婚姻家庭编".to_string()),
            ("form", "online".to_string()),
            ("hours", hours.to_string()),
            ("notes", String::new()),
        ]
    };
    let post = |f: Vec<(&'static str, String)>| {
        let clerk = &clerk;
        async move {
            let borrowed: Vec<(&str, &str)> = f.iter().map(|(k, v)| (*k, v.as_str())).collect();
            clerk.post("/self-study", &borrowed).await
        }
    };
    // Another village's person: refused as if unknown, nothing stored.
    let reply = post(form(theirs, "2")).await;
    assert_eq!(reply.status, Status::Ok);
    assert!(reply.body.contains("所选人员不存在"), "{}", reply.body);
    // Hours that are not hours: the form comes back with the message and the typed values.
    let reply = post(form(mine, "两小时")).await;
    assert_eq!(reply.status, Status::Ok);
    assert!(reply.body.contains("学时："), "{}", reply.body);
    assert!(reply.body.contains("《民法典》婚姻家庭编"));
    let s = annual_summary(&app.db, &Actor::operator(), 2021, None, today())
        .await
        .unwrap();
    assert_eq!(s.self_study_records, 0, "refused forms store nothing");
    // Their own village's person: stored, shown on the person page and the list.
    let reply = post(form(mine, "1.5")).await;
    assert_eq!(reply.status, Status::SeeOther, "{}", reply.body);
    assert_eq!(
        reply.location.as_deref(),
        Some(format!("/people/{mine}?year=2021#self-study").as_str()),
        "the person page opens on the record's year"
    );
    let page = clerk.get(&format!("/people/{mine}?year=2021")).await;
    assert!(
        page.body.contains("自学学时 <strong>1.5</strong>"),
        "{}",
        page.body
    );
    let list = clerk.get("/self-study?year=2021").await;
    assert!(list.body.contains("张三") && list.body.contains("婚姻家庭编"));
    // The other village's record is invisible to the clerk and cannot be deleted by them.
    let input = SelfStudyInput {
        person_id: theirs.to_string(),
        studied_on: "2021-06-02".into(),
        content: "《宪法》".into(),
        form: "reading".into(),
        hours: "2".into(),
        notes: String::new(),
    };
    let record = self_study::create_self_study(&app.db, &Actor::operator(), &input)
        .await
        .unwrap();
    let list = clerk.get("/self-study?year=2021").await;
    assert!(!list.body.contains("李四"));
    let refused = clerk
        .post(&format!("/self-study/{record}/delete"), &[])
        .await;
    assert_eq!(refused.status, Status::NotFound);
    let s = annual_summary(&app.db, &Actor::operator(), 2021, None, today())
        .await
        .unwrap();
    assert_eq!((s.self_study_records, s.self_study_hours), (2, 3.5));
}

async fn self_study_requirement_counts_self_study_only(backend: Backend) {
    let Some(app) = TestApp::spawn(backend, "self_study_requirement").await else {
        return;
    };
    let actor = admin(&app).await;
    let input = pufa::domain::person::PersonInput {
        name: "镇干部甲".into(),
        categories: vec![("township_cadre".into(), String::new(), String::new())],
        ..Default::default()
    };
    let cadre = pufa::services::people::create_person(&app.db, &actor, &input)
        .await
        .unwrap();
    pufa::store::attendance::save_requirement(
        &app.db,
        Category::TownshipCadre,
        pufa::domain::self_study::SELF_STUDY_REQUIREMENT,
        0,
        3.0,
        None,
    )
    .await
    .unwrap();
    let below = |s: &pufa::services::summary::AnnualSummary| s.people_below_requirement;
    let s = annual_summary(&app.db, &actor, 2021, None, today())
        .await
        .unwrap();
    assert_eq!(below(&s), 1, "no self-study yet");
    // A session's hours do not count as self-study.
    let session = app
        .study_session(None, "2021-03-01", "09:00", "会前学法")
        .await;
    pufa::store::sessions::get(&app.db, session).await.unwrap();
    let study = |date: &str, hours: &str| SelfStudyInput {
        person_id: cadre.to_string(),
        studied_on: date.into(),
        content: "《行政处罚法》".into(),
        form: "reading".into(),
        hours: hours.into(),
        notes: String::new(),
    };
    self_study::create_self_study(&app.db, &actor, &study("2021-04-01", "2"))
        .await
        .unwrap();
    // Self-study of another year does not count either.
    self_study::create_self_study(&app.db, &actor, &study("2020-12-31", "5"))
        .await
        .unwrap();
    let s = annual_summary(&app.db, &actor, 2021, None, today())
        .await
        .unwrap();
    assert_eq!(below(&s), 1, "2 of 3 hours");
    self_study::create_self_study(&app.db, &actor, &study("2021-12-31", "1"))
        .await
        .unwrap();
    let s = annual_summary(&app.db, &actor, 2021, None, today())
        .await
        .unwrap();
    assert_eq!(below(&s), 0, "3 of 3 hours");
    assert_eq!((s.self_study_hours, s.self_study_people), (3.0, 1));
}

async fn report_document_on_the_web_is_the_actors_report(backend: Backend) {
    let Some(app) = TestApp::spawn(backend, "report_web").await else {
        return;
    };
    let own = app.village("龙凤村").await;
    app.village("石桥村").await;
    app.activity(Some(own), "2021-04-01", "宪法宣传").await;
    app.user("viewer", Role::Viewer, None).await;
    app.user("clerk", Role::Clerk, Some(own)).await;
    app.user("boss", Role::Admin, None).await;
    let admin = app.session("boss").await;
    let named = admin
        .post("/settings/township", &[("name", "龙凤场镇")])
        .await;
    assert_eq!(named.status, Status::SeeOther);
    let viewer = app.session("viewer").await;
    let (status, content_type, bytes) = viewer.get_bytes("/report.docx?year=2021").await;
    assert_eq!(status, Status::Ok);
    assert!(content_type
        .unwrap_or_default()
        .contains("wordprocessingml"));
    let text = document_text(&bytes);
    assert!(text.contains("龙凤场镇2021年度"), "{text}");
    assert!(text.contains("法治政府建设工作情况报告"));
    assert!(text.contains("石桥村"), "the appendix lists every village");
    // A clerk's report is their village's, whatever the address asks for.
    let clerk = app.session("clerk").await;
    let (status, _, bytes) = clerk.get_bytes("/report.docx?year=2021&village=999").await;
    assert_eq!(status, Status::Ok);
    let text = document_text(&bytes);
    assert!(text.contains("龙凤场镇龙凤村2021年度"), "{text}");
    assert!(!text.contains("石桥村"), "{text}");
    let page = viewer.get("/?year=2021").await;
    assert!(page.body.contains("下载年度报告（草稿）"));
}

/// The text of word/document.xml, tags removed (paragraphs end with a newline).
fn document_text(docx: &[u8]) -> String {
    let xml = part(docx, "word/document.xml");
    let mut text = String::new();
    let mut rest = xml.as_str();
    while let Some(start) = rest.find('<') {
        text.push_str(&unescape(&rest[..start]));
        let end = rest[start..]
            .find('>')
            .map_or(rest.len(), |e| start + e + 1);
        let tag = &rest[start..end];
        if tag.starts_with("</w:p>") {
            text.push('\n');
        }
        rest = &rest[end..];
    }
    text
}

fn unescape(text: &str) -> String {
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}

fn part(docx: &[u8], name: &str) -> String {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(docx)).expect("a zip");
    let mut file = archive.by_name(name).expect("part present");
    let mut xml = String::new();
    file.read_to_string(&mut xml).expect("utf-8 xml");
    xml
}

fn pufa(url: &str, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_pufa"))
        .args(["--database-url", url])
        .args(args)
        .env_remove("DATABASE_URL")
        .output()
        .expect("run pufa")
}

/// The demo year through the binary: `pufa report` writes a document whose figures and
/// appendix totals are those of `pufa summary --json`, laid out as an official document.
#[test]
fn report_figures_and_appendix_equal_the_summary() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("demo.db").display());
    let demo_dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("imports/demo");
    let demo = pufa(&url, &["demo", "--dir", &demo_dir.to_string_lossy()]);
    assert!(
        demo.status.success(),
        "{}",
        String::from_utf8_lossy(&demo.stderr)
    );
    let out = pufa(&url, &["summary", "--year", "2021", "--json"]);
    let s: serde_json::Value = serde_json::from_slice(&out.stdout).expect("summary JSON");
    let file = dir.path().join("报告.docx");
    let written = pufa(
        &url,
        &["report", "--year", "2021", "-o", &file.to_string_lossy()],
    );
    assert!(
        written.status.success(),
        "{}",
        String::from_utf8_lossy(&written.stderr)
    );
    let bytes = std::fs::read(&file).unwrap();
    let text = document_text(&bytes);
    let int = |key: &str| s[key].as_i64().unwrap_or_else(|| panic!("{key}"));
    let hours = |key: &str| pufa::domain::report::format_hours(s[key].as_f64().unwrap());
    for expected in [
        "龙凤场镇2021年度".to_string(),
        "一、党政主要负责人履行推进法治建设第一责任人职责情况".into(),
        "（一）领导干部和机关工作人员学法".into(),
        "（二）法律明白人培养".into(),
        "（三）群众普法宣传".into(),
        "三、存在的问题和不足".into(),
        "四、下一步工作打算".into(),
        format!(
            "全年召开党委会专题学法{}次",
            s["committee_meetings"].as_array().unwrap().len()
        ),
        format!("共开展学法活动{}场次", int("sessions_held")),
        format!("会前学法{}次", s["sessions_by_kind"]["pre_meeting"]),
        format!("参学{}人次", int("attendance_person_times")),
        format!("累计学时{}小时", hours("study_hours_total")),
        format!("出勤率{}%", s["attendance_rate"]),
        format!(
            "干部自学{}人、{}次，自学学时{}学时",
            int("self_study_people"),
            int("self_study_records"),
            hours("self_study_hours")
        ),
        format!(
            "仍有{}人的学法次数或学时未达标",
            int("people_below_requirement")
        ),
        format!("新培养法律明白人{}人", int("legal_literates_new")),
        format!("现有法律明白人{}人", int("legal_literates_on_roster")),
        format!("发放普法宣传资料{}份", int("materials_distributed")),
        format!(
            "开展普法活动{}场、受众{}人次",
            int("activities_held"),
            int("activity_audience_total")
        ),
        format!(
            "面向青少年宣传{}人次",
            s["audience_by_group"]["youth"].as_i64().unwrap()
        ),
    ] {
        assert!(text.contains(&expected), "missing “{expected}” in:\n{text}");
    }
    for village in s["villages_below_literate_target"].as_array().unwrap() {
        assert!(text.contains(village.as_str().unwrap()));
    }
    // Groups nobody reached are not written as zeros.
    assert!(!text.contains("宣传0人次"));

    // The appendix: a row per village, the township's row and the totals; each column
    // adds up to its total, and the totals are the summary's.
    let table = &text[text.find("附表").expect("appendix")..];
    let cells: Vec<&str> = table.lines().collect();
    let header = cells.iter().position(|c| *c == "村(社区)").unwrap();
    let body: Vec<Vec<&str>> = cells[header + 8..]
        .chunks(8)
        .take_while(|row| row.len() == 8 && !row[0].starts_with("注"))
        .map(|row| row.to_vec())
        .collect();
    assert_eq!(
        body.len(),
        10 + 2,
        "ten villages, the township and the totals"
    );
    let (rows, total) = body.split_at(11);
    assert_eq!(total[0][0], "合计");
    let number = |cell: &str| cell.parse::<f64>().unwrap_or_else(|_| panic!("{cell}"));
    for col in 1..8 {
        let sum: f64 = rows.iter().map(|r| number(r[col])).sum();
        assert!((sum - number(total[0][col])).abs() < 1e-9, "column {col}");
    }
    let summary_totals = [
        int("sessions_held") as f64,
        int("attendance_person_times") as f64,
        s["study_hours_total"].as_f64().unwrap(),
        int("materials_distributed") as f64,
        int("activities_held") as f64,
        int("legal_literates_on_roster") as f64,
        s["self_study_hours"].as_f64().unwrap(),
    ];
    for (col, expected) in summary_totals.iter().enumerate() {
        assert_eq!(
            number(total[0][col + 1]),
            *expected,
            "total of column {}",
            col + 1
        );
    }

    // The layout: A4, GB/T 9704 margins, fixed 29 pt lines, the fonts by name, and the
    // page number field between dashes in the footer.
    let xml = part(&bytes, "word/document.xml");
    assert!(
        xml.contains("w:w=\"11906\"") && xml.contains("w:h=\"16838\""),
        "A4"
    );
    for margin in [
        "w:top=\"2098\"",
        "w:bottom=\"1984\"",
        "w:left=\"1587\"",
        "w:right=\"1474\"",
    ] {
        assert!(xml.contains(margin), "{margin}");
    }
    assert!(xml.contains("w:line=\"579\"") && xml.contains("w:lineRule=\"exact\""));
    for font in ["方正小标宋简体", "仿宋_GB2312", "黑体", "楷体_GB2312"] {
        assert!(xml.contains(&format!("w:eastAsia=\"{font}\"")), "{font}");
    }
    assert!(
        xml.contains("<w:sz w:val=\"44\"") && xml.contains("<w:sz w:val=\"32\""),
        "2号 and 3号"
    );
    let fonts = part(&bytes, "word/fontTable.xml");
    assert!(fonts.contains("<w:altName w:val=\"仿宋\"/>"), "{fonts}");
    let footer = part(&bytes, "word/footer1.xml");
    assert!(footer.contains("PAGE") && footer.contains("— "), "{footer}");
}

/// LibreOffice opens the document and lays it out on pages (required in CI).
#[test]
fn report_renders_in_libreoffice() {
    let Some(soffice) = ["soffice", "libreoffice"]
        .into_iter()
        .find(|c| Command::new(c).arg("--version").output().is_ok())
    else {
        if std::env::var("PUFA_REQUIRE_SOFFICE").as_deref() == Ok("1") {
            panic!("PUFA_REQUIRE_SOFFICE=1 but LibreOffice (soffice) is not installed");
        }
        say("skipped report_renders_in_libreoffice: LibreOffice (soffice) is not installed");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("demo.db").display());
    let demo_dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("imports/demo");
    assert!(pufa(&url, &["demo", "--dir", &demo_dir.to_string_lossy()])
        .status
        .success());
    let file = dir.path().join("report.docx");
    assert!(pufa(
        &url,
        &["report", "--year", "2021", "-o", &file.to_string_lossy()]
    )
    .status
    .success());
    let profile = format!(
        "-env:UserInstallation=file://{}/profile",
        dir.path().display()
    );
    let converted = Command::new(soffice)
        .args([
            profile.as_str(),
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
        ])
        .arg(dir.path())
        .arg(&file)
        .output()
        .expect("run soffice");
    assert!(
        converted.status.success(),
        "{}",
        String::from_utf8_lossy(&converted.stderr)
    );
    let pdf = std::fs::read(dir.path().join("report.pdf")).expect("a PDF was written");
    let pdf = String::from_utf8_lossy(&pdf);
    let pages = pdf.matches("/Type/Page").count() + pdf.matches("/Type /Page").count()
        - pdf.matches("/Type/Pages").count()
        - pdf.matches("/Type /Pages").count();
    assert!(
        pages >= 3,
        "the report and its appendix fill pages: {pages}"
    );
}
