//! Spreadsheet intake through the real app: fixtures are built here (xlsx with
//! rust_xlsxwriter, CSV in GB18030) or kept in tests/fixtures/ (xls and ods, made by
//! tests/fixtures/make_fixtures.py).

use std::io::Cursor;

use calamine::{Data, Reader, Xlsx};
use chrono::NaiveDate;
use pufa::domain::dates::Period;
use pufa::domain::import::ImportKind;
use pufa::domain::Role;
use pufa::domain::VillageScope;
use pufa::services::imports::{self, ImportError, Upload};
use pufa::services::Actor;
use pufa::sheets::read::ReadError;
use pufa::store::distributions::DistributionFilter;
use pufa::store::{self};
use rocket::http::{ContentType, Status};
use rust_xlsxwriter::{Format, Workbook};

use crate::helpers::{on_both_backends, Backend, TestApp};

on_both_backends!(
    roster_with_title_rows_two_row_header_totals_and_footer,
    dates_in_every_format_and_merged_cells,
    id_number_turned_into_a_number_is_an_error_naming_the_cell,
    gb18030_csv_roster,
    same_content_as_xlsx_xls_and_ods_gives_the_same_result,
    clerk_file_naming_another_village_is_rejected,
    same_file_twice_changes_nothing_and_corrected_file_updates,
    undo_restores_the_figures,
    printed_sign_in_sheet_imports_into_its_session,
    upload_preview_and_commit_through_the_web,
    activities_ledger_with_materials_count,
    undo_of_an_attendance_import_and_work_that_depends_on_it,
    a_legal_literate_without_certification_date_counts_from_the_import,
    a_quantity_written_in_another_unit_is_pointed_out,
    undo_does_not_overwrite_later_edits_and_needs_edit_rights,
);

