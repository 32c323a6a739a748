//! The cached year figures against a full recomputation, after every kind of change: a
//! seeded random sequence of grid saves, self check-ins, imports and undos, deletes,
//! cancellations, self-study, 法律明白人 and requirements, on both databases.

use chrono::NaiveDate;
use pufa::domain::person::PersonInput;
use pufa::domain::self_study::SelfStudyInput;
use pufa::services::attendance::{self, MarkInput};
use pufa::services::imports;
use pufa::services::summary::{annual_summary, compute_summary};
use pufa::services::{activities, materials, people, self_study, sessions, Actor};

use crate::helpers::{on_both_backends, Backend, TestApp};
use crate::imports::{admin, upload};

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 28).unwrap()
}

/// xorshift64*: a reproducible sequence without a dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<T: Copy>(&mut self, items: &[T]) -> Option<T> {
        (!items.is_empty()).then(|| items[self.below(items.len())])
    }

    fn date(&mut self) -> String {
        let day = NaiveDate::from_ymd_opt(2021, 1, 1).unwrap()
            + chrono::Duration::days(self.below(365) as i64);
        day.to_string()
    }
}

on_both_backends!(cached_figures_equal_a_recomputation_after_every_change);

async fn cached_figures_equal_a_recomputation_after_every_change(backend: Backend) {
    let Some(app) = TestApp::spawn(backend, "figures_cache").await else {
        return;
    };
    let actor = admin(&app).await;
    let villages = [
        app.village("龙凤村").await,
        app.village("石桥村").await,
        app.village("双河村").await,
    ];
    let mut persons: Vec<(i64, Option<i64>)> = Vec::new();
    for (i, village) in villages.iter().enumerate() {
        for n in 0..4 {
            let input = PersonInput {
                name: format!("村民{i}{n}"),
                village_id: Some(*village),
                phone: format!("1380000{i}{n}00"),
                categories: vec![("village_cadre".into(), String::new(), String::new())],
                ..PersonInput::default()
            };
            let id = people::create_person(&app.db, &actor, &input)
                .await
                .unwrap();
            persons.push((id, Some(*village)));
        }
    }
    let material = app.material("民法典手册").await;
    let (mut sessions_made, mut distributions, mut acts, mut studies, mut batches) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let check = |step: usize, what: &'static str| {
        let app = &app;
        let actor = &actor;
        async move {
            for village in [None, Some(villages[0])] {
                let cached = annual_summary(&app.db, actor, 2021, village, today())
                    .await
                    .unwrap();
                let fresh = compute_summary(&app.db, 2021, village, today())
                    .await
                    .unwrap();
                assert_eq!(
                    cached, fresh,
                    "step {step} ({what}), village {village:?}: the cached figures are stale"
                );
            }
        }
    };
    check(0, "start").await;
    for step in 1..=60 {
        let village = rng.pick(&villages);
        let what = match rng.below(12) {
            0 | 1 => {
                let date = rng.date();
                let id = app
                    .study_session(village, &date, "09:00", &format!("学法{step}"))
                    .await;
                sessions_made.push(id);
                "session scheduled"
            }
            2 | 3 => {
                let Some(session) = rng.pick(&sessions_made) else {
                    continue;
                };
                let statuses = ["present", "late", "excused", "absent"];
                let mut lines: Vec<MarkInput> = Vec::new();
                for (id, _) in &persons {
                    if rng.below(2) == 0 {
                        lines.push(MarkInput {
                            person_id: id.to_string(),
                            status: statuses[rng.below(4)].into(),
                            hours: ["1", "1.5", "2"][rng.below(3)].into(),
                        });
                    }
                }
                // A cancelled session refuses the grid; that is a change nobody made.
                let _ = attendance::save_grid(&app.db, &actor, session, &lines).await;
                "grid saved"
            }
            4 => {
                let Some(session) = rng.pick(&sessions_made) else {
                    continue;
                };
                let found = pufa::store::sessions::get(&app.db, session)
                    .await
                    .unwrap()
                    .unwrap();
                let Some((_, _)) = persons.iter().find(|p| p.1 == found.village_id) else {
                    continue;
                };
                let person = persons
                    .iter()
                    .position(|p| p.1 == found.village_id)
                    .unwrap();
                let (i, n) = (person / 4, person % 4);
                let key = app.token_key();
                let _ = attendance::self_checkin(
                    &app.db,
                    &key,
                    &attendance::checkin_link_token(&key, &found),
                    &format!("村民{i}{n}"),
                    &format!("{n}00"),
                    "203.0.113.9",
                    found.starts_at,
                    chrono::Utc::now(),
                )
                .await
                .unwrap();
                "self check-in"
            }
            5 => {
                let quantity = 10 + rng.below(90) as i64;
                let date = rng.date();
                distributions.push(app.distribution(material, village, &date, quantity).await);
                "distribution"
            }
            6 => {
                let Some(d) = distributions.pop() else {
                    continue;
                };
                materials::delete_distribution(&app.db, &actor, d)
                    .await
                    .unwrap();
                "distribution deleted"
            }
            7 => {
                if rng.below(2) == 0 || acts.is_empty() {
                    let date = rng.date();
                    acts.push(app.activity(village, &date, &format!("宣传{step}")).await);
                    "activity"
                } else {
                    let a = acts.remove(rng.below(acts.len()));
                    activities::delete_activity(&app.db, &actor, a)
                        .await
                        .unwrap();
                    "activity deleted"
                }
            }
            8 => {
                let (person, _) = persons[rng.below(persons.len())];
                let input = SelfStudyInput {
                    person_id: person.to_string(),
                    studied_on: rng.date(),
                    content: format!("自学{step}"),
                    form: "reading".into(),
                    hours: "2".into(),
                    notes: String::new(),
                };
                studies.push(
                    self_study::create_self_study(&app.db, &actor, &input)
                        .await
                        .unwrap(),
                );
                if rng.below(3) == 0 {
                    let s = studies.remove(0);
                    self_study::delete_self_study(&app.db, &actor, s)
                        .await
                        .unwrap();
                }
                "self-study"
            }
            9 => {
                if rng.below(2) == 0 || batches.is_empty() {
                    let csv = format!(
                        "发放日期,村(社区),资料名称,数量\n{},龙凤村,民法典手册,{}\n{},石桥村,民法典手册,{}\n",
                        rng.date(),
                        1 + rng.below(50),
                        rng.date(),
                        1 + rng.below(50)
                    );
                    let name = format!("发放{step}.csv");
                    let (batch, _) =
                        imports::commit(&app.db, &actor, &upload(&name, csv.as_bytes()), false)
                            .await
                            .unwrap();
                    batches.push(batch);
                    "import"
                } else {
                    let batch = batches.remove(rng.below(batches.len()));
                    imports::undo(&app.db, &actor, batch, today())
                        .await
                        .unwrap();
                    "import undone"
                }
            }
            10 => {
                let Some(session) = rng.pick(&sessions_made) else {
                    continue;
                };
                let _ =
                    sessions::cancel_session(&app.db, &actor, session, sessions::Scope::This).await;
                "session cancelled"
            }
            _ => {
                let input = PersonInput {
                    name: format!("明白人{step}"),
                    village_id: village,
                    categories: vec![("legal_literate".into(), rng.date(), String::new())],
                    ..PersonInput::default()
                };
                people::create_person(&app.db, &actor, &input)
                    .await
                    .unwrap();
                pufa::store::attendance::save_requirement(
                    &app.db,
                    pufa::domain::Category::VillageCadre,
                    "",
                    rng.below(3) as i64,
                    rng.below(4) as f64,
                    None,
                )
                .await
                .unwrap();
                "法律明白人 and requirement"
            }
        };
        check(step, what).await;
    }
    // And the cache is what answers when nothing changed: the same figures, not recomputed
    // from a moved version.
    let before = pufa::store::summary::data_version(&app.db).await.unwrap();
    annual_summary(&app.db, &Actor::operator(), 2021, None, today())
        .await
        .unwrap();
    assert_eq!(
        pufa::store::summary::data_version(&app.db).await.unwrap(),
        before,
        "reading moves nothing"
    );
}
