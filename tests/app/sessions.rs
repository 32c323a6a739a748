//! Law-study sessions: series, conflicts, attendance and hours, self check-in, the
//! sign-in sheet, the calendar feed and what a clerk may see.

use std::io::Cursor;

use calamine::{Data, Reader, Xlsx};
use chrono::{Datelike, Duration, Local, NaiveDate};
use pufa::domain::person::PersonInput;
use pufa::domain::schedule::SessionDraft;
use pufa::domain::session::{AttendanceStatus, SessionKind, SessionStatus};
use pufa::domain::Role;
use pufa::domain::VillageScope;
use pufa::services::{people, Actor};
use pufa::store;
use rocket::http::Status;

use crate::helpers::{on_both_backends, Backend, Session, TestApp};

on_both_backends!(
    meetings_over_without_attendance_are_pointed_out,
    a_qr_code_for_the_server_only_says_so,
    ticking_a_village_and_a_category_is_the_condition,
    inviting_to_a_series_fills_the_chosen_meetings,
    the_invite_list_shows_villages_and_finds_anyone_by_name,
    self_checkin_leaves_the_organizers_marks_and_pauses_under_guessing,
    a_clerk_neither_changes_nor_reads_another_villages_sessions_through_a_series,
    the_same_walk_in_twice_is_one_person,
    checkin_throttle_ignores_addresses_the_client_claims,
    monthly_series_with_following_edits_and_cancellation,
    conflicts_warn_and_can_be_overridden,
    attendance_adds_up_on_the_person_page_and_in_the_requirement_list,
    a_grid_with_one_invalid_row_changes_nothing,
    self_checkin_by_name_and_phone_digits,
    sign_in_sheet_carries_the_session_number,
    clerk_sees_township_sessions_read_only,
    calendar_feed_needs_the_token,
);

fn session_form<'a>(
    topic: &'a str,
    date: &'a str,
    start: &'a str,
    end: &'a str,
    venue: &'a str,
    speaker: &'a str,
) -> Vec<(&'a str, &'a str)> {
    vec![
        ("kind", "pre_meeting"),
        ("topic", topic),
        ("date", date),
        ("start_time", start),
        ("end_time", end),
        ("venue", venue),
        ("speaker", speaker),
        ("organizer", ""),
        ("village_id", ""),
        ("hours_credited", ""),
        ("notes", ""),
    ]
}

async fn organizer(app: &TestApp) -> Session {
    app.user("organizer", Role::Organizer, None).await;
    app.session("organizer").await
}

async fn all_sessions(app: &TestApp) -> Vec<store::sessions::Session> {
    let filter = store::sessions::SessionFilter {
        period: pufa::domain::dates::Period::everything(),
        village: VillageScope::Any,
        include_township: false,
        kind: None,
        status: None,
    };
    store::sessions::list(&app.db, &filter, 1000, 0)
        .await
        .unwrap()
}

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

async fn monthly_series_with_following_edits_and_cancellation(backend: Backend) {
    let Some(app) = TestApp::spawn(backend, "monthly_series").await else {
        return;
    };
    let cadre = app.person("镇干部甲", None).await;
    let organizer = organizer(&app).await;
    let mut form = session_form(
        "会前学法",
        "2021-01-01",
        "08:30",
        "09:00",
        "镇政府三楼会议室",
        "",
    );
    form.extend([
        ("repeat", "monthly_nth"),
        ("nth", "1"),
        ("nth_weekday", "1"),
        ("end", "count"),
        ("count", "6"),
    ]);
    let reply = organizer.post("/sessions", &form).await;
    assert_eq!(reply.status, Status::SeeOther, "{}", reply.body);
    let sessions = all_sessions(&app).await;
    let dates: Vec<NaiveDate> = sessions.iter().map(|s| s.starts_at.date()).collect();
    assert_eq!(
        dates,
        vec![
            day(2021, 1, 4),
            day(2021, 2, 1),
            day(2021, 3, 1),
            day(2021, 4, 5),
            day(2021, 5, 3),
            day(2021, 6, 7)
        ]
    );
    assert!(sessions
        .iter()
        .all(|s| s.series_id.is_some() && s.hours_credited == 0.5));
    let page = organizer
        .get(&format!("/sessions/{}", sessions[0].id))
        .await;
    assert!(page.body.contains("每月第一个周一"), "{}", page.body);

    // April is held (attendance recorded) before the organizer changes “this and following” from March.
    let april = sessions[3].id;
    organizer
        .post(
            &format!("/sessions/{april}/invite"),
            &[("person_ids", &cadre.to_string())],
        )
        .await;
    let c = cadre.to_string();
    let reply = organizer
        .post(
            &format!("/sessions/{april}/attendance"),
            &[
                ("rows[0].person_id", c.as_str()),
                ("rows[0].status", "present"),
                ("rows[0].hours", ""),
            ],
        )
        .await;
    assert_eq!(reply.status, Status::SeeOther);
    let march = sessions[2].id;
    let mut edit = session_form(
        "会前学法（宪法）",
        "2021-03-01",
        "09:00",
        "10:00",
        "党群服务中心",
        "",
    );
    edit.push(("scope", "following"));
    let reply = organizer.post(&format!("/sessions/{march}"), &edit).await;
    assert_eq!(reply.status, Status::SeeOther, "{}", reply.body);
    let after = all_sessions(&app).await;
    let summary: Vec<(NaiveDate, String, String, SessionStatus)> = after
        .iter()
        .map(|s| {
            (
                s.starts_at.date(),
                s.starts_at.format("%H:%M").to_string(),
                s.venue.clone(),
                s.status,
            )
        })
        .collect();
    let old = || "镇政府三楼会议室".to_string();
    let new = || "党群服务中心".to_string();
    assert_eq!(
        summary,
        vec![
            (
                day(2021, 1, 4),
                "08:30".into(),
                old(),
                SessionStatus::Planned
            ),
            (
                day(2021, 2, 1),
                "08:30".into(),
                old(),
                SessionStatus::Planned
            ),
            (
                day(2021, 3, 1),
                "09:00".into(),
                new(),
                SessionStatus::Planned
            ),
            (day(2021, 4, 5), "08:30".into(), old(), SessionStatus::Held),
            (
                day(2021, 5, 3),
                "09:00".into(),
                new(),
                SessionStatus::Planned
            ),
            (
                day(2021, 6, 7),
                "09:00".into(),
                new(),
                SessionStatus::Planned
            ),
        ]
    );
    assert_eq!(after[2].hours_credited, 1.0);

    // Editing only one occurrence leaves the others alone.
    let mut one = session_form(
        "二月特别学法",
        "2021-02-01",
        "08:30",
        "09:00",
        "镇政府三楼会议室",
        "",
    );
    one.push(("scope", "this"));
    organizer
        .post(&format!("/sessions/{}", after[1].id), &one)
        .await;
    let topics: Vec<String> = all_sessions(&app)
        .await
        .iter()
        .map(|s| s.topic.clone())
        .collect();
    assert_eq!(topics[1], "二月特别学法");
    assert_eq!(topics[0], "会前学法");
    assert_eq!(topics[4], "会前学法（宪法）");

    // Cancelling February and the following ones does not touch the held April session.
    let reply = organizer
        .post(
            &format!("/sessions/{}/cancel", after[1].id),
            &[("scope", "following")],
        )
        .await;
    assert_eq!(reply.status, Status::SeeOther);
    let statuses: Vec<SessionStatus> = all_sessions(&app).await.iter().map(|s| s.status).collect();
    use SessionStatus::*;
    assert_eq!(
        statuses,
        vec![Planned, Cancelled, Cancelled, Held, Cancelled, Cancelled]
    );
    // A held session cannot be cancelled.
    let reply = organizer
        .post(&format!("/sessions/{april}/cancel"), &[("scope", "this")])
        .await;
    assert_eq!(reply.status, Status::SeeOther);
    assert_eq!(
        store::sessions::get(&app.db, april)
            .await
            .unwrap()
            .unwrap()
            .status,
        Held
    );
}

