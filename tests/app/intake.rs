//! Intake rules that decide the year's figures: a township-wide sign-in sheet is one
//! session, a clerk's file stays within what the clerk may change.

use chrono::NaiveDate;
use pufa::domain::dates::Period;
use pufa::domain::Role;
use pufa::domain::VillageScope;
use pufa::services::imports::{self, Upload};
use pufa::services::summary;
use pufa::services::Actor;
use pufa::store::sessions::{Session, SessionFilter};
use pufa::store::{self};

use crate::helpers::{on_both_backends, Backend, TestApp};
use crate::imports::{admin, upload, xlsx, C};

on_both_backends!(
    township_training_class_is_one_session,
    clerk_upload_of_the_class_gives_own_villagers_only,
    village_file_stays_a_village_session,
    clerk_signed_sheet_does_not_change_the_organizers_marks,
    clerk_file_cannot_add_to_the_catalogue,
    parallel_commits_of_one_upload_import_it_once,
    two_files_naming_the_same_new_person_at_once_make_one_person,
    corrected_activities_ledger_updates_the_copies_handed_out,
    two_undos_of_one_batch_at_once_undo_it_once,
    sheet_rows_take_the_hours_of_the_session_they_name,
    a_rejected_row_plans_no_session,
    a_title_differing_only_in_punctuation_is_the_same_material,
    the_preview_says_what_it_took_from_the_title,
);

fn day() -> NaiveDate {
    NaiveDate::from_ymd_opt(2021, 6, 18).unwrap()
}

/// The 法律明白人 training class of 18 June: four attendees from three villages.
fn training_class() -> Vec<u8> {
    training_class_in("签到")
}

/// The same class saved under another sheet name (another file, the same rows).
fn training_class_in(sheet: &str) -> Vec<u8> {
    let mut rows = vec![vec![
        C::T("日期"),
        C::T("学习内容"),
        C::T("学习形式"),
        C::T("姓名"),
        C::T("村(社区)"),
        C::T("签到情况"),
    ]];
    for (name, village) in [
        ("张三", "龙凤村"),
        ("李四", "龙凤村"),
        ("王五", "石桥村"),
        ("赵六", "玉泉社区"),
    ] {
        rows.push(vec![
            C::T("2021-06-18"),
            C::T("法律明白人培训班"),
            C::T("法律明白人培训"),
            C::T(name),
            C::T(village),
            C::T("出勤"),
        ]);
    }
    xlsx(sheet, &rows, &[])
}

struct Township {
    longfeng: i64,
    shiqiao: i64,
    yuquan: i64,
}

async fn township(app: &TestApp) -> Township {
    let t = Township {
        longfeng: app.village("龙凤村").await,
        shiqiao: app.village("石桥村").await,
        yuquan: app.village("玉泉社区").await,
    };
    app.person("张三", Some(t.longfeng)).await;
    app.person("李四", Some(t.longfeng)).await;
    app.person("王五", Some(t.shiqiao)).await;
    app.person("赵六", Some(t.yuquan)).await;
    t
}

async fn sessions_of_topic(app: &TestApp, topic: &str) -> Vec<Session> {
    let filter = SessionFilter {
        period: Period::everything(),
        village: VillageScope::Any,
        include_township: false,
        kind: None,
        status: None,
    };
    store::sessions::list(&app.db, &filter, 100, 0)
        .await
        .unwrap()
        .into_iter()
        .filter(|s| s.topic == topic)
        .collect()
}

async fn attendee_count(app: &TestApp, session: i64) -> usize {
    store::attendance::grid(&app.db, session, VillageScope::Any)
        .await
        .unwrap()
        .iter()
        .filter(|r| r.status.is_some())
        .count()
}

async fn clerk_of(app: &TestApp, username: &str, village: i64) -> Actor {
    let id = app.user(username, Role::Clerk, Some(village)).await;
    Actor::from_user(&store::users::get(&app.db, id).await.unwrap().unwrap()).unwrap()
}