/// A cell of a fixture row.
#[derive(Clone)]
pub(crate) enum C {
    T(&'static str),
    S(String),
    N(f64),
    D(i32, u32, u32),
    E,
}

pub(crate) fn xlsx(sheet: &str, rows: &[Vec<C>], merges: &[(u32, u16, u32, u16)]) -> Vec<u8> {
    let mut workbook = Workbook::new();
    let ws = workbook.add_worksheet();
    ws.set_name(sheet).unwrap();
    let date_format = Format::new().set_num_format("yyyy\"年\"m\"月\"d\"日\"");
    for (r, row) in rows.iter().enumerate() {
        for (c, cell) in row.iter().enumerate() {
            let (r, c) = (r as u32, c as u16);
            match cell {
                C::T(t) => ws.write_string(r, c, *t).map(|_| ()).unwrap(),
                C::S(t) => ws.write_string(r, c, t).map(|_| ()).unwrap(),
                C::N(n) => ws.write_number(r, c, *n).map(|_| ()).unwrap(),
                C::D(y, m, d) => ws
                    .write_date_with_format(
                        r,
                        c,
                        NaiveDate::from_ymd_opt(*y, *m, *d).unwrap(),
                        &date_format,
                    )
                    .map(|_| ())
                    .unwrap(),
                C::E => {}
            }
        }
    }
    for (r0, c0, r1, c1) in merges {
        let value = match &rows[*r0 as usize][*c0 as usize] {
            C::T(t) => t.to_string(),
            C::S(s) => s.clone(),
            _ => String::new(),
        };
        ws.merge_range(*r0, *c0, *r1, *c1, &value, &Format::new())
            .unwrap();
    }
    workbook.save_to_buffer().unwrap()
}

fn admin_actor(app_admin: &pufa::store::users::User) -> Actor {
    Actor::from_user(app_admin).unwrap()
}

pub(crate) async fn admin(app: &TestApp) -> Actor {
    let id = app.user("admin", Role::Admin, None).await;
    let user = store::users::get(&app.db, id).await.unwrap().unwrap();
    admin_actor(&user)
}

pub(crate) fn upload<'a>(name: &'a str, bytes: &'a [u8]) -> Upload<'a> {
    Upload {
        file_name: name,
        bytes,
        kind: None,
        village_id: None,
    }
}

async fn all_distributions(app: &TestApp) -> (i64, i64) {
    let filter = DistributionFilter {
        period: Period::everything(),
        village: VillageScope::Any,
        material_kind: None,
        material_id: None,
    };
    let t = store::distributions::totals(&app.db, &filter)
        .await
        .unwrap();
    (t.rows, t.quantity)
}

async fn roster_with_title_rows_two_row_header_totals_and_footer(backend: Backend) {
    let Some(app) = TestApp::spawn(backend, "roster_import").await else {
        return;
    };
    let village = app.village("龙凤村").await;
    let actor = admin(&app).await;
    let id = format!(
        "51192119800101123{}",
        pufa::domain::id_number::check_char("51192119800101123")
    );
    let rows = vec![
        vec![
            C::T("龙凤村2021年法律明白人及村干部花名册"),
            C::E,
            C::E,
            C::E,
            C::E,
            C::E,
        ],
        vec![C::T("基本信息"), C::E, C::E, C::T("身份"), C::E, C::E],
        vec![
            C::T("姓 名"),
            C::T("性别"),
            C::T("联系电话"),
            C::T("身份类别（必填）"),
            C::T("认定日期"),
            C::T("公民身份号码"),
        ],
        vec![
            C::T("王明白"),
            C::T("男"),
            C::T("13812345678"),
            C::T("法律明白人、村干部"),
            C::D(2021, 3, 5),
            C::S(id.clone()),
        ],
        vec![
            C::T("李调解"),
            C::T("女"),
            C::E,
            C::T("人民调解员"),
            C::E,
            C::E,
        ],
        vec![C::E, C::E, C::E, C::E, C::E, C::E],
        vec![C::T("合计"), C::E, C::E, C::T("2人"), C::E, C::E],
        vec![C::T("填表人：张文书"), C::E, C::E, C::E, C::E, C::E],
    ];
    let bytes = xlsx("花名册", &rows, &[(1, 0, 1, 2), (1, 3, 1, 4)]);
    let preview = imports::preview(&app.db, &actor, &upload("花名册.xlsx", &bytes))
        .await
        .unwrap();
    assert_eq!(preview.kind, ImportKind::Roster);
    assert_eq!(
        (
            preview.sheets[0].name.as_str(),
            preview.sheets[0].header_row
        ),
        ("花名册", 3)
    );
    assert_eq!(
        (preview.rows_total, preview.created, preview.rejected),
        (2, 2, 0),
        "{:?}",
        preview.errors
    );
    assert_eq!(
        store::people::count(&app.db, &Default::default())
            .await
            .unwrap(),
        0,
        "a preview writes nothing"
    );
    let (batch, _) = imports::commit(&app.db, &actor, &upload("花名册.xlsx", &bytes), false)
        .await
        .unwrap();
    let filter = store::people::PersonFilter {
        village: VillageScope::Village(village),
        ..Default::default()
    };
    let people = store::people::list(&app.db, &filter, 10, 0).await.unwrap();
    assert_eq!(people.len(), 2, "village from the title row");
    let wang = people.iter().find(|p| p.person.name == "王明白").unwrap();
    assert_eq!(wang.person.id_number.as_deref(), Some(id.as_str()));
    let held = store::people::categories(&app.db, wang.person.id)
        .await
        .unwrap();
    let literate = held
        .iter()
        .find(|c| c.category == pufa::domain::Category::LegalLiterate)
        .unwrap();
    assert_eq!(literate.since, NaiveDate::from_ymd_opt(2021, 3, 5));
    assert!(store::imports::get(&app.db, batch).await.unwrap().is_some());
}

async fn dates_in_every_format_and_merged_cells(backend: Backend) {
    let Some(app) = TestApp::spawn(backend, "dates_and_merges").await else {
        return;
    };
    let village = app.village("龙凤村").await;
    app.village("石桥村").await;
    let actor = admin(&app).await;
    let dates = [
        C::D(2021, 3, 5),
        C::T("2021-03-05"),
        C::T("2021/3/5"),
        C::T("2021.3.5"),
        C::T("2021年3月5日"),
        C::T("2021年3月5号"),
        C::T("20210305"),
        C::T("２０２１年３月５日"),
        C::N(44260.0),
        C::T("2021-03-05 14:30"),
        C::T("3月5日"),
    ];
    let mut rows = vec![
        vec![C::T("2021年普法资料发放登记表"), C::E, C::E, C::E, C::E],
        vec![
            C::T("村(社区)"),
            C::T("发放日期"),
            C::T("资料名称"),
            C::T("数量"),
            C::T("发放对象"),
        ],
    ];
    for (i, date) in dates.iter().enumerate() {
        let village = if i == 0 { C::T("龙凤村") } else { C::E };
        rows.push(vec![
            village,
            date.clone(),
            C::S(format!("资料{i}")),
            C::T("１,２００份"),
            C::T("村民"),
        ]);
    }
    // A merged date cell spanning two rows, village merged over everything.
    rows.push(vec![
        C::E,
        C::T("2021年4月1日"),
        C::T("合并日期甲"),
        C::N(10.0),
        C::E,
    ]);
    rows.push(vec![C::E, C::E, C::T("合并日期乙"), C::N(20.0), C::E]);
    let last = rows.len() as u32 - 1;
    let bytes = xlsx("Sheet1", &rows, &[(2, 0, last, 0), (last - 1, 1, last, 1)]);
    let preview = imports::preview(&app.db, &actor, &upload("发放.xlsx", &bytes))
        .await
        .unwrap();
    assert_eq!(preview.kind, ImportKind::Materials);
    assert!(preview.errors.is_empty(), "{:#?}", preview.errors);
    assert_eq!(preview.created, dates.len() + 2);
    let warning = preview
        .warnings
        .iter()
        .find(|w| w.message.contains("没有写年份"))
        .expect("no-year warning");
    assert_eq!((warning.row, warning.column.as_str()), (13, "B"));
    imports::commit(&app.db, &actor, &upload("发放.xlsx", &bytes), false)
        .await
        .unwrap();
    let march = DistributionFilter {
        period: Period::of(2021, Some(3)).unwrap(),
        village: VillageScope::Village(village),
        material_kind: None,
        material_id: None,
    };
    let t = store::distributions::totals(&app.db, &march).await.unwrap();
    assert_eq!(
        (t.rows, t.quantity),
        (dates.len() as i64, 1200 * dates.len() as i64),
        "every spelling is 5 March"
    );
    let april = DistributionFilter {
        period: Period::of(2021, Some(4)).unwrap(),
        ..march
    };
    let t = store::distributions::totals(&app.db, &april).await.unwrap();
    assert_eq!(
        (t.rows, t.quantity),
        (2, 30),
        "merged date and village fill both rows"
    );
}

async fn id_number_turned_into_a_number_is_an_error_naming_the_cell(backend: Backend) {
    let Some(app) = TestApp::spawn(backend, "id_as_number").await else {
        return;
    };
    app.village("龙凤村").await;
    let actor = admin(&app).await;
    let rows = vec![
        vec![
            C::T("姓名"),
            C::T("村(社区)"),
            C::T("身份类别"),
            C::T("身份证号"),
        ],
        vec![
            C::T("赵六"),
            C::T("龙凤村"),
            C::T("群众"),
            C::N(511921198001011000.0),
        ],
        vec![C::T("孙七"), C::T("龙凤村"), C::T("路人甲"), C::E],
        vec![C::T("周八"), C::T("龙凤村"), C::T("群众"), C::E],
    ];
    let bytes = xlsx("名单", &rows, &[]);
    let preview = imports::preview(&app.db, &actor, &upload("名单.xlsx", &bytes))
        .await
        .unwrap();
    assert_eq!((preview.created, preview.rejected), (1, 2));
    let id_error = &preview.errors[0];
    assert_eq!(
        (
            id_error.sheet.as_str(),
            id_error.row,
            id_error.column.as_str(),
            id_error.header.as_str()
        ),
        ("名单", 2, "D", "身份证号")
    );
    assert!(
        id_error.message.contains("存成了数字") && id_error.message.contains("文本"),
        "{}",
        id_error.message
    );
    assert!(preview.errors[1]
        .message
        .contains("“路人甲” 不是可选的身份类别"));
    assert!(preview.errors[1]
        .describe()
        .starts_with("名单 第3行 C列「身份类别」"));
    // Rejected rows block the commit unless the uploader chooses to import the good ones.
    let refused = imports::commit(&app.db, &actor, &upload("名单.xlsx", &bytes), false).await;
    assert!(matches!(
        refused,
        Err(ImportError::Service(pufa::services::ServiceError::Refused(
            _
        )))
    ));
    assert_eq!(
        store::people::count(&app.db, &Default::default())
            .await
            .unwrap(),
        0
    );
    imports::commit(&app.db, &actor, &upload("名单.xlsx", &bytes), true)
        .await
        .unwrap();
    assert_eq!(
        store::people::count(&app.db, &Default::default())
            .await
            .unwrap(),
        1
    );
}

async fn gb18030_csv_roster(backend: Backend) {
    let Some(app) = TestApp::spawn(backend, "gb18030_csv").await else {
        return;
    };
    app.village("龙凤村").await;
    let actor = admin(&app).await;
    let text = "姓名,村(社区),身份类别,联系电话\r\n钱九,龙凤村,网格员,13912345678\r\n吴十,龙凤村,党员；群众,\r\n";
    let (bytes, _, _) = encoding_rs::GB18030.encode(text);
    let preview = imports::preview(&app.db, &actor, &upload("名单.csv", &bytes))
        .await
        .unwrap();
    assert_eq!(
        (preview.kind, preview.created),
        (ImportKind::Roster, 2),
        "{:?}",
        preview.errors
    );
    imports::commit(&app.db, &actor, &upload("名单.csv", &bytes), false)
        .await
        .unwrap();
    let found = store::people::list(
        &app.db,
        &store::people::PersonFilter {
            name_contains: Some("钱九".into()),
            ..Default::default()
        },
        5,
        0,
    )
    .await
    .unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].person.phone.as_deref(), Some("13912345678"));
}