async fn conflicts_warn_and_can_be_overridden(backend: Backend) {
    let Some(app) = TestApp::spawn(backend, "conflicts_warn").await else {
        return;
    };
    let organizer = organizer(&app).await;
    let first = session_form(
        "党委会专题学法",
        "2021-03-01",
        "09:00",
        "10:00",
        "镇政府三楼会议室",
        "王律师",
    );
    assert_eq!(
        organizer.post("/sessions", &first).await.status,
        Status::SeeOther
    );

    // Same venue, overlapping: a warning naming the other session; nothing saved.
    let clash = session_form(
        "法治讲座",
        "2021-03-01",
        "09:30",
        "11:00",
        "镇政府三楼会议室",
        "",
    );
    let reply = organizer.post("/sessions", &clash).await;
    assert_eq!(reply.status, Status::Ok);
    assert!(
        reply.body.contains("时间冲突")
            && reply.body.contains("党委会专题学法")
            && reply.body.contains("同一地点"),
        "{}",
        reply.body
    );
    assert_eq!(all_sessions(&app).await.len(), 1);
    // Same speaker elsewhere at the same time.
    let speaker = session_form(
        "法治讲座",
        "2021-03-01",
        "09:30",
        "11:00",
        "村委会",
        "王律师",
    );
    let reply = organizer.post("/sessions", &speaker).await;
    assert!(reply.body.contains("同一主讲人"), "{}", reply.body);
    // Back to back in the same room only touches: no warning.
    let next = session_form(
        "法治讲座",
        "2021-03-01",
        "10:00",
        "11:00",
        "镇政府三楼会议室",
        "王律师",
    );
    assert_eq!(
        organizer.post("/sessions", &next).await.status,
        Status::SeeOther
    );
    // The organizer may save anyway.
    let mut anyway = clash.clone();
    anyway.push(("confirm", "true"));
    assert_eq!(
        organizer.post("/sessions", &anyway).await.status,
        Status::SeeOther
    );
    assert_eq!(all_sessions(&app).await.len(), 3);

    // Invitee overlap: the same person invited to two sessions at the same time.
    let person = app.person("李四", None).await.to_string();
    let sessions = all_sessions(&app).await;
    let (a, b) = (
        sessions[0].id,
        sessions
            .iter()
            .find(|s| s.topic == "法治讲座" && s.starts_at.format("%H:%M").to_string() == "09:30")
            .unwrap()
            .id,
    );
    assert_eq!(
        organizer
            .post(&format!("/sessions/{a}/invite"), &[("person_ids", &person)])
            .await
            .status,
        Status::SeeOther
    );
    let reply = organizer
        .post(&format!("/sessions/{b}/invite"), &[("person_ids", &person)])
        .await;
    assert_eq!(reply.status, Status::Ok);
    assert!(
        reply.body.contains("参学人员重叠") && reply.body.contains("李四"),
        "{}",
        reply.body
    );
    assert!(store::sessions::invitees(&app.db, b)
        .await
        .unwrap()
        .is_empty());
    let reply = organizer
        .post(
            &format!("/sessions/{b}/invite"),
            &[("person_ids", &person), ("confirm", "true")],
        )
        .await;
    assert_eq!(reply.status, Status::SeeOther);
    assert_eq!(
        store::sessions::invitees(&app.db, b).await.unwrap().len(),
        1
    );
}

async fn person_with(
    app: &TestApp,
    name: &str,
    village: Option<i64>,
    category: &str,
    phone: &str,
) -> i64 {
    let input = PersonInput {
        name: name.into(),
        village_id: village,
        phone: phone.into(),
        categories: vec![(category.into(), String::new(), String::new())],
        ..PersonInput::default()
    };
    people::create_person(&app.db, &Actor::operator(), &input)
        .await
        .unwrap()
}