async fn township_training_class_is_one_session(backend: Backend) {
    let Some(app) = TestApp::spawn(backend, "training_class").await else {
        return;
    };
    township(&app).await;
    let actor = admin(&app).await;
    let file = training_class();
    let (_, preview) = imports::commit(&app.db, &actor, &upload("培训班签到.xlsx", &file), false)
        .await
        .unwrap();
    assert_eq!(preview.created, 4);
    let sessions = sessions_of_topic(&app, "法律明白人培训班").await;
    assert_eq!(sessions.len(), 1, "one joint session, not one per village");
    assert_eq!(sessions[0].village_id, None, "township level (镇级)");
    assert_eq!(attendee_count(&app, sessions[0].id).await, 4);
    let year = summary::annual_summary(&app.db, &actor, 2021, None, day())
        .await
        .unwrap();
    assert_eq!((year.sessions_held, year.attendance_person_times), (1, 4));
    // The same sheet saved again (another file, same rows) changes nothing.
    let again = training_class_in("签到表");
    assert_ne!(again, file);
    let (_, second) = imports::commit(&app.db, &actor, &upload("再次上传.xlsx", &again), false)
        .await
        .unwrap();
    assert_eq!(
        (second.created, second.updated, second.unchanged),
        (0, 0, 4)
    );
    assert_eq!(sessions_of_topic(&app, "法律明白人培训班").await.len(), 1);
}

async fn clerk_upload_of_the_class_gives_own_villagers_only(backend: Backend) {
    let Some(app) = TestApp::spawn(backend, "training_class_clerk").await else {
        return;
    };
    let t = township(&app).await;
    let clerk = clerk_of(&app, "clerk", t.longfeng).await;
    let file = training_class();
    let preview = imports::preview(&app.db, &clerk, &upload("培训班签到.xlsx", &file))
        .await
        .unwrap();
    assert_eq!((preview.created, preview.rejected), (2, 2));
    imports::commit(&app.db, &clerk, &upload("培训班签到.xlsx", &file), true)
        .await
        .unwrap();
    let sessions = sessions_of_topic(&app, "法律明白人培训班").await;
    assert_eq!(sessions.len(), 1);
    assert_eq!(sessions[0].village_id, Some(t.longfeng));
    assert_eq!(attendee_count(&app, sessions[0].id).await, 2);
}

async fn village_file_stays_a_village_session(backend: Backend) {
    let Some(app) = TestApp::spawn(backend, "village_file").await else {
        return;
    };
    let t = township(&app).await;
    app.person("镇干部甲", None).await;
    let rows = vec![
        vec![C::T("龙凤村2021年会前学法签到表")],
        vec![
            C::T("日期"),
            C::T("学习内容"),
            C::T("学习形式"),
            C::T("姓名"),
            C::T("村(社区)"),
        ],
        vec![
            C::T("2021-03-01"),
            C::T("学习民法典"),
            C::T("会前学法"),
            C::T("张三"),
            C::E,
        ],
        vec![
            C::T("2021-03-01"),
            C::T("学习民法典"),
            C::T("会前学法"),
            C::T("镇干部甲"),
            C::T("镇机关"),
        ],
    ];
    let file = xlsx("三月", &rows, &[]);
    let actor = admin(&app).await;
    imports::commit(&app.db, &actor, &upload("会前学法.xlsx", &file), false)
        .await
        .unwrap();
    let sessions = sessions_of_topic(&app, "学习民法典").await;
    assert_eq!(sessions.len(), 1);
    assert_eq!(sessions[0].village_id, Some(t.longfeng));
    assert_eq!(attendee_count(&app, sessions[0].id).await, 2);
    // The chosen village of an upload is the file's village too.
    let class = training_class();
    let chosen = Upload {
        village_id: Some(t.shiqiao),
        ..upload("石桥村签到.xlsx", &class)
    };
    imports::commit(&app.db, &actor, &chosen, false)
        .await
        .unwrap();
    let sessions = sessions_of_topic(&app, "法律明白人培训班").await;
    assert_eq!(sessions.len(), 1);
    assert_eq!(sessions[0].village_id, Some(t.shiqiao));
}