/// The attendance fixture: the same rows as tests/fixtures/attendance.xls and .ods.
fn attendance_rows() -> Vec<Vec<C>> {
    vec![
        vec![C::T("龙凤村2021年学法签到表"), C::E, C::E, C::E, C::E],
        vec![
            C::T("日期"),
            C::T("学习内容"),
            C::T("姓名"),
            C::T("签到情况"),
            C::T("学时"),
        ],
        vec![
            C::T("2021-03-01"),
            C::T("学习宪法"),
            C::T("张三"),
            C::T("√"),
            C::N(1.5),
        ],
        vec![
            C::T("2021-03-01"),
            C::T("学习宪法"),
            C::T("李四"),
            C::T("请假"),
            C::E,
        ],
        vec![
            C::T("2021-04-01"),
            C::T("学习民法典"),
            C::T("张三"),
            C::T("迟到"),
            C::N(1.0),
        ],
        vec![C::T("合计"), C::E, C::E, C::E, C::N(2.5)],
    ]
}

async fn same_content_as_xlsx_xls_and_ods_gives_the_same_result(backend: Backend) {
    let Some(app) = TestApp::spawn(backend, "same_content_three_formats").await else {
        return;
    };
    app.village("龙凤村").await;
    let actor = admin(&app).await;
    let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let xlsx_bytes = xlsx("签到", &attendance_rows(), &[]);
    let xls =
        std::fs::read(fixtures.join("attendance.xls")).expect("tests/fixtures/attendance.xls");
    let ods =
        std::fs::read(fixtures.join("attendance.ods")).expect("tests/fixtures/attendance.ods");
    let mut results = Vec::new();
    for (name, bytes) in [
        ("签到.xlsx", &xlsx_bytes),
        ("签到.xls", &xls),
        ("签到.ods", &ods),
    ] {
        let p = imports::preview(&app.db, &actor, &upload(name, bytes))
            .await
            .unwrap();
        assert!(p.errors.is_empty(), "{name}: {:?}", p.errors);
        results.push((
            name,
            p.kind,
            p.rows_total,
            p.created,
            p.warnings.len(),
            p.sheets[0].header_row,
        ));
    }
    assert_eq!(results[0].1, ImportKind::Attendance);
    assert_eq!(results[0].2, 3);
    for other in &results[1..] {
        assert_eq!(&other.1..=&other.1, &results[0].1..=&results[0].1);
        assert_eq!(
            (other.2, other.3, other.4, other.5),
            (results[0].2, results[0].3, results[0].4, results[0].5),
            "{}",
            other.0
        );
    }
    // Committed: two sessions (grouped by date and topic), the two people registered.
    imports::commit(&app.db, &actor, &upload("签到.xls", &xls), false)
        .await
        .unwrap();
    let people = store::people::count(&app.db, &Default::default())
        .await
        .unwrap();
    assert_eq!(people, 2);
    let zhang = store::people::list(
        &app.db,
        &store::people::PersonFilter {
            name_contains: Some("张三".into()),
            ..Default::default()
        },
        1,
        0,
    )
    .await
    .unwrap()[0]
        .person
        .id;
    let study = pufa::services::attendance::study_year(&app.db, zhang, 2021)
        .await
        .unwrap();
    assert_eq!((study.attended, study.hours), (2, 2.5));
    // The same content in another format is the same rows: nothing new.
    let again = imports::preview(&app.db, &actor, &upload("签到.ods", &ods))
        .await
        .unwrap();
    assert_eq!((again.created, again.unchanged), (0, 3));
}

async fn clerk_file_naming_another_village_is_rejected(backend: Backend) {
    let Some(app) = TestApp::spawn(backend, "clerk_other_village").await else {
        return;
    };
    let own = app.village("龙凤村").await;
    app.village("石桥村").await;
    // The catalogue is the organizers' work; a clerk's ledger names its entries.
    app.material("民法典手册").await;
    app.material("宪法读本").await;
    let clerk_id = app.user("clerk", Role::Clerk, Some(own)).await;
    let clerk =
        Actor::from_user(&store::users::get(&app.db, clerk_id).await.unwrap().unwrap()).unwrap();
    let rows = vec![
        vec![
            C::T("发放日期"),
            C::T("村(社区)"),
            C::T("资料名称"),
            C::T("数量"),
        ],
        vec![
            C::T("2021-03-05"),
            C::T("龙凤村"),
            C::T("民法典手册"),
            C::N(100.0),
        ],
        vec![
            C::T("2021-03-06"),
            C::T("石桥村"),
            C::T("民法典手册"),
            C::N(50.0),
        ],
        vec![C::T("2021-03-07"), C::E, C::T("宪法读本"), C::N(30.0)],
    ];
    let bytes = xlsx("Sheet1", &rows, &[]);
    let p = imports::preview(&app.db, &clerk, &upload("发放.xlsx", &bytes))
        .await
        .unwrap();
    assert_eq!((p.created, p.rejected), (2, 1));
    assert!(
        p.errors[0].message.contains("只能导入本村(社区)的数据")
            && p.errors[0].message.contains("石桥村")
    );
    assert!(
        imports::commit(&app.db, &clerk, &upload("发放.xlsx", &bytes), false)
            .await
            .is_err()
    );
    assert_eq!(all_distributions(&app).await, (0, 0), "nothing written");
    // A clerk cannot pick another village for the upload either.
    let other = store::villages::find_by_name(&app.db, "石桥村")
        .await
        .unwrap()
        .unwrap()
        .id;
    let forged = Upload {
        village_id: Some(other),
        ..upload("发放.xlsx", &bytes)
    };
    assert!(matches!(
        imports::preview(&app.db, &clerk, &forged).await,
        Err(ImportError::Service(
            pufa::services::ServiceError::Forbidden
        ))
    ));
    imports::commit(&app.db, &clerk, &upload("发放.xlsx", &bytes), true)
        .await
        .unwrap();
    assert_eq!(all_distributions(&app).await, (2, 130));
}