async fn attendance_adds_up_on_the_person_page_and_in_the_requirement_list(backend: Backend) {
    let Some(app) = TestApp::spawn(backend, "attendance_adds_up").await else {
        return;
    };
    let a = person_with(&app, "张镇干", None, "township_cadre", "").await;
    let b = person_with(&app, "赵镇干", None, "township_cadre", "").await;
    let organizer = organizer(&app).await;
    let s1 = app
        .study_session(None, "2021-03-01", "09:00", "第一次")
        .await;
    let s2 = app
        .study_session(None, "2021-04-01", "09:00", "第二次")
        .await;
    let s3 = app
        .study_session(None, "2021-05-01", "09:00", "第三次")
        .await;
    let (a_id, b_id) = (a.to_string(), b.to_string());
    for s in [s1, s2, s3] {
        let reply = organizer
            .post(
                &format!("/sessions/{s}/invite"),
                &[("by_group", "true"), ("category", "township_cadre")],
            )
            .await;
        assert_eq!(reply.status, Status::SeeOther, "{}", reply.body);
    }
    let mark = |s: i64, status_a: &'static str, hours_a: &'static str| {
        let (a_id, b_id) = (a_id.clone(), b_id.clone());
        let organizer = &organizer;
        async move {
            let reply = organizer
                .post(
                    &format!("/sessions/{s}/attendance"),
                    &[
                        ("rows[0].person_id", a_id.as_str()),
                        ("rows[0].status", status_a),
                        ("rows[0].hours", hours_a),
                        ("rows[1].person_id", b_id.as_str()),
                        ("rows[1].status", "absent"),
                        ("rows[1].hours", ""),
                    ],
                )
                .await;
            assert_eq!(reply.status, Status::SeeOther);
        }
    };
    mark(s1, "present", "").await; // 1 hour by default
    mark(s2, "late", "0.5").await;
    mark(s3, "excused", "").await;
    let study = pufa::services::attendance::study_year(&app.db, a, 2021)
        .await
        .unwrap();
    assert_eq!((study.attended, study.expected), (2, 3));
    assert_eq!(study.hours, 1.5);
    assert_eq!(study.rate_percent, Some(66.7));
    let page = organizer.get(&format!("/people/{a}?year=2021")).await;
    assert!(
        page.body.contains("<strong>1.5</strong>") && page.body.contains("66.7%"),
        "{}",
        page.body
    );
    assert!(page.body.contains("迟到") && page.body.contains("请假"));

    // Requirement: 2 sessions and 3 hours a year. A has 2 sessions but 1.5 hours; B nothing.
    let admin_id = app.user("admin", Role::Admin, None).await;
    let _ = admin_id;
    let admin = app.session("admin").await;
    let reply = admin
        .post(
            "/settings/requirements",
            &[
                ("category", "township_cadre"),
                ("session_kind", ""),
                ("min_sessions", "2"),
                ("min_hours", "3"),
            ],
        )
        .await;
    assert_eq!(reply.status, Status::SeeOther);
    let today = day(2021, 12, 31);
    let rows =
        pufa::services::attendance::shortfalls(&app.db, &Actor::operator(), 2021, today, None)
            .await
            .unwrap();
    let found: Vec<(i64, i64, f64)> = rows
        .iter()
        .map(|r| (r.person_id, r.sessions_attended, r.hours))
        .collect();
    assert_eq!(found, vec![(a, 2, 1.5), (b, 0, 0.0)]);
    // Only 会前学法 counted when the requirement names it; lectures do not count.
    admin
        .post(
            "/settings/requirements",
            &[
                ("category", "township_cadre"),
                ("session_kind", "lecture"),
                ("min_sessions", "1"),
                ("min_hours", "0"),
            ],
        )
        .await;
    let rows =
        pufa::services::attendance::shortfalls(&app.db, &Actor::operator(), 2021, today, None)
            .await
            .unwrap();
    assert_eq!(
        rows.iter().filter(|r| r.session_kind == "lecture").count(),
        2
    );
    let page = organizer.get("/sessions/requirements?year=2021").await;
    assert!(page.body.contains("张镇干") && page.body.contains("赵镇干"));
    // A past year is counted in full, not "to today".
    assert!(
        !page.body.contains("统计截至今日") && page.body.contains("按全年统计"),
        "{}",
        page.body
    );
    let this_year = Local::now().year();
    let current = organizer
        .get(&format!("/sessions/requirements?year={this_year}"))
        .await;
    assert!(current.body.contains("统计截至今日"), "{}", current.body);
    let (status, _, bytes) = organizer
        .get_bytes("/sessions/requirements.xlsx?year=2021")
        .await;
    assert_eq!(status, Status::Ok);
    let mut book = Xlsx::new(Cursor::new(bytes)).unwrap();
    let range = book.worksheet_range("2021年学法未达标人员").unwrap();
    assert_eq!(
        range.get_value((1, 0)),
        Some(&Data::String("张镇干".into()))
    );
}

async fn a_grid_with_one_invalid_row_changes_nothing(backend: Backend) {
    let Some(app) = TestApp::spawn(backend, "grid_invalid_row").await else {
        return;
    };
    let a = app.person("甲", None).await.to_string();
    let b = app.person("乙", None).await.to_string();
    let s = app.study_session(None, "2021-03-01", "09:00", "学法").await;
    let organizer = organizer(&app).await;
    organizer
        .post(
            &format!("/sessions/{s}/invite"),
            &[("person_ids", &a), ("person_ids", &b)],
        )
        .await;
    let reply = organizer
        .post(
            &format!("/sessions/{s}/attendance"),
            &[
                ("rows[0].person_id", a.as_str()),
                ("rows[0].status", "present"),
                ("rows[0].hours", "1"),
                ("rows[1].person_id", b.as_str()),
                ("rows[1].status", "present"),
                ("rows[1].hours", "一小时"),
            ],
        )
        .await;
    // The grid comes back as it was filled in, with the message on the wrong line
    // (issue 15: one bad 学时 cell no longer throws the organizer's work away).
    assert_eq!(reply.status, Status::Ok);
    let page = reply;
    assert!(page.body.contains("考勤未保存"), "{}", page.body);
    assert!(
        page.body.contains("value=\"一小时\"") && page.body.contains("line-error"),
        "{}",
        page.body
    );
    assert_eq!(
        page.body.matches("value=\"present\" checked").count(),
        2,
        "both posted marks are kept"
    );
    let grid = store::attendance::grid(&app.db, s, VillageScope::Any)
        .await
        .unwrap();
    assert!(grid.iter().all(|r| r.status.is_none()), "nothing saved");
    assert_eq!(
        store::sessions::get(&app.db, s)
            .await
            .unwrap()
            .unwrap()
            .status,
        SessionStatus::Planned
    );
    // Somebody not on the list cannot be slipped into the grid either.
    let stranger = app.person("丙", None).await.to_string();
    organizer
        .post(
            &format!("/sessions/{s}/attendance"),
            &[
                ("rows[0].person_id", stranger.as_str()),
                ("rows[0].status", "present"),
                ("rows[0].hours", ""),
            ],
        )
        .await;
    assert!(store::attendance::grid(&app.db, s, VillageScope::Any)
        .await
        .unwrap()
        .iter()
        .all(|r| r.status.is_none()));
    // The history names who changed what once it is saved.
    organizer
        .post(
            &format!("/sessions/{s}/attendance"),
            &[
                ("rows[0].person_id", a.as_str()),
                ("rows[0].status", "late"),
                ("rows[0].hours", "0.5"),
            ],
        )
        .await;
    let page = organizer.get(&format!("/sessions/{s}")).await;
    assert!(
        page.body.contains("甲：— → 迟到 0.5学时") && page.body.contains("organizer"),
        "{}",
        page.body
    );
}

async fn insert_session_around_now(
    app: &TestApp,
    village: Option<i64>,
    from_now_minutes: i64,
) -> store::sessions::Session {
    let start = Local::now().naive_local() + Duration::minutes(from_now_minutes);
    let draft = SessionDraft {
        kind: SessionKind::Collective,
        topic: "集中学法".into(),
        starts_at: start,
        ends_at: start + Duration::hours(1),
        venue: String::new(),
        speaker: String::new(),
        organizer: String::new(),
        village_id: village,
        hours_credited: 1.0,
        notes: String::new(),
    };
    let id = store::sessions::create(&app.db, &draft, None)
        .await
        .unwrap();
    store::sessions::get(&app.db, id).await.unwrap().unwrap()
}