async fn clerk_signed_sheet_does_not_change_the_organizers_marks(backend: Backend) {
    let Some(app) = TestApp::spawn(backend, "clerk_signed_sheet").await else {
        return;
    };
    let t = township(&app).await;
    let zhang = app.person("张三丰", Some(t.longfeng)).await;
    let session = app
        .study_session(None, "2021-06-18", "09:00", "镇级法治讲座")
        .await;
    store::attendance::save_marks(
        &app.db,
        session,
        &[store::attendance::Mark {
            person_id: zhang,
            status: pufa::domain::session::AttendanceStatus::Absent,
            hours_credited: 0.0,
        }],
        pufa::domain::session::AttendanceSource::Manual,
        None,
    )
    .await
    .unwrap();
    let clerk = clerk_of(&app, "clerk", t.longfeng).await;
    // The township's numbered sheet, signed by 张三丰 and by 李四 who was not marked yet.
    let rows = vec![
        vec![C::T("活动编号"), C::S(format!("XF-{session:06}"))],
        vec![
            C::T("序号"),
            C::T("姓名"),
            C::T("村(社区)"),
            C::T("职务"),
            C::T("签名"),
            C::T("备注"),
        ],
        vec![
            C::N(1.0),
            C::T("张三丰"),
            C::T("龙凤村"),
            C::E,
            C::T("张三丰"),
            C::E,
        ],
        vec![
            C::N(2.0),
            C::T("李四"),
            C::T("龙凤村"),
            C::E,
            C::T("李四"),
            C::E,
        ],
    ];
    let file = xlsx("签到表", &rows, &[]);
    let preview = imports::preview(&app.db, &clerk, &upload("签到表.xlsx", &file))
        .await
        .unwrap();
    assert_eq!(
        (preview.created, preview.updated, preview.rejected),
        (1, 0, 1)
    );
    assert!(
        preview.errors[0].message.contains("只能由组织者"),
        "{:?}",
        preview.errors
    );
    imports::commit(&app.db, &clerk, &upload("签到表.xlsx", &file), true)
        .await
        .unwrap();
    let grid = store::attendance::grid(&app.db, session, VillageScope::Any)
        .await
        .unwrap();
    let zhang_mark = grid.iter().find(|r| r.person_id == zhang).unwrap();
    assert_eq!(zhang_mark.status.as_deref(), Some("absent"));
    assert_eq!(grid.iter().filter(|r| r.status.is_some()).count(), 2);
    // A plain file naming the township session's date and topic does not reach it.
    let plain = xlsx(
        "签到",
        &[
            vec![C::T("日期"), C::T("学习内容"), C::T("姓名")],
            vec![C::T("2021-06-18"), C::T("镇级法治讲座"), C::T("张三")],
        ],
        &[],
    );
    let preview = imports::preview(&app.db, &clerk, &upload("签到2.xlsx", &plain))
        .await
        .unwrap();
    assert_eq!(preview.rejected, 1);
    assert!(preview.errors[0].message.contains("镇级学法活动"));
}

async fn clerk_file_cannot_add_to_the_catalogue(backend: Backend) {
    let Some(app) = TestApp::spawn(backend, "clerk_catalogue").await else {
        return;
    };
    let t = township(&app).await;
    app.material("民法典手册").await;
    let clerk = clerk_of(&app, "clerk", t.longfeng).await;
    let rows = vec![
        vec![C::T("发放日期"), C::T("资料名称"), C::T("数量")],
        vec![C::T("2021-03-05"), C::T("民法典手册"), C::N(100.0)],
        vec![C::T("2021-03-06"), C::T("自编宣传单"), C::N(50.0)],
    ];
    let file = xlsx("发放", &rows, &[]);
    let preview = imports::preview(&app.db, &clerk, &upload("发放.xlsx", &file))
        .await
        .unwrap();
    assert_eq!((preview.created, preview.rejected), (1, 1));
    assert!(preview.errors[0]
        .message
        .contains("资料目录中没有“自编宣传单”"));
    imports::commit(&app.db, &clerk, &upload("发放.xlsx", &file), true)
        .await
        .unwrap();
    assert_eq!(
        store::materials::find_by_title(&app.db, "自编宣传单")
            .await
            .unwrap(),
        None
    );
}