fn materials_file(quantity: f64) -> Vec<u8> {
    let rows = vec![
        vec![
            C::T("发放日期"),
            C::T("村(社区)"),
            C::T("资料名称"),
            C::T("资料类型"),
            C::T("数量"),
        ],
        vec![
            C::T("2021-03-05"),
            C::T("龙凤村"),
            C::T("民法典手册"),
            C::T("手册"),
            C::N(quantity),
        ],
        vec![
            C::T("2021-03-05"),
            C::T("龙凤村"),
            C::T("民法典手册"),
            C::T("手册"),
            C::N(40.0),
        ],
        vec![
            C::T("2021-06-01"),
            C::T("龙凤村"),
            C::T("禁毒海报"),
            C::T("海报"),
            C::N(10.0),
        ],
    ];
    xlsx("Sheet1", &rows, &[])
}

async fn same_file_twice_changes_nothing_and_corrected_file_updates(backend: Backend) {
    let Some(app) = TestApp::spawn(backend, "same_file_twice").await else {
        return;
    };
    app.village("龙凤村").await;
    let actor = admin(&app).await;
    let first = materials_file(100.0);
    let (batch, _) = imports::commit(&app.db, &actor, &upload("发放.xlsx", &first), false)
        .await
        .unwrap();
    assert_eq!(all_distributions(&app).await, (3, 150));
    let again = imports::preview(&app.db, &actor, &upload("发放（副本）.xlsx", &first))
        .await
        .unwrap();
    assert_eq!(again.already_imported.map(|(id, _)| id), Some(batch));
    assert_eq!((again.created, again.unchanged), (0, 3));
    let refused = imports::commit(&app.db, &actor, &upload("发放.xlsx", &first), false)
        .await
        .unwrap_err();
    assert!(
        refused.to_string().contains(&format!("批次 #{batch}")),
        "{refused}"
    );
    assert_eq!(all_distributions(&app).await, (3, 150));
    // The clerk corrects the first row's quantity: one row updated, nothing duplicated.
    let corrected = materials_file(120.0);
    let (_, p) = imports::commit(&app.db, &actor, &upload("发放.xlsx", &corrected), false)
        .await
        .unwrap();
    assert_eq!((p.created, p.updated, p.unchanged), (0, 1, 2));
    assert_eq!(all_distributions(&app).await, (3, 170));
}

async fn undo_restores_the_figures(backend: Backend) {
    let Some(app) = TestApp::spawn(backend, "undo_restores").await else {
        return;
    };
    app.village("龙凤村").await;
    let actor = admin(&app).await;
    let (first, _) = imports::commit(
        &app.db,
        &actor,
        &upload("发放.xlsx", &materials_file(100.0)),
        false,
    )
    .await
    .unwrap();
    let (second, _) = imports::commit(
        &app.db,
        &actor,
        &upload("发放.xlsx", &materials_file(120.0)),
        false,
    )
    .await
    .unwrap();
    assert_eq!(all_distributions(&app).await, (3, 170));
    let today = chrono::Local::now().date_naive();
    imports::undo(&app.db, &actor, second, today).await.unwrap();
    assert_eq!(
        all_distributions(&app).await,
        (3, 150),
        "the update is restored"
    );
    imports::undo(&app.db, &actor, first, today).await.unwrap();
    assert_eq!(
        all_distributions(&app).await,
        (0, 0),
        "what it created is gone"
    );
    assert!(
        store::materials::choices(&app.db).await.unwrap().is_empty(),
        "materials it created are gone"
    );
    let batch = store::imports::get(&app.db, first).await.unwrap().unwrap();
    assert_eq!(batch.status, "undone");
    assert!(
        imports::undo(&app.db, &actor, first, today).await.is_err(),
        "only once"
    );
    // After undo the same file may be imported again.
    imports::commit(
        &app.db,
        &actor,
        &upload("发放.xlsx", &materials_file(100.0)),
        false,
    )
    .await
    .unwrap();
    assert_eq!(all_distributions(&app).await, (3, 150));
    // Another organizer may not undo someone else's batch; a clerk may undo their own.
    let other = app.user("organizer", Role::Organizer, None).await;
    let other =
        Actor::from_user(&store::users::get(&app.db, other).await.unwrap().unwrap()).unwrap();
    let latest = store::imports::list(&app.db, VillageScope::Any, 1)
        .await
        .unwrap()[0]
        .id;
    assert!(matches!(
        imports::undo(&app.db, &other, latest, today).await,
        Err(pufa::services::ServiceError::Forbidden)
    ));
}