async fn self_checkin_by_name_and_phone_digits(backend: Backend) {
    let Some(app) = TestApp::spawn(backend, "self_checkin").await else {
        return;
    };
    let village = app.village("龙凤村").await;
    let other = app.village("石桥村").await;
    let member = person_with(&app, "王五", Some(village), "villager", "13812345678").await;
    person_with(&app, "外村人", Some(other), "villager", "13900001111").await;
    let now_session = insert_session_around_now(&app, Some(village), 10).await;
    let phone = app.anonymous().await;
    let path = app.checkin_path(&now_session);
    let page = phone.get(&path).await;
    assert_eq!(page.status, Status::Ok);
    assert!(page.body.contains("手机号后四位"));

    let reply = phone
        .post(&path, &[("name", "王五"), ("phone_last4", "5678")])
        .await;
    assert!(reply.body.contains("签到成功"), "{}", reply.body);
    let grid = store::attendance::grid(&app.db, now_session.id, VillageScope::Any)
        .await
        .unwrap();
    assert_eq!(grid.len(), 1);
    assert_eq!(
        (
            grid[0].person_id,
            grid[0].status.as_deref(),
            grid[0].source.as_deref()
        ),
        (member, Some("present"), Some("self_checkin"))
    );
    let again = phone
        .post(&path, &[("name", "王五"), ("phone_last4", "5678")])
        .await;
    assert!(
        again.body.contains("您已签到，无需重复签到"),
        "{}",
        again.body
    );
    assert_eq!(
        store::attendance::grid(&app.db, now_session.id, VillageScope::Any)
            .await
            .unwrap()
            .len(),
        1
    );

    // Wrong digits, an unknown name and another village's person get the same answer.
    let wrong = phone
        .post(&path, &[("name", "王五"), ("phone_last4", "0000")])
        .await;
    let unknown = phone
        .post(&path, &[("name", "不存在的人"), ("phone_last4", "5678")])
        .await;
    let outsider = phone
        .post(&path, &[("name", "外村人"), ("phone_last4", "1111")])
        .await;
    let message = "姓名或手机号后四位不正确";
    assert!(
        wrong.body.contains(message)
            && unknown.body.contains(message)
            && outsider.body.contains(message)
    );
    assert_eq!(
        store::attendance::grid(&app.db, now_session.id, VillageScope::Any)
            .await
            .unwrap()
            .len(),
        1
    );
    // Repeated wrong answers from one address are slowed down.
    for _ in 0..3 {
        phone
            .post(&path, &[("name", "王五"), ("phone_last4", "0001")])
            .await;
    }
    let throttled = phone
        .post(&path, &[("name", "王五"), ("phone_last4", "5678")])
        .await;
    assert!(
        throttled.body.contains("尝试次数过多"),
        "{}",
        throttled.body
    );

    // Outside the window: not yet open, or closed.
    let tomorrow = insert_session_around_now(&app, Some(village), 24 * 60).await;
    let page = phone.get(&app.checkin_path(&tomorrow)).await;
    assert!(page.body.contains("签到尚未开始"), "{}", page.body);
    let fresh = app.anonymous().await;
    let early = fresh
        .post(
            &app.checkin_path(&tomorrow),
            &[("name", "王五"), ("phone_last4", "5678")],
        )
        .await;
    assert!(early.body.contains("签到尚未开始"));
    let past = insert_session_around_now(&app, Some(village), -3 * 60).await;
    let page = fresh.get(&app.checkin_path(&past)).await;
    assert!(page.body.contains("签到已结束"), "{}", page.body);
    assert!(
        store::attendance::grid(&app.db, tomorrow.id, VillageScope::Any)
            .await
            .unwrap()
            .is_empty()
    );
    // The organizer reopens it.
    let organizer = organizer(&app).await;
    organizer
        .post(&format!("/sessions/{}/checkin/reopen", past.id), &[])
        .await;
    let reply = fresh
        .post(
            &app.checkin_path(&past),
            &[("name", "王五"), ("phone_last4", "5678")],
        )
        .await;
    assert!(reply.body.contains("签到成功"), "{}", reply.body);
    assert_eq!(
        fresh.get("/checkin/not-a-token").await.status,
        Status::NotFound
    );

    // The database holds no working link: the stored seed, or another meeting's signature
    // under this meeting's number, opens nothing.
    let stored = format!("/checkin/{}", past.checkin_token);
    assert_eq!(fresh.get(&stored).await.status, Status::NotFound);
    let past_link = app.checkin_path(&past);
    let signature = past_link.rsplit('.').next().unwrap_or_default();
    let forged = format!("/checkin/{}.{signature}", tomorrow.id);
    assert_eq!(fresh.get(&forged).await.status, Status::NotFound);
    // The session page shows the working link.
    let page = organizer.get(&format!("/sessions/{}", past.id)).await;
    assert!(
        page.body.contains(&past_link.replace('/', "&#x2F;")),
        "the session page shows {past_link}"
    );
    // A link printed by an earlier version (the token kept in full) keeps working once
    // the token is replaced by its hash, and the full token is gone from the database.
    let old_token = "an-old-token-kept-in-full-0123456789";
    store::sessions::set_checkin_seed(&app.db, past.id, old_token)
        .await
        .unwrap();
    let converted = pufa::services::attendance::hash_stored_checkin_tokens(&app.db)
        .await
        .unwrap();
    assert_eq!(converted, 1);
    let kept = store::sessions::get(&app.db, past.id)
        .await
        .unwrap()
        .unwrap();
    assert!(
        kept.checkin_token.starts_with("legacy:"),
        "{}",
        kept.checkin_token
    );
    assert!(!kept.checkin_token.contains(old_token));
    let page = fresh.get(&format!("/checkin/{old_token}")).await;
    assert_eq!(page.status, Status::Ok);
    assert!(page.body.contains("手机号后四位"));
}

async fn sign_in_sheet_carries_the_session_number(backend: Backend) {
    let Some(app) = TestApp::spawn(backend, "sign_in_sheet").await else {
        return;
    };
    let village = app.village("龙凤村").await;
    let s = app
        .study_session(Some(village), "2021-03-01", "09:00", "民法典学习")
        .await;
    let organizer = organizer(&app).await;
    let a = app
        .person("=HYPERLINK(\"x\")", Some(village))
        .await
        .to_string();
    organizer
        .post(&format!("/sessions/{s}/invite"), &[("person_ids", &a)])
        .await;
    let (status, _, bytes) = organizer
        .get_bytes(&format!("/sessions/{s}/signin.xlsx"))
        .await;
    assert_eq!(status, Status::Ok);
    let mut book = Xlsx::new(Cursor::new(bytes)).expect("xlsx");
    let range = book.worksheet_range("签到表").unwrap();
    let text = |r: u32, c: u32| match range.get_value((r, c)) {
        Some(Data::String(s)) => s.clone(),
        other => format!("{other:?}"),
    };
    assert_eq!(text(1, 0), pufa::sheets::signin::NUMBER_LABEL);
    let number = text(1, 1);
    assert_eq!(store::sessions::parse_session_number(&number), Some(s));
    assert_eq!(text(1, 3), "民法典学习");
    let header_row = pufa::sheets::signin::HEADER_ROW;
    assert_eq!(text(header_row, 4), "签名");
    assert_eq!(text(header_row + 1, 1), "=HYPERLINK(\"x\")");
    let print = organizer.get(&format!("/sessions/{s}/signin")).await;
    assert!(print.body.contains(&number) && print.body.contains("签名"));
}