/// A roster of the given (name, phone) in 龙凤村.
fn roster(people: &[(&str, &str)]) -> Vec<u8> {
    let mut rows = vec![vec![
        C::T("姓名"),
        C::T("村(社区)"),
        C::T("联系电话"),
        C::T("身份类别"),
    ]];
    for (name, phone) in people {
        rows.push(vec![
            C::S(name.to_string()),
            C::T("龙凤村"),
            C::S(phone.to_string()),
            C::T("群众"),
        ]);
    }
    xlsx("名单", &rows, &[])
}

pub(crate) async fn people_named(app: &TestApp, name: &str) -> i64 {
    let filter = store::people::PersonFilter {
        name_contains: Some(name.to_string()),
        ..Default::default()
    };
    store::people::count(&app.db, &filter).await.unwrap()
}

async fn parallel_commits_of_one_upload_import_it_once(backend: Backend) {
    let Some(app) = TestApp::spawn(backend, "parallel_commits").await else {
        return;
    };
    township(&app).await;
    let actor = admin(&app).await;
    let names: Vec<(String, String)> = (0..300)
        .map(|i| (format!("村民{i:03}"), format!("1390000{i:04}")))
        .collect();
    let refs: Vec<(&str, &str)> = names
        .iter()
        .map(|(n, p)| (n.as_str(), p.as_str()))
        .collect();
    let file = roster(&refs);
    let pending = imports::batches::save_upload(&app.db, &actor, "名单.xlsx", None, None, &file)
        .await
        .unwrap();
    // Five clicks on 导入 at once.
    let clicks: Vec<_> = (0..5)
        .map(|_| {
            let (db, actor) = (app.db.clone(), actor.clone());
            tokio::spawn(async move {
                imports::batches::commit_pending(&db, &actor, pending, false).await
            })
        })
        .collect();
    let mut committed = 0;
    for click in clicks {
        match click.await.unwrap() {
            Ok(_) => committed += 1,
            Err(e) => assert!(
                e.to_string().contains("本次未做任何修改") || e.to_string().contains("未找到"),
                "{e}"
            ),
        }
    }
    assert_eq!(committed, 1);
    let batches = store::imports::list(&app.db, VillageScope::Any, 10)
        .await
        .unwrap();
    assert_eq!(batches.len(), 1);
    assert_eq!(people_named(&app, "村民").await, 300);
}

async fn two_files_naming_the_same_new_person_at_once_make_one_person(backend: Backend) {
    let Some(app) = TestApp::spawn(backend, "same_new_person").await else {
        return;
    };
    township(&app).await;
    let actor = admin(&app).await;
    let first = roster(&[("孙七", "13800001234"), ("周八", "13800001235")]);
    let second = roster(&[("孙七", "13800001234"), ("吴九", "13800001236")]);
    let imports: Vec<_> = [first, second]
        .into_iter()
        .enumerate()
        .map(|(i, file)| {
            let (db, actor) = (app.db.clone(), actor.clone());
            tokio::spawn(async move {
                let name = format!("名单{i}.xlsx");
                imports::commit(&db, &actor, &upload(&name, &file), false).await
            })
        })
        .collect();
    for import in imports {
        import.await.unwrap().unwrap();
    }
    assert_eq!(people_named(&app, "孙七").await, 1);
    assert_eq!(
        people_named(&app, "周八").await + people_named(&app, "吴九").await,
        2
    );
}

fn activities_ledger(copies: f64, audience: f64) -> Vec<u8> {
    xlsx(
        "台账",
        &[
            vec![
                C::T("活动日期"),
                C::T("村(社区)"),
                C::T("活动主题"),
                C::T("受众对象"),
                C::T("参与人数"),
                C::T("发放资料(份)"),
            ],
            vec![
                C::T("2021-06-26"),
                C::T("龙凤村"),
                C::T("禁毒宣传"),
                C::T("青少年"),
                C::N(audience),
                C::N(copies),
            ],
        ],
        &[],
    )
}

async fn copies_handed_out(app: &TestApp) -> (i64, i64) {
    let filter = store::distributions::DistributionFilter {
        period: Period::everything(),
        village: VillageScope::Any,
        material_kind: None,
        material_id: None,
    };
    let totals = store::distributions::totals(&app.db, &filter)
        .await
        .unwrap();
    (totals.rows, totals.quantity)
}