async fn printed_sign_in_sheet_imports_into_its_session(backend: Backend) {
    let Some(app) = TestApp::spawn(backend, "sign_in_round_trip").await else {
        return;
    };
    let village = app.village("龙凤村").await;
    let a = app.person("张三", Some(village)).await;
    let b = app.person("李四", Some(village)).await;
    let session = app
        .study_session(Some(village), "2021-03-01", "09:00", "学习宪法")
        .await;
    app.user("organizer", Role::Organizer, None).await;
    let web = app.session("organizer").await;
    web.post(
        &format!("/sessions/{session}/invite"),
        &[
            ("person_ids", &a.to_string()),
            ("person_ids", &b.to_string()),
        ],
    )
    .await;
    let (_, _, sheet) = web
        .get_bytes(&format!("/sessions/{session}/signin.xlsx"))
        .await;
    // Fill it in: 张三 signs, 李四 is on leave; then save it as a clerk's Excel would.
    let mut book = Xlsx::new(Cursor::new(sheet)).unwrap();
    let range = book.worksheet_range("签到表").unwrap();
    let mut rows: Vec<Vec<C>> = range
        .rows()
        .map(|r| {
            r.iter()
                .map(|c| match c {
                    Data::String(s) => C::S(s.clone()),
                    Data::Float(f) => C::N(*f),
                    _ => C::E,
                })
                .collect()
        })
        .collect();
    let header = pufa::sheets::signin::HEADER_ROW as usize;
    rows[header + 1][4] = C::T("张三");
    rows[header + 2][5] = C::T("请假");
    let filled = xlsx("签到表", &rows, &[]);
    let actor = admin(&app).await;
    let p = imports::preview(&app.db, &actor, &upload("签到表（已签）.xlsx", &filled))
        .await
        .unwrap();
    assert_eq!(p.kind, ImportKind::Attendance);
    assert!(p.errors.is_empty(), "{:?}", p.errors);
    assert_eq!(p.created, 2);
    imports::commit(
        &app.db,
        &actor,
        &upload("签到表（已签）.xlsx", &filled),
        false,
    )
    .await
    .unwrap();
    let grid = store::attendance::grid(&app.db, session, VillageScope::Any)
        .await
        .unwrap();
    let marks: Vec<(i64, Option<String>)> = grid
        .iter()
        .map(|r| (r.person_id, r.status.clone()))
        .collect();
    assert!(
        marks.contains(&(a, Some("present".into())))
            && marks.contains(&(b, Some("excused".into()))),
        "{marks:?}"
    );
    assert_eq!(
        store::sessions::list(
            &app.db,
            &store::sessions::SessionFilter {
                period: Period::everything(),
                village: VillageScope::Any,
                include_township: false,
                kind: None,
                status: None
            },
            10,
            0
        )
        .await
        .unwrap()
        .len(),
        1,
        "no new session"
    );
}

pub(crate) fn multipart(
    csrf: &str,
    file_name: &str,
    bytes: &[u8],
    fields: &[(&str, &str)],
) -> (ContentType, Vec<u8>) {
    let boundary = "----pufa-test-boundary";
    let mut body = Vec::new();
    let mut part = |name: &str, value: &[u8], file: Option<&str>| {
        body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        match file {
            Some(f) => body.extend_from_slice(format!(
                "Content-Disposition: form-data; name=\"{name}\"; filename=\"{f}\"\r\nContent-Type: application/octet-stream\r\n\r\n").as_bytes()),
            None => body.extend_from_slice(format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes()),
        }
        body.extend_from_slice(value);
        body.extend_from_slice(b"\r\n");
    };
    part("csrf_token", csrf.as_bytes(), None);
    for (k, v) in fields {
        part(k, v.as_bytes(), None);
    }
    part("file", bytes, Some(file_name));
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (
        ContentType::new("multipart", "form-data").with_params(("boundary", boundary)),
        body,
    )
}

/// Uploads a file through the web form; returns its preview page.
pub(crate) async fn upload_through_web(
    app: &crate::helpers::Session,
    name: &str,
    bytes: &[u8],
) -> String {
    let (content_type, body) = multipart(&app.csrf_token, name, bytes, &[]);
    let response = app
        .client
        .post("/imports")
        .header(content_type)
        .body(body)
        .dispatch()
        .await;
    assert_eq!(response.status(), Status::SeeOther);
    response
        .headers()
        .get_one("Location")
        .expect("preview location")
        .to_string()
}

async fn upload_preview_and_commit_through_the_web(backend: Backend) {
    let Some(app) = TestApp::spawn(backend, "web_import").await else {
        return;
    };
    let village = app.village("龙凤村").await;
    app.material("民法典手册").await;
    app.user("clerk", Role::Clerk, Some(village)).await;
    let clerk = app.session("clerk").await;
    let rows = vec![
        vec![C::T("发放日期"), C::T("资料名称"), C::T("数量")],
        vec![C::T("2021-03-05"), C::T("民法典手册"), C::N(100.0)],
        vec![C::T("2021-13-05"), C::T("宪法读本"), C::T("约50")],
    ];
    let bytes = xlsx("三月", &rows, &[]);
    let location = upload_through_web(&clerk, "三月发放.xlsx", &bytes).await;
    assert!(location.starts_with("/imports/preview/"), "{location}");
    let page = clerk.get(&location).await;
    assert_eq!(page.status, Status::Ok);
    assert!(
        page.body.contains("普法资料发放登记表") && page.body.contains("只导入正确的行"),
        "{}",
        page.body
    );
    assert!(
        page.body
            .contains("“2021-13-05” 不是有效日期：月份应为 1 到 12，没有“13月”")
            && page.body.contains("“约50” 不是有效的数字")
    );
    // A count that is no problem is not drawn in the alarm colour; the rejected one is.
    assert!(
        page.body.contains(
            r#"<div class="figure neutral"><span class="number">0</span><span>将更新</span>"#
        ) && page.body.contains(
            r#"<div class="figure warn"><span class="number">1</span><span>有错误、不导入</span>"#
        ),
        "{}",
        page.body
    );
    let (status, _, rejected) = clerk.get_bytes(&format!("{location}/rejected.xlsx")).await;
    assert_eq!(status, Status::Ok);
    let mut book = Xlsx::new(Cursor::new(rejected)).unwrap();
    let range = book.worksheet_range("三月").unwrap();
    assert_eq!(
        range.get_value((0, 3)),
        Some(&Data::String("错误说明".into()))
    );
    assert_eq!(
        range.get_value((1, 1)),
        Some(&Data::String("宪法读本".into()))
    );
    assert!(matches!(range.get_value((1, 3)), Some(Data::String(m)) if m.contains("不是有效日期")));
    // Committing needs the explicit choice while a row is rejected.
    let reply = clerk.post(&format!("{location}/commit"), &[]).await;
    assert_eq!(reply.location.as_deref(), Some(location.as_str()));
    assert_eq!(all_distributions(&app).await, (0, 0));
    let reply = clerk
        .post(&format!("{location}/commit"), &[("allow_partial", "true")])
        .await;
    let batch_page = reply.location.unwrap();
    assert!(batch_page.starts_with("/imports/batches/"));
    assert_eq!(all_distributions(&app).await, (1, 100));
    let page = clerk.get(&batch_page).await;
    assert!(
        page.body.contains("三月发放.xlsx") && page.body.contains("撤销本次导入"),
        "{}",
        page.body
    );
    // The rows left out can still be downloaded from the batch page.
    let download = format!("{batch_page}/rejected.xlsx");
    assert!(page.body.contains(&download), "{}", page.body);
    let (status, _, rejected) = clerk.get_bytes(&download).await;
    assert_eq!(status, Status::Ok);
    let mut book = Xlsx::new(Cursor::new(rejected)).unwrap();
    let range = book.worksheet_range("三月").unwrap();
    assert_eq!(range.height(), 2, "the header and the one rejected row");
    assert_eq!(
        range.get_value((1, 1)),
        Some(&Data::String("宪法读本".into()))
    );
    assert!(matches!(range.get_value((1, 3)), Some(Data::String(m)) if m.contains("不是有效日期")));
    let history = clerk.get("/imports/history").await;
    assert!(history.body.contains("三月发放.xlsx"));
    // The clerk who uploaded undoes it, after a confirmation page.
    assert!(clerk
        .get(&format!("{batch_page}/undo"))
        .await
        .body
        .contains("确定撤销"));
    clerk.post(&format!("{batch_page}/undo"), &[]).await;
    assert_eq!(all_distributions(&app).await, (0, 0));
    // A broken file gets a message, not a crash.
    let location = upload_through_web(&clerk, "坏文件.xlsx", &bytes[..bytes.len() / 2]).await;
    let page = clerk.get(&location).await;
    assert!(page.body.contains("文件不完整或已损坏"), "{}", page.body);
}