async fn clerk_sees_township_sessions_read_only(backend: Backend) {
    let Some(app) = TestApp::spawn(backend, "clerk_township_sessions").await else {
        return;
    };
    let own = app.village("龙凤村").await;
    let other = app.village("石桥村").await;
    let mine = app.person("本村干部", Some(own)).await.to_string();
    let theirs = app.person("外村干部", Some(other)).await.to_string();
    let township = app
        .study_session(None, "2021-03-01", "09:00", "全镇集中学法")
        .await;
    let other_village = app
        .study_session(Some(other), "2021-03-02", "09:00", "石桥村学法")
        .await;
    let organizer = organizer(&app).await;
    organizer
        .post(
            &format!("/sessions/{township}/invite"),
            &[("person_ids", &mine), ("person_ids", &theirs)],
        )
        .await;
    app.user("clerk", Role::Clerk, Some(own)).await;
    let clerk = app.session("clerk").await;
    let page = clerk.get(&format!("/sessions/{township}")).await;
    assert_eq!(page.status, Status::Ok);
    assert!(
        page.body.contains("本村干部") && !page.body.contains("外村干部"),
        "{}",
        page.body
    );
    assert!(!page.body.contains("保存考勤"));
    let reply = clerk
        .post(
            &format!("/sessions/{township}/attendance"),
            &[
                ("rows[0].person_id", mine.as_str()),
                ("rows[0].status", "present"),
                ("rows[0].hours", ""),
            ],
        )
        .await;
    assert_eq!(reply.status, Status::Forbidden);
    assert_eq!(
        clerk
            .get(&format!("/sessions/{other_village}"))
            .await
            .status,
        Status::NotFound
    );
    assert_eq!(
        clerk
            .get(&format!("/sessions/{township}/edit"))
            .await
            .status,
        Status::Forbidden
    );
    let list = clerk.get("/sessions?year=2021").await;
    assert!(list.body.contains("全镇集中学法") && !list.body.contains("石桥村学法"));
    let (_, _, bytes) = clerk
        .get_bytes(&format!("/sessions/{township}/signin.xlsx"))
        .await;
    let mut book = Xlsx::new(Cursor::new(bytes)).unwrap();
    let range = book.worksheet_range("签到表").unwrap();
    let names: Vec<String> = range
        .rows()
        .skip(6)
        .filter_map(|r| r.get(1).map(|c| c.to_string()))
        .filter(|n| !n.is_empty())
        .collect();
    assert_eq!(names, vec!["本村干部".to_string()]);
    // Their own village's session they manage.
    let form = session_form("本村学法", "2021-04-01", "09:00", "10:00", "", "");
    let mut form: Vec<(&str, &str)> = form
        .into_iter()
        .filter(|(k, _)| *k != "village_id")
        .collect();
    let own_id = own.to_string();
    form.push(("village_id", &own_id));
    assert_eq!(
        clerk.post("/sessions", &form).await.status,
        Status::SeeOther
    );
    let mut township_form = form.clone();
    township_form.retain(|(k, _)| *k != "village_id");
    township_form.push(("village_id", ""));
    assert_eq!(
        clerk.post("/sessions", &township_form).await.status,
        Status::Forbidden
    );
}

async fn calendar_feed_needs_the_token(backend: Backend) {
    let Some(app) = TestApp::spawn(backend, "calendar_feed").await else {
        return;
    };
    let today = Local::now().date_naive().format("%Y-%m-%d").to_string();
    app.study_session(None, &today, "09:00", "法治讲座：民法典")
        .await;
    let organizer = organizer(&app).await;
    let made = organizer.post("/sessions/feed-token", &[]).await;
    assert_eq!(made.status, Status::Ok);
    assert!(
        !made.body.contains("原来的订阅地址已失效"),
        "there was none"
    );
    // The address is shown this once; only its hash is kept.
    let token = made
        .body
        .split("sessions.ics?token=")
        .nth(1)
        .and_then(|rest| rest.split('<').next())
        .expect("the new address is shown")
        .to_string();
    let user = store::users::find_by_username(&app.db, "organizer")
        .await
        .unwrap()
        .unwrap();
    let stored: Option<String> = match &app.db {
        store::Db::Sqlite(pool) => {
            sqlx::query_scalar("SELECT calendar_token FROM users WHERE id = $1")
                .bind(user.id)
                .fetch_one(pool)
                .await
                .unwrap()
        }
        store::Db::Postgres(pool) => {
            sqlx::query_scalar("SELECT calendar_token FROM users WHERE id = $1")
                .bind(user.id)
                .fetch_one(pool)
                .await
                .unwrap()
        }
    };
    assert_eq!(stored, Some(pufa::services::passwords::token_hash(&token)));
    let list = organizer.get("/sessions").await;
    assert!(!list.body.contains(&token), "not shown again");
    assert!(list.body.contains("您已生成专属订阅地址"));
    // A token an earlier version kept in full is hashed at start, and its address works.
    let legacy = "legacy-token-0123456789abcdefgh";
    let viewer = app.user("viewer", Role::Viewer, None).await;
    let set = "UPDATE users SET calendar_token = $1 WHERE id = $2";
    match &app.db {
        store::Db::Sqlite(pool) => {
            sqlx::query(set)
                .bind(legacy)
                .bind(viewer)
                .execute(pool)
                .await
                .unwrap();
        }
        store::Db::Postgres(pool) => {
            sqlx::query(set)
                .bind(legacy)
                .bind(viewer)
                .execute(pool)
                .await
                .unwrap();
        }
    }
    assert_eq!(
        pufa::services::sessions::hash_stored_feed_tokens(&app.db)
            .await
            .unwrap(),
        1
    );
    let old = app.anonymous().await;
    assert_eq!(
        old.get(&format!("/sessions.ics?token={legacy}"))
            .await
            .status,
        Status::Ok
    );
    let anonymous = app.anonymous().await;
    let feed = anonymous.get(&format!("/sessions.ics?token={token}")).await;
    assert_eq!(feed.status, Status::Ok);
    // Long lines are folded (RFC 5545); unfold before looking for the text.
    let unfolded = feed.body.replace("\r\n ", "");
    assert!(
        unfolded.starts_with("BEGIN:VCALENDAR") && unfolded.contains("法治讲座：民法典"),
        "{}",
        unfolded
    );
    assert_eq!(
        anonymous
            .get("/sessions.ics?token=wrong-token-000000000000")
            .await
            .status,
        Status::NotFound
    );
    // A new token replaces the old one.
    organizer.post("/sessions/feed-token", &[]).await;
    assert_eq!(
        anonymous
            .get(&format!("/sessions.ics?token={token}"))
            .await
            .status,
        Status::NotFound
    );
}