async fn corrected_activities_ledger_updates_the_copies_handed_out(backend: Backend) {
    let Some(app) = TestApp::spawn(backend, "corrected_activities").await else {
        return;
    };
    township(&app).await;
    let actor = admin(&app).await;
    let first = activities_ledger(300.0, 120.0);
    imports::commit(&app.db, &actor, &upload("台账.xlsx", &first), false)
        .await
        .unwrap();
    assert_eq!(copies_handed_out(&app).await, (1, 300));
    // Only the count is corrected: the activity is unchanged, its distribution is not.
    let corrected = activities_ledger(350.0, 120.0);
    let (batch, preview) = imports::commit(
        &app.db,
        &actor,
        &upload("台账（改）.xlsx", &corrected),
        false,
    )
    .await
    .unwrap();
    assert_eq!(
        (preview.created, preview.updated, preview.unchanged),
        (0, 1, 0)
    );
    assert_eq!(copies_handed_out(&app).await, (1, 350));
    let activity = store::activities::list(
        &app.db,
        &store::activities::ActivityFilter {
            period: Period::everything(),
            village: VillageScope::Any,
            form: None,
            place: None,
            group: None,
        },
        10,
        0,
    )
    .await
    .unwrap();
    assert_eq!(activity.len(), 1);
    assert_eq!(
        activity[0].materials_quantity, 350,
        "still linked to the activity"
    );
    // Undoing the correction restores the first count.
    imports::undo(&app.db, &actor, batch, day()).await.unwrap();
    assert_eq!(copies_handed_out(&app).await, (1, 300));
}

async fn two_undos_of_one_batch_at_once_undo_it_once(backend: Backend) {
    let Some(app) = TestApp::spawn(backend, "double_undo").await else {
        return;
    };
    let t = township(&app).await;
    app.person("孙七", Some(t.longfeng)).await;
    let actor = admin(&app).await;
    // A corrected phone number: the undo restores the old one, exactly once.
    let file = roster(&[("孙七", "13800009999"), ("新人甲", "13800001111")]);
    let (batch, preview) = imports::commit(&app.db, &actor, &upload("名单.xlsx", &file), false)
        .await
        .unwrap();
    assert_eq!(preview.created + preview.updated, 2);
    let undos: Vec<_> = (0..2)
        .map(|_| {
            let (db, actor) = (app.db.clone(), actor.clone());
            tokio::spawn(async move { imports::undo(&db, &actor, batch, day()).await })
        })
        .collect();
    let mut done = 0;
    for undo in undos {
        match undo.await.unwrap() {
            Ok(()) => done += 1,
            Err(e) => assert!(e.to_string().contains("已撤销"), "{e}"),
        }
    }
    assert_eq!(done, 1);
    assert_eq!(people_named(&app, "新人甲").await, 0);
    let entries = store::audit::for_entity(&app.db, "import_batch", batch)
        .await
        .unwrap();
    assert_eq!(entries.iter().filter(|e| e.action == "undo").count(), 1);
}

async fn sheet_rows_take_the_hours_of_the_session_they_name(backend: Backend) {
    let Some(app) = TestApp::spawn(backend, "session_hours").await else {
        return;
    };
    let t = township(&app).await;
    let start = day().and_hms_opt(9, 0, 0).unwrap();
    let draft = pufa::domain::schedule::SessionDraft {
        kind: pufa::domain::session::SessionKind::Lecture,
        topic: "半天的法治讲座".into(),
        starts_at: start,
        ends_at: start + chrono::Duration::hours(3),
        venue: String::new(),
        speaker: String::new(),
        organizer: String::new(),
        village_id: Some(t.longfeng),
        hours_credited: 2.5,
        notes: String::new(),
    };
    let session = store::sessions::create(&app.db, &draft, None)
        .await
        .unwrap();
    let file = xlsx(
        "签到",
        &[
            vec![
                C::T("日期"),
                C::T("学习内容"),
                C::T("姓名"),
                C::T("村(社区)"),
            ],
            vec![
                C::T("2021-06-18"),
                C::T("半天的法治讲座"),
                C::T("张三"),
                C::T("龙凤村"),
            ],
        ],
        &[],
    );
    let actor = admin(&app).await;
    imports::commit(&app.db, &actor, &upload("签到.xlsx", &file), false)
        .await
        .unwrap();
    let grid = store::attendance::grid(&app.db, session, VillageScope::Any)
        .await
        .unwrap();
    assert_eq!(grid.len(), 1);
    assert_eq!(grid[0].hours_credited, Some(2.5));
}