async fn activities_ledger_with_materials_count(backend: Backend) {
    let Some(app) = TestApp::spawn(backend, "activities_import").await else {
        return;
    };
    app.village("龙凤村").await;
    let actor = admin(&app).await;
    let rows = vec![
        vec![
            C::T("活动日期"),
            C::T("村(社区)"),
            C::T("活动主题"),
            C::T("活动形式"),
            C::T("法律七进"),
            C::T("受众对象"),
            C::T("参与人数"),
            C::T("发放资料(份)"),
        ],
        vec![
            C::T("2021-06-26"),
            C::T("龙凤村"),
            C::T("禁毒宣传"),
            C::T("宣传摊点"),
            C::T("进学校"),
            C::T("青少年、外出务工人员"),
            C::T("120人次"),
            C::N(300.0),
        ],
        vec![
            C::T("2021-07-01"),
            C::T("龙凤村"),
            C::T("宪法宣传"),
            C::T("讲座"),
            C::T("菜市场"),
            C::T("群众"),
            C::N(40.0),
            C::E,
        ],
    ];
    let bytes = xlsx("台账", &rows, &[]);
    let p = imports::preview(&app.db, &actor, &upload("台账.xlsx", &bytes))
        .await
        .unwrap();
    assert_eq!(
        (p.kind, p.created, p.rejected),
        (ImportKind::Activities, 1, 1)
    );
    assert!(p.errors[0].message.contains("菜市场"));
    imports::commit(&app.db, &actor, &upload("台账.xlsx", &bytes), true)
        .await
        .unwrap();
    let filter = store::activities::ActivityFilter {
        period: Period::of(2021, None).unwrap(),
        village: VillageScope::Any,
        form: None,
        place: None,
        group: None,
    };
    let rows = store::activities::list(&app.db, &filter, 10, 0)
        .await
        .unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].place.as_deref(), Some("school"));
    assert_eq!(rows[0].materials_quantity, 300);
    assert_eq!(
        rows[0].group_codes.as_deref().map(|g| g.split(',').count()),
        Some(2)
    );
    assert_eq!(all_distributions(&app).await, (1, 300));
}

#[test]
fn zip_bomb_truncated_file_and_too_many_rows_are_refused() {
    // A zip whose directory declares 300 MiB of content: refused before decompression.
    let mut bomb = Vec::new();
    {
        let mut zip = zip_writer(&mut bomb);
        zip_entry(&mut zip, "xl/worksheets/sheet1.xml", 300 * 1024 * 1024);
        zip_finish(&mut zip);
    }
    assert_eq!(
        pufa::sheets::read::read_grids("bomb.xlsx", &bomb).unwrap_err(),
        ReadError::UnpacksTooLarge
    );
    // A real workbook cut in half.
    let good = xlsx("Sheet1", &[vec![C::T("姓名")]], &[]);
    let cut = pufa::sheets::read::read_grids("cut.xlsx", &good[..good.len() / 2]).unwrap_err();
    assert!(cut.to_string().contains("文件不完整或已损坏"), "{cut}");
    assert!(pufa::sheets::read::read_grids("junk.xlsx", b"PK\x03\x04 not really a zip").is_err());
    // 200,001 data rows.
    let mut csv = String::from("姓名,身份类别\n");
    for i in 0..200_001 {
        csv.push_str(&format!("人{i},群众\n"));
    }
    let grids = pufa::sheets::read::read_grids("big.csv", csv.as_bytes());
    let refused = match grids {
        Err(e) => e,
        Ok(g) => pufa::sheets::read::find_table(g, None, &[]).unwrap_err(),
    };
    assert!(
        matches!(refused, ReadError::TooManyRows { .. }),
        "{refused:?}"
    );
    assert!(refused.to_string().contains("200000"));
    // 200,000 rows are fine.
    let ok: String = csv
        .lines()
        .take(200_001)
        .map(|l| format!("{l}\n"))
        .collect();
    let grids = pufa::sheets::read::read_grids("ok.csv", ok.as_bytes()).unwrap();
    assert_eq!(
        pufa::sheets::read::find_table(grids, None, &[])
            .unwrap()
            .sheets[0]
            .rows
            .len(),
        200_000
    );
}

/// A minimal zip writer for the bomb: local header, central directory, end record; the
/// declared sizes are lies, which is exactly what a bomb does.
struct ZipOut<'a> {
    out: &'a mut Vec<u8>,
    central: Vec<u8>,
    entries: u16,
}

fn zip_writer(out: &mut Vec<u8>) -> ZipOut<'_> {
    ZipOut {
        out,
        central: Vec::new(),
        entries: 0,
    }
}