async fn checkin_throttle_ignores_addresses_the_client_claims(backend: Backend) {
    let Some(app) = TestApp::spawn(backend, "forged_addresses").await else {
        return;
    };
    let village = app.village("龙凤村").await;
    person_with(&app, "王五", Some(village), "villager", "13812345678").await;
    let session = insert_session_around_now(&app, Some(village), 10).await;
    let path = app.checkin_path(&session);
    let phone = app.anonymous().await;
    // Guessing the last four digits, each guess claiming another address.
    for guess in 0..40 {
        let claimed = format!("10.0.{}.{}", guess / 200, guess % 200 + 1);
        let digits = format!("{:04}", 1000 + guess);
        phone
            .post_claiming(
                &path,
                &[("name", "王五"), ("phone_last4", digits.as_str())],
                &[("X-Real-IP", claimed)],
            )
            .await;
    }
    let right_guess = phone
        .post_claiming(
            &path,
            &[("name", "王五"), ("phone_last4", "5678")],
            &[("X-Real-IP", "192.168.77.77".into())],
        )
        .await;
    assert!(
        right_guess.body.contains("尝试次数过多"),
        "{}",
        right_guess.body
    );
    assert!(
        store::attendance::grid(&app.db, session.id, VillageScope::Any)
            .await
            .unwrap()
            .is_empty()
    );
}

async fn the_same_walk_in_twice_is_one_person(backend: Backend) {
    let Some(app) = TestApp::spawn(backend, "walk_in_twice").await else {
        return;
    };
    let village = app.village("龙凤村").await;
    let registered = person_with(&app, "王五", Some(village), "villager", "13812345678").await;
    let session = app
        .study_session(Some(village), "2021-03-01", "09:00", "学习宪法")
        .await;
    app.user("organizer", Role::Organizer, None).await;
    let organizer = app.session("organizer").await;
    let path = format!("/sessions/{session}/walk-in");
    for _ in 0..2 {
        let reply = organizer
            .post(
                &path,
                &[
                    ("person_id", ""),
                    ("name", "赵新来"),
                    ("phone", "13900001111"),
                ],
            )
            .await;
        assert_eq!(reply.status, Status::SeeOther, "{}", reply.body);
    }
    // A walk-in whose name and phone are a registered person's is that person.
    organizer
        .post(
            &path,
            &[
                ("person_id", ""),
                ("name", "王五"),
                ("phone", "13812345678"),
            ],
        )
        .await;
    let grid = store::attendance::grid(&app.db, session, VillageScope::Any)
        .await
        .unwrap();
    let names: Vec<&str> = grid.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(grid.len(), 2, "{names:?}");
    assert!(grid.iter().any(|r| r.person_id == registered));
    let filter = store::people::PersonFilter {
        name_contains: Some("赵新来".into()),
        ..Default::default()
    };
    assert_eq!(store::people::count(&app.db, &filter).await.unwrap(), 1);
}

async fn ticking_a_village_and_a_category_is_the_condition(backend: Backend) {
    let Some(app) = TestApp::spawn(backend, "invite_condition").await else {
        return;
    };
    let village = app.village("龙凤村").await;
    let cadre = person_with(
        &app,
        "村干部甲",
        Some(village),
        "village_cadre",
        "13800000001",
    )
    .await;
    person_with(&app, "群众乙", Some(village), "villager", "13800000002").await;
    let session = app
        .study_session(Some(village), "2021-03-01", "09:00", "学习宪法")
        .await;
    app.user("organizer", Role::Organizer, None).await;
    let organizer = app.session("organizer").await;
    let v = village.to_string();
    // The clerk ticks the village and picks 村干部, without the 按以下条件加入 box.
    let reply = organizer
        .post(
            &format!("/sessions/{session}/invite"),
            &[("villages", v.as_str()), ("category", "village_cadre")],
        )
        .await;
    assert_eq!(reply.status, Status::SeeOther, "{}", reply.body);
    let invited = store::sessions::invitees(&app.db, session).await.unwrap();
    assert_eq!(
        invited.iter().map(|i| i.person_id).collect::<Vec<_>>(),
        vec![cadre]
    );
}

async fn a_qr_code_for_the_server_only_says_so(backend: Backend) {
    let Some(app) = TestApp::spawn(backend, "local_qr").await else {
        return;
    };
    let village = app.village("龙凤村").await;
    let session = app
        .study_session(Some(village), "2021-03-01", "09:00", "学习宪法")
        .await;
    app.user("organizer", Role::Organizer, None).await;
    let organizer = app.session("organizer").await;
    let path = format!("/sessions/{session}");
    for (host, local) in [
        ("127.0.0.1:8000", true),
        ("localhost:8000", true),
        ("192.168.1.10:8000", false),
    ] {
        let response = organizer
            .client
            .get(path.clone())
            .header(rocket::http::Header::new("Host", host))
            .dispatch()
            .await;
        let body = response.into_string().await.unwrap_or_default();
        // The QR code's address is shown under it (Tera escapes its slashes).
        assert!(
            body.contains(&format!("{host}&#x2F;checkin&#x2F;")),
            "{host}"
        );
        assert_eq!(body.contains("这个地址是本机地址"), local, "{host}");
    }
}

async fn meetings_over_without_attendance_are_pointed_out(backend: Backend) {
    let Some(app) = TestApp::spawn(backend, "overdue_sessions").await else {
        return;
    };
    let village = app.village("龙凤村").await;
    // Two past sessions, one of them held (attendance taken), and one in the future.
    let past = app
        .study_session(Some(village), "2021-03-01", "09:00", "学习宪法")
        .await;
    let held = app
        .study_session(Some(village), "2021-04-01", "09:00", "学习民法典")
        .await;
    let someone = app.person("张三", Some(village)).await;
    store::attendance::save_marks(
        &app.db,
        held,
        &[store::attendance::Mark {
            person_id: someone,
            status: pufa::domain::session::AttendanceStatus::Present,
            hours_credited: 1.0,
        }],
        pufa::domain::session::AttendanceSource::Manual,
        None,
    )
    .await
    .unwrap();
    let future = (chrono::Local::now() + chrono::Duration::days(30)).date_naive();
    app.study_session(Some(village), &future.to_string(), "09:00", "将来的学习")
        .await;
    app.user("organizer", Role::Organizer, None).await;
    let organizer = app.session("organizer").await;
    let home = organizer.get("/?year=2021").await;
    assert!(
        home.body.contains("有 1 场学法活动已过期未考勤"),
        "{}",
        home.body
    );
    let list = organizer.get("/sessions?year=2021").await;
    assert_eq!(
        list.body.matches("已过期未考勤").count(),
        1,
        "{}",
        list.body
    );
    assert!(list.body.contains(&format!("/sessions/{past}")));
    // A viewer takes no attendance and is not reminded.
    app.user("viewer", Role::Viewer, None).await;
    let viewer = app.session("viewer").await;
    assert!(!viewer
        .get("/?year=2021")
        .await
        .body
        .contains("已过期未考勤"));
}