async fn a_rejected_row_plans_no_session(backend: Backend) {
    let Some(app) = TestApp::spawn(backend, "rejected_row_session").await else {
        return;
    };
    let t = township(&app).await;
    let file = xlsx(
        "签到",
        &[
            vec![
                C::T("日期"),
                C::T("学习内容"),
                C::T("姓名"),
                C::T("签到情况"),
            ],
            vec![
                C::T("2021-06-18"),
                C::T("只有错行的学习"),
                C::T("张三"),
                C::T("也许来了"),
            ],
            vec![
                C::T("2021-06-19"),
                C::T("正常的学习"),
                C::T("张三"),
                C::T("出勤"),
            ],
        ],
        &[],
    );
    let actor = admin(&app).await;
    let upload = pufa::services::imports::Upload {
        village_id: Some(t.longfeng),
        ..upload("签到.xlsx", &file)
    };
    let (_, preview) = imports::commit(&app.db, &actor, &upload, true)
        .await
        .unwrap();
    assert_eq!((preview.created, preview.rejected), (1, 1));
    assert!(sessions_of_topic(&app, "只有错行的学习").await.is_empty());
    assert_eq!(sessions_of_topic(&app, "正常的学习").await.len(), 1);
}

async fn a_title_differing_only_in_punctuation_is_the_same_material(backend: Backend) {
    let Some(app) = TestApp::spawn(backend, "material_titles").await else {
        return;
    };
    let t = township(&app).await;
    let existing = app.material("《民法典》宣传手册").await;
    let file = xlsx(
        "发放",
        &[
            vec![C::T("发放日期"), C::T("资料名称"), C::T("数量")],
            vec![C::T("2021-03-05"), C::T("民法典宣传手册"), C::N(100.0)],
            vec![C::T("2021-03-06"), C::T("全新的折页"), C::N(50.0)],
        ],
        &[],
    );
    let actor = admin(&app).await;
    let chosen = Upload {
        village_id: Some(t.longfeng),
        ..upload("发放.xlsx", &file)
    };
    let preview = imports::preview(&app.db, &actor, &chosen).await.unwrap();
    let warnings: Vec<&str> = preview
        .warnings
        .iter()
        .map(|w| w.message.as_str())
        .collect();
    assert_eq!(
        warnings,
        vec!["资料目录中没有“全新的折页”，导入时新建资料"],
        "only the new title is announced"
    );
    imports::commit(&app.db, &actor, &chosen, false)
        .await
        .unwrap();
    let catalogue = store::materials::choices(&app.db).await.unwrap();
    assert_eq!(catalogue.len(), 2, "{catalogue:?}");
    let filter = store::distributions::DistributionFilter {
        period: Period::everything(),
        village: VillageScope::Any,
        material_kind: None,
        material_id: Some(existing),
    };
    let totals = store::distributions::totals(&app.db, &filter)
        .await
        .unwrap();
    assert_eq!((totals.rows, totals.quantity), (1, 100));
}

async fn the_preview_says_what_it_took_from_the_title(backend: Backend) {
    let Some(app) = TestApp::spawn(backend, "title_facts").await else {
        return;
    };
    township(&app).await;
    let file = xlsx(
        "三月",
        &[
            vec![C::T("石桥村2021年普法资料发放登记表")],
            vec![C::T("发放日期"), C::T("资料名称"), C::T("数量")],
            vec![C::T("3月5日"), C::T("民法典手册"), C::N(100.0)],
        ],
        &[],
    );
    let actor = admin(&app).await;
    let preview = imports::preview(&app.db, &actor, &upload("发放.xlsx", &file))
        .await
        .unwrap();
    assert_eq!(preview.sheets[0].title_village.as_deref(), Some("石桥村"));
    assert_eq!(preview.sheets[0].title_year, Some(2021));
}