fn zip_entry(zip: &mut ZipOut, name: &str, declared: u32) {
    let offset = zip.out.len() as u32;
    let le16 = |v: u16| v.to_le_bytes();
    let le32 = |v: u32| v.to_le_bytes();
    let mut local = Vec::new();
    local.extend_from_slice(&le32(0x0403_4b50));
    local.extend_from_slice(&[20, 0, 0, 0, 8, 0, 0, 0, 0, 0]);
    local.extend_from_slice(&le32(0));
    local.extend_from_slice(&le32(2));
    local.extend_from_slice(&le32(declared));
    local.extend_from_slice(&le16(name.len() as u16));
    local.extend_from_slice(&le16(0));
    local.extend_from_slice(name.as_bytes());
    local.extend_from_slice(&[3, 0]);
    zip.out.extend_from_slice(&local);
    let mut c = Vec::new();
    c.extend_from_slice(&le32(0x0201_4b50));
    c.extend_from_slice(&[20, 0, 20, 0, 0, 0, 8, 0, 0, 0, 0, 0]);
    c.extend_from_slice(&le32(0));
    c.extend_from_slice(&le32(2));
    c.extend_from_slice(&le32(declared));
    c.extend_from_slice(&le16(name.len() as u16));
    c.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    c.extend_from_slice(&le32(offset));
    c.extend_from_slice(name.as_bytes());
    zip.central.extend_from_slice(&c);
    zip.entries += 1;
}

fn zip_finish(zip: &mut ZipOut) {
    let offset = zip.out.len() as u32;
    let central = std::mem::take(&mut zip.central);
    zip.out.extend_from_slice(&central);
    let mut end = Vec::new();
    end.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
    end.extend_from_slice(&[0, 0, 0, 0]);
    end.extend_from_slice(&zip.entries.to_le_bytes());
    end.extend_from_slice(&zip.entries.to_le_bytes());
    end.extend_from_slice(&(central.len() as u32).to_le_bytes());
    end.extend_from_slice(&offset.to_le_bytes());
    end.extend_from_slice(&[0, 0]);
    zip.out.extend_from_slice(&end);
}

#[test]
fn kept_templates_match_what_the_code_produces() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("imports/templates");
    for kind in ImportKind::ALL {
        let produced = pufa::sheets::import_files::template(*kind, &[]).unwrap();
        let path = dir.join(format!("{}.xlsx", kind.code()));
        if std::env::var("PUFA_WRITE_TEMPLATES").as_deref() == Ok("1") {
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(&path, &produced).unwrap();
        }
        let kept = std::fs::read(&path).unwrap_or_else(|_| {
            panic!(
                "{} is missing; run with PUFA_WRITE_TEMPLATES=1",
                path.display()
            )
        });
        assert!(
            kept == produced,
            "{} differs from what the code produces; run with PUFA_WRITE_TEMPLATES=1 and commit",
            path.display()
        );
        // And it reads back as its own kind with the example row accepted.
        let grids = pufa::sheets::read::read_grids("template.xlsx", &kept).unwrap();
        let table = pufa::sheets::read::find_table(grids, None, &["龙凤村".to_string()]).unwrap();
        assert_eq!(table.kind, *kind);
        assert_eq!(table.sheets[0].rows.len(), 1);
    }
}

async fn undo_of_an_attendance_import_and_work_that_depends_on_it(backend: Backend) {
    let Some(app) = TestApp::spawn(backend, "undo_attendance").await else {
        return;
    };
    let village = app.village("龙凤村").await;
    let actor = admin(&app).await;
    let today = chrono::Local::now().date_naive();
    let bytes = xlsx("签到", &attendance_rows(), &[]);
    let (batch, p) = imports::commit(&app.db, &actor, &upload("签到.xlsx", &bytes), false)
        .await
        .unwrap();
    assert_eq!(p.created, 3);
    let people = store::people::count(&app.db, &Default::default())
        .await
        .unwrap();
    assert_eq!(people, 2);
    let sessions = store::sessions::list(
        &app.db,
        &store::sessions::SessionFilter {
            period: Period::everything(),
            village: VillageScope::Any,
            include_township: false,
            kind: None,
            status: None,
        },
        10,
        0,
    )
    .await
    .unwrap();
    assert_eq!(sessions.len(), 2);
    // Someone takes attendance by hand in a session the import created: undo must refuse.
    let walk_in = app.person("王五", Some(village)).await;
    let mark = store::attendance::Mark {
        person_id: walk_in,
        status: pufa::domain::session::AttendanceStatus::Present,
        hours_credited: 1.0,
    };
    store::attendance::save_marks(
        &app.db,
        sessions[0].id,
        &[mark],
        pufa::domain::session::AttendanceSource::Manual,
        None,
    )
    .await
    .unwrap();
    let refused = imports::undo(&app.db, &actor, batch, today)
        .await
        .unwrap_err();
    assert!(refused.to_string().contains("不能撤销"), "{refused}");
    assert_eq!(
        store::attendance::grid(&app.db, sessions[0].id, VillageScope::Any)
            .await
            .unwrap()
            .len(),
        3,
        "nothing removed"
    );
    // Without that, undo removes the sessions, attendance and people it created.
    match &app.db {
        pufa::store::Db::Sqlite(pool) => {
            sqlx::query("DELETE FROM attendance WHERE person_id = $1")
                .bind(walk_in)
                .execute(pool)
                .await
                .unwrap();
        }
        pufa::store::Db::Postgres(pool) => {
            sqlx::query("DELETE FROM attendance WHERE person_id = $1")
                .bind(walk_in)
                .execute(pool)
                .await
                .unwrap();
        }
    }
    imports::undo(&app.db, &actor, batch, today).await.unwrap();
    assert_eq!(
        store::people::count(&app.db, &Default::default())
            .await
            .unwrap(),
        1,
        "only the walk-in remains"
    );
    let left = store::sessions::list(
        &app.db,
        &store::sessions::SessionFilter {
            period: Period::everything(),
            village: VillageScope::Any,
            include_township: false,
            kind: None,
            status: None,
        },
        10,
        0,
    )
    .await
    .unwrap();
    assert!(left.is_empty());
}