/// Inviting to a meeting of a monthly series: this one, this and the following, or the
/// whole series (planned meetings only; a held one keeps its list).
async fn inviting_to_a_series_fills_the_chosen_meetings(backend: Backend) {
    let Some(app) = TestApp::spawn(backend, "series_invite").await else {
        return;
    };
    let a = app.village("龙凤村").await;
    let b = app.village("石桥村").await;
    let cadre_a = person_with(&app, "村干部甲", Some(a), "village_cadre", "13800000001").await;
    let cadre_b = person_with(&app, "村干部乙", Some(b), "village_cadre", "13800000002").await;
    let organizer = organizer(&app).await;
    let mut form = session_form("会前学法", "2021-01-01", "08:30", "09:00", "会议室", "");
    form.extend([
        ("repeat", "monthly_nth"),
        ("nth", "1"),
        ("nth_weekday", "1"),
        ("end", "count"),
        ("count", "6"),
    ]);
    assert_eq!(
        organizer.post("/sessions", &form).await.status,
        Status::SeeOther
    );
    let sessions = all_sessions(&app).await;
    assert_eq!(sessions.len(), 6);
    // February is held (attendance taken) before anyone is invited to the series.
    let a_id = cadre_a.to_string();
    let held = sessions[1].id;
    organizer
        .post(
            &format!("/sessions/{held}/invite"),
            &[("person_ids", &a_id)],
        )
        .await;
    organizer
        .post(
            &format!("/sessions/{held}/attendance"),
            &[
                ("rows[0].person_id", a_id.as_str()),
                ("rows[0].status", "present"),
                ("rows[0].hours", ""),
            ],
        )
        .await;
    let page = organizer
        .get(&format!("/sessions/{}/invite", sessions[3].id))
        .await;
    assert!(
        page.body.contains(r#"name="scope" value="series""#),
        "{}",
        page.body
    );
    let invitees = |id: i64| {
        let db = app.db.clone();
        async move {
            store::sessions::invitees(&db, id)
                .await
                .unwrap()
                .iter()
                .map(|i| i.person_id)
                .collect::<Vec<_>>()
        }
    };
    // From April on: April, May, June.
    let (va, vb) = (a.to_string(), b.to_string());
    let reply = organizer
        .post(
            &format!("/sessions/{}/invite", sessions[3].id),
            &[
                ("villages", va.as_str()),
                ("category", "village_cadre"),
                ("scope", "following"),
            ],
        )
        .await;
    assert_eq!(reply.status, Status::SeeOther, "{}", reply.body);
    for (i, s) in sessions.iter().enumerate() {
        let expected = match i {
            1 => vec![cadre_a],
            3..=5 => vec![cadre_a],
            _ => vec![],
        };
        assert_eq!(invitees(s.id).await, expected, "meeting {i}");
    }
    // The whole series: every planned meeting, earlier ones too; the held one is unchanged.
    let reply = organizer
        .post(
            &format!("/sessions/{}/invite", sessions[3].id),
            &[("villages", vb.as_str()), ("scope", "series")],
        )
        .await;
    assert_eq!(reply.status, Status::SeeOther, "{}", reply.body);
    for (i, s) in sessions.iter().enumerate() {
        let expected = match i {
            1 => vec![cadre_a],
            0 | 2 => vec![cadre_b],
            _ => vec![cadre_a, cadre_b],
        };
        let mut got = invitees(s.id).await;
        got.sort_unstable();
        assert_eq!(got, expected, "meeting {i}");
    }
    // "This" only: the first meeting.
    let c = app.person("镇干部丙", None).await;
    organizer
        .post(
            &format!("/sessions/{}/invite", sessions[0].id),
            &[("person_ids", c.to_string().as_str()), ("scope", "this")],
        )
        .await;
    assert!(invitees(sessions[0].id).await.contains(&c));
    assert!(!invitees(sessions[2].id).await.contains(&c));
}

/// The one-by-one list names each person's village and finds anyone by name, beyond the
/// first page.
async fn the_invite_list_shows_villages_and_finds_anyone_by_name(backend: Backend) {
    let Some(app) = TestApp::spawn(backend, "invite_search").await else {
        return;
    };
    let a = app.village("龙凤村").await;
    let b = app.village("石桥村").await;
    for i in 0..60 {
        app.person(&format!("群众{i:02}"), Some(a)).await;
    }
    app.person("钱远山", Some(b)).await;
    let session = app
        .study_session(None, "2021-03-01", "09:00", "法治讲座")
        .await;
    let organizer = organizer(&app).await;
    let page = organizer.get(&format!("/sessions/{session}/invite")).await;
    assert!(page.body.contains("群众00（龙凤村）"), "{}", page.body);
    assert!(page.body.contains("仅显示前"), "more than a page");
    assert!(!page.body.contains("钱远山"), "beyond the first page");
    let found = organizer
        .get(&format!(
            "/sessions/{session}/invite?village=&q=%E8%BF%9C%E5%B1%B1"
        ))
        .await;
    assert_eq!(found.status, Status::Ok);
    assert!(found.body.contains("钱远山（石桥村）"), "{}", found.body);
    assert!(!found.body.contains("群众00"));
    // The township's own staff (no village) are a choice of their own.
    let staff = app.person("镇长甲", None).await;
    let township = organizer
        .get(&format!("/sessions/{session}/invite?village=township"))
        .await;
    assert!(township.body.contains("镇长甲"), "{}", township.body);
    assert!(!township.body.contains("钱远山") && !township.body.contains("群众00"));
    assert!(township
        .body
        .contains("<option value=\"township\" selected>镇机关</option>"));
    // People ticked before a search stay ticked: shown ones as ticked boxes, the others
    // carried in hidden fields, and the post adds them all.
    let ticked = organizer
        .get(&format!(
            "/sessions/{session}/invite?village=township&picked={staff}&picked=999999"
        ))
        .await;
    assert!(
        ticked
            .body
            .contains(&format!("name=\"person_ids\" value=\"{staff}\" checked>")),
        "{}",
        ticked.body
    );
    assert!(ticked
        .body
        .contains("<input type=\"hidden\" name=\"person_ids\" value=\"999999\">"));
    assert!(ticked.body.contains("另有 1 人已勾选"));
    // Someone with a mark at the session (an import, a walk-in) is on its list already.
    let mark = store::attendance::Mark {
        person_id: staff,
        status: AttendanceStatus::Present,
        hours_credited: 1.0,
    };
    store::attendance::save_marks(
        &app.db,
        session,
        &[mark],
        pufa::domain::session::AttendanceSource::Import,
        None,
    )
    .await
    .unwrap();
    let marked = organizer
        .get(&format!("/sessions/{session}/invite?village=township"))
        .await;
    assert!(
        marked
            .body
            .contains(&format!("value=\"{staff}\" checked disabled>")),
        "{}",
        marked.body
    );
}

/// A self check-in never overwrites the organizer's 请假/缺席, and its audit entry names the
/// address; a parallel burst of guesses from one address is counted in full; guessing from
/// many addresses pauses check-in until the organizer reopens it.
async fn self_checkin_leaves_the_organizers_marks_and_pauses_under_guessing(backend: Backend) {
    let Some(app) = TestApp::spawn(backend, "checkin_marks_and_pause").await else {
        return;
    };
    let village = app.village("龙凤村").await;
    let excused = person_with(&app, "请假人", Some(village), "villager", "13812340001").await;
    person_with(&app, "王五", Some(village), "villager", "13812345678").await;
    let session = insert_session_around_now(&app, Some(village), 10).await;
    let organizer = organizer(&app).await;
    let e = excused.to_string();
    organizer
        .post(
            &format!("/sessions/{}/invite", session.id),
            &[("person_ids", e.as_str())],
        )
        .await;
    let reply = organizer
        .post(
            &format!("/sessions/{}/attendance", session.id),
            &[
                ("rows[0].person_id", e.as_str()),
                ("rows[0].status", "excused"),
                ("rows[0].hours", ""),
            ],
        )
        .await;
    assert_eq!(reply.status, Status::SeeOther, "{}", reply.body);
    let check_in = |name: &'static str, digits: &'static str, address: String| {
        let db = app.db.clone();
        let key = app.token_key();
        let token = pufa::services::attendance::checkin_link_token(&key, &session);
        async move {
            let now = Local::now().naive_local();
            pufa::services::attendance::self_checkin(
                &db,
                &key,
                &token,
                name,
                digits,
                &address,
                now,
                chrono::Utc::now(),
            )
            .await
            .unwrap()
        }
    };
    use pufa::services::attendance::CheckinOutcome;
    let outcome = check_in("请假人", "0001", "10.1.1.1".into()).await;
    assert!(
        matches!(
            outcome,
            CheckinOutcome::MarkedByOrganizer(_, AttendanceStatus::Excused)
        ),
        "{outcome:?}"
    );
    let grid = store::attendance::grid(&app.db, session.id, VillageScope::Any)
        .await
        .unwrap();
    let line = grid.iter().find(|l| l.person_id == excused).unwrap();
    assert_eq!(
        line.status.as_deref(),
        Some("excused"),
        "the organizer's mark stands"
    );

    assert_eq!(
        check_in("王五", "5678", "10.1.1.2".into()).await,
        CheckinOutcome::Marked("王五".into())
    );
    let log = store::audit::for_entity(&app.db, "session", session.id)
        .await
        .unwrap();
    assert!(
        log.iter().any(|r| r
            .after
            .as_deref()
            .is_some_and(|a| a.contains("10.1.1.2") && a.contains("self_checkin"))),
        "{log:#?}"
    );

    // Thirty guesses at once from one address: at most the five free ones are checked.
    let burst: Vec<_> = (0..30)
        .map(|_| tokio::spawn(check_in("王五", "0000", "10.2.2.2".into())))
        .collect();
    let mut checked = 0;
    for b in burst {
        if b.await.unwrap() == CheckinOutcome::NoMatch {
            checked += 1;
        }
    }
    assert!(checked <= 5, "{checked} guesses checked");

    // Guessing from many addresses pauses check-in for everyone, the right answer too.
    for i in 0..pufa::services::attendance::SESSION_FAILURE_CAP {
        check_in("王五", "1111", format!("10.3.{}.{}", i / 200, i % 200)).await;
    }
    assert_eq!(
        check_in("请假人", "0001", "10.9.9.9".into()).await,
        CheckinOutcome::Paused
    );
    let page = organizer.get(&format!("/sessions/{}", session.id)).await;
    assert!(
        page.body.contains("扫码签到错误次数过多，已暂停"),
        "{}",
        page.body
    );
    organizer
        .post(&format!("/sessions/{}/checkin/reopen", session.id), &[])
        .await;
    assert!(!matches!(
        check_in("王五", "5678", "10.9.9.9".into()).await,
        CheckinOutcome::Paused
    ));
}

/// "This and following" reaches only occurrences of the clerk's own village, and a conflict
/// with another village's session does not tell the clerk its topic.
async fn a_clerk_neither_changes_nor_reads_another_villages_sessions_through_a_series(
    backend: Backend,
) {
    let Some(app) = TestApp::spawn(backend, "series_scope").await else {
        return;
    };
    let own = app.village("龙凤村").await;
    let other = app.village("石桥村").await;
    app.user("clerk", Role::Clerk, Some(own)).await;
    let clerk = app.session("clerk").await;
    let v = own.to_string();
    let mut form = session_form("本村会前学法", "2021-03-01", "08:30", "09:00", "村委会", "");
    form[8] = ("village_id", v.as_str());
    form.extend([
        ("repeat", "monthly_day"),
        ("month_day", "1"),
        ("end", "count"),
        ("count", "3"),
    ]);
    let reply = clerk.post("/sessions", &form).await;
    assert_eq!(reply.status, Status::SeeOther, "{}", reply.body);
    let series = all_sessions(&app).await;
    assert_eq!(series.len(), 3);
    // The township moves the last meeting to the other village.
    let last = &series[2];
    let mut draft = last.draft();
    draft.village_id = Some(other);
    store::sessions::update_many(&app.db, &[(last.clone(), draft)], None)
        .await
        .unwrap();
    let mut edit = session_form("改过的主题", "2021-03-01", "08:30", "09:00", "村委会", "");
    edit[8] = ("village_id", v.as_str());
    edit.push(("scope", "following"));
    let reply = clerk
        .post(&format!("/sessions/{}", series[0].id), &edit)
        .await;
    assert_eq!(reply.status, Status::Forbidden, "{}", reply.body);
    let after = all_sessions(&app).await;
    assert!(
        after.iter().all(|s| s.topic == "本村会前学法"),
        "nothing changed"
    );
    let reply = clerk
        .post(
            &format!("/sessions/{}/cancel", series[0].id),
            &[("scope", "following")],
        )
        .await;
    assert_eq!(reply.status, Status::Forbidden);
    assert!(all_sessions(&app)
        .await
        .iter()
        .all(|s| s.status != SessionStatus::Cancelled));

    // Another village's session with the same speaker at the same time: a conflict, but
    // the clerk is not told its topic or given its address.
    app.study_session(Some(other), "2021-06-01", "09:00", "石桥村内部议题")
        .await;
    let theirs = all_sessions(&app)
        .await
        .into_iter()
        .find(|s| s.topic == "石桥村内部议题")
        .unwrap();
    let mut draft = theirs.draft();
    draft.speaker = "王律师".into();
    store::sessions::update_many(&app.db, &[(theirs.clone(), draft)], None)
        .await
        .unwrap();
    let mut clash = session_form("本村法治讲座", "2021-06-01", "09:00", "10:00", "", "王律师");
    clash[8] = ("village_id", v.as_str());
    let reply = clerk.post("/sessions", &clash).await;
    assert_eq!(reply.status, Status::Ok, "{}", reply.body);
    assert!(
        reply.body.contains("其他村(社区)的一场学法活动") && reply.body.contains("王律师"),
        "{}",
        reply.body
    );
    assert!(!reply.body.contains("石桥村内部议题"));
    assert!(!reply.body.contains(&format!("/sessions/{}\"", theirs.id)));
}