/// A 法律明白人 row without 认定日期 would count in every past year: a new certification is
/// dated the day of the import (the preview says so), a stored one keeps its date.
async fn a_legal_literate_without_certification_date_counts_from_the_import(backend: Backend) {
    let Some(app) = TestApp::spawn(backend, "literate_without_date").await else {
        return;
    };
    let village = app.village("龙凤村").await;
    let actor = admin(&app).await;
    let certified = NaiveDate::from_ymd_opt(2019, 6, 1).unwrap();
    let input = pufa::domain::person::PersonInput {
        name: "老明白".into(),
        village_id: Some(village),
        categories: vec![("legal_literate".into(), "2019-06-01".into(), "".into())],
        ..Default::default()
    };
    pufa::services::people::create_person(&app.db, &Actor::operator(), &input)
        .await
        .unwrap();
    let csv =
        "村(社区),姓名,身份类别,认定日期\n龙凤村,新明白,法律明白人,\n龙凤村,老明白,法律明白人,\n";
    let today = chrono::Local::now().date_naive();
    let preview = imports::preview(&app.db, &actor, &upload("名册.csv", csv.as_bytes()))
        .await
        .unwrap();
    assert!(preview.errors.is_empty(), "{:#?}", preview.errors);
    let warned: Vec<usize> = preview
        .warnings
        .iter()
        .filter(|w| w.message.contains("未填认定日期，按导入日期"))
        .map(|w| w.row)
        .collect();
    assert_eq!(
        warned,
        vec![2],
        "only the new certification: {:#?}",
        preview.warnings
    );
    imports::commit(&app.db, &actor, &upload("名册.csv", csv.as_bytes()), false)
        .await
        .unwrap();
    let since_of = |name: &'static str| {
        let db = app.db.clone();
        async move {
            let filter = store::people::PersonFilter {
                village: VillageScope::Village(village),
                ..Default::default()
            };
            let people = store::people::list(&db, &filter, 10, 0).await.unwrap();
            let id = people
                .iter()
                .find(|p| p.person.name == name)
                .unwrap()
                .person
                .id;
            store::people::categories(&db, id)
                .await
                .unwrap()
                .into_iter()
                .find(|c| c.category == pufa::domain::Category::LegalLiterate)
                .unwrap()
                .since
        }
    };
    assert_eq!(since_of("新明白").await, Some(today));
    assert_eq!(since_of("老明白").await, Some(certified));
}

/// "120本" of a material counted in 册 is taken as 120, and the preview says so; a quantity
/// in the material's own unit is not remarked on.
async fn a_quantity_written_in_another_unit_is_pointed_out(backend: Backend) {
    let Some(app) = TestApp::spawn(backend, "quantity_unit").await else {
        return;
    };
    let village = app.village("龙凤村").await;
    app.material("民法典手册").await;
    let actor = admin(&app).await;
    let csv = "发放日期,资料名称,数量\n2021-03-05,民法典手册,120本\n2021-03-06,民法典手册,30册\n";
    let preview = imports::preview(
        &app.db,
        &actor,
        &Upload {
            file_name: "发放.csv",
            bytes: csv.as_bytes(),
            kind: None,
            village_id: Some(village),
        },
    )
    .await
    .unwrap();
    assert!(preview.errors.is_empty(), "{:#?}", preview.errors);
    assert_eq!(preview.created, 2);
    let notes: Vec<(usize, &str)> = preview
        .warnings
        .iter()
        .filter(|w| w.message.contains("计入"))
        .map(|w| (w.row, w.message.as_str()))
        .collect();
    assert_eq!(notes.len(), 1, "{:#?}", preview.warnings);
    assert_eq!(notes[0].0, 2);
    assert!(
        notes[0].1.contains("“120本”按 120册 计入"),
        "{}",
        notes[0].1
    );
}

/// Undoing an import never overwrites what was edited by hand since: it is refused with
/// the list, and nothing changes. An uploader who may no longer edit may not undo.
async fn undo_does_not_overwrite_later_edits_and_needs_edit_rights(backend: Backend) {
    let Some(app) = TestApp::spawn(backend, "undo_later_edits").await else {
        return;
    };
    let village = app.village("龙凤村").await;
    let actor = admin(&app).await;
    let today = chrono::Local::now().date_naive();
    let csv = "村(社区),姓名,身份类别,联系电话\n龙凤村,张三,村干部,13800000001\n龙凤村,李四,村干部,13800000002\n";
    let (batch, _) = imports::commit(&app.db, &actor, &upload("名册.csv", csv.as_bytes()), false)
        .await
        .unwrap();
    let filter = store::people::PersonFilter {
        village: VillageScope::Village(village),
        ..Default::default()
    };
    let people = store::people::list(&app.db, &filter, 10, 0).await.unwrap();
    let zhang = people
        .iter()
        .find(|p| p.person.name == "张三")
        .unwrap()
        .person
        .id;
    // Someone corrects 张三's phone by hand after the import.
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let input = pufa::domain::person::PersonInput {
        name: "张三".into(),
        village_id: Some(village),
        phone: "13900000009".into(),
        categories: vec![("village_cadre".into(), String::new(), String::new())],
        ..Default::default()
    };
    pufa::services::people::update_person(&app.db, &Actor::operator(), zhang, &input)
        .await
        .unwrap();
    let refused = imports::undo(&app.db, &actor, batch, today)
        .await
        .unwrap_err();
    let message = refused.to_string();
    assert!(
        message.contains("人员“张三”") && message.contains("没有撤销"),
        "{message}"
    );
    assert_eq!(
        store::people::list(&app.db, &filter, 10, 0)
            .await
            .unwrap()
            .len(),
        2
    );
    let batch_row = store::imports::get(&app.db, batch).await.unwrap().unwrap();
    assert_eq!(batch_row.status, "committed");

    // An organizer's own import, undone after they were made a viewer: refused.
    let organizer_id = app.user("organizer", Role::Organizer, None).await;
    let organizer = pufa::services::Actor::from_user(
        &store::users::get(&app.db, organizer_id)
            .await
            .unwrap()
            .unwrap(),
    )
    .unwrap();
    let csv = "村(社区),姓名,身份类别\n龙凤村,王五,村干部\n";
    let (second, _) = imports::commit(
        &app.db,
        &organizer,
        &upload("名册2.csv", csv.as_bytes()),
        false,
    )
    .await
    .unwrap();
    let demoted = pufa::services::users::UserInput {
        username: "organizer".into(),
        display_name: "组织者".into(),
        role: "viewer".into(),
        village_id: None,
        password: String::new(),
    };
    pufa::services::users::update_user(&app.db, &actor, organizer_id, &demoted)
        .await
        .unwrap();
    let viewer = pufa::services::Actor::from_user(
        &store::users::get(&app.db, organizer_id)
            .await
            .unwrap()
            .unwrap(),
    )
    .unwrap();
    assert!(imports::undo(&app.db, &viewer, second, today)
        .await
        .is_err());
    assert_eq!(
        store::imports::get(&app.db, second)
            .await
            .unwrap()
            .unwrap()
            .status,
        "committed"
    );
}
