//! /sessions/<id>/…: invitees, the attendance grid, walk-ins, the sign-in sheet; and
//! /sessions/requirements: who is below the yearly study requirement.

use chrono::Local;
use rocket::response::{Flash, Redirect};
use rocket::{Either, Route, State};
use rocket_dyn_templates::Template;
use serde_json::{json, Value};

use super::choices::selectable_villages;
use super::csrf::CsrfForm;
use super::download::XlsxDownload;
use super::error::{AppError, AppResult};
use super::forms::{ActionForm, GridForm, InviteForm, WalkInForm};
use super::guards::{CurrentUser, EditorUser};
use super::period::{chosen_year, today, year_choices};
use super::render::Chrome;
use super::sessions::session_view;
use crate::domain::person::PersonInput;
use crate::domain::session::SessionKind;
use crate::domain::Category;
use crate::services::attendance::{self, MarkInput};
use crate::services::sessions::{self, can_manage_session, InviteSelection, Invited};
use crate::services::ServiceError;
use crate::sheets::signin::{signin_workbook, SigninSheet};
use crate::sheets::table::{table_workbook, Cell, Table};
use crate::store::people::PersonFilter;
use crate::store::{sessions as store, Db};

type FormOutcome = AppResult<Either<Template, Flash<Redirect>>>;

fn back_to(id: i64) -> Redirect {
    Redirect::to(format!("/sessions/{id}"))
}

#[rocket::get("/<id>/invite?<village>")]
async fn invite_form(
    editor: EditorUser,
    id: i64,
    village: Option<i64>,
    db: &State<Db>,
    chrome: Chrome,
) -> AppResult<Template> {
    let actor = &editor.0.actor;
    let s = sessions::get_session(db, actor, id).await?;
    if !can_manage_session(actor, s.village_id) {
        return Err(AppError(ServiceError::Forbidden));
    }
    let village = actor.confined_village().or(village).or(s.village_id);
    let filter = PersonFilter {
        village_id: village,
        active: Some(true),
        ..PersonFilter::default()
    };
    let page = crate::services::people::list_people(db, actor, filter, 1).await?;
    let invited: Vec<i64> = store::invitees(db, id)
        .await?
        .iter()
        .map(|i| i.person_id)
        .collect();
    let people: Vec<Value> = page
        .rows
        .iter()
        .map(|r| {
            json!({ "id": r.person.id, "name": r.person.name, "post": r.person.post,
            "village_name": r.person.village_name.as_deref().unwrap_or("镇机关"),
            "invited": invited.contains(&r.person.id) })
        })
        .collect();
    Ok(chrome.render(
        "sessions/invite",
        json!({
            "session": session_view(&s, actor),
            "villages": selectable_villages(db, actor).await?,
            "categories": Category::options(),
            "people": people,
            "more_people": page.total > page.rows.len() as i64,
            "village": village,
            "conflicts": [],
            "values": { "villages": [], "category": "", "person_ids": [], "by_group": false },
        }),
    ))
}

#[rocket::post("/<id>/invite", data = "<form>")]
async fn invite(
    editor: EditorUser,
    id: i64,
    form: CsrfForm<InviteForm>,
    db: &State<Db>,
    chrome: Chrome,
) -> FormOutcome {
    let form = form.0;
    let actor = &editor.0.actor;
    let parse_ids = |values: &[String]| -> Result<Vec<i64>, AppError> {
        values
            .iter()
            .filter(|v| !v.trim().is_empty())
            .map(|v| {
                v.trim()
                    .parse()
                    .map_err(|_| AppError(ServiceError::NotFound))
            })
            .collect()
    };
    let selection = InviteSelection {
        village_ids: parse_ids(&form.villages)?,
        category: form
            .category
            .as_deref()
            .and_then(|c| Category::from_code(c.trim())),
        person_ids: parse_ids(&form.person_ids)?,
        by_group: form.by_group,
    };
    match sessions::invite(db, actor, id, &selection, form.confirm).await {
        Ok(Invited::Added(n)) => Ok(Either::Right(Flash::success(
            back_to(id),
            format!("已加入参学名单 {n} 人。"),
        ))),
        Ok(Invited::Conflicts(conflicts)) => {
            let s = sessions::get_session(db, actor, id).await?;
            let conflicts: Vec<Value> = conflicts
                .iter()
                .map(|c| json!({ "id": c.session_id, "topic": c.topic,
                    "when": c.starts_at.format("%Y-%m-%d %H:%M").to_string(), "reasons": c.reasons.join("，") }))
                .collect();
            Ok(Either::Left(chrome.render(
                "sessions/invite",
                json!({
                    "session": session_view(&s, actor),
                    "villages": selectable_villages(db, actor).await?,
                    "categories": Category::options(),
                    "people": [],
                    "conflicts": conflicts,
                    "values": { "villages": form.villages, "category": form.category,
                                "person_ids": form.person_ids, "by_group": form.by_group },
                }),
            )))
        }
        Err(ServiceError::Refused(message)) => Ok(Either::Right(Flash::error(
            Redirect::to(format!("/sessions/{id}/invite")),
            message,
        ))),
        Err(e) => Err(e.into()),
    }
}

#[rocket::post("/<id>/invitees/<person_id>/remove", data = "<_form>")]
async fn uninvite(
    editor: EditorUser,
    id: i64,
    person_id: i64,
    _form: CsrfForm<ActionForm>,
    db: &State<Db>,
) -> AppResult<Flash<Redirect>> {
    sessions::uninvite(db, &editor.0.actor, id, person_id).await?;
    Ok(Flash::success(back_to(id), "已移出参学名单。"))
}

#[rocket::post("/<id>/attendance", data = "<form>")]
async fn save_grid(
    editor: EditorUser,
    id: i64,
    form: CsrfForm<GridForm>,
    db: &State<Db>,
) -> AppResult<Flash<Redirect>> {
    let lines: Vec<MarkInput> = form
        .0
        .rows
        .iter()
        .map(|r| MarkInput {
            person_id: r.person_id.clone(),
            status: r.status.clone().unwrap_or_default(),
            hours: r.hours.clone(),
        })
        .collect();
    match attendance::save_grid(db, &editor.0.actor, id, &lines).await {
        Ok(n) => Ok(Flash::success(
            back_to(id),
            format!("考勤已保存（{n} 人有变动）。"),
        )),
        Err(ServiceError::Invalid(errors)) => {
            let message = errors
                .iter()
                .map(|(field, message)| {
                    let line = field
                        .trim_start_matches("rows.")
                        .parse::<usize>()
                        .map(|i| i + 1)
                        .unwrap_or(0);
                    format!("第{line}行：{message}")
                })
                .collect::<Vec<_>>()
                .join("；");
            Ok(Flash::error(
                back_to(id),
                format!("考勤未保存，请修改后重试。{message}"),
            ))
        }
        Err(ServiceError::Refused(message)) => Ok(Flash::error(back_to(id), message)),
        Err(e) => Err(e.into()),
    }
}

#[rocket::post("/<id>/all-present", data = "<_form>")]
async fn all_present(
    editor: EditorUser,
    id: i64,
    _form: CsrfForm<ActionForm>,
    db: &State<Db>,
) -> AppResult<Flash<Redirect>> {
    let n = attendance::all_present(db, &editor.0.actor, id).await?;
    Ok(Flash::success(
        back_to(id),
        format!("已将 {n} 名未登记的参学人员记为出勤。"),
    ))
}

#[rocket::post("/<id>/walk-in", data = "<form>")]
async fn walk_in(
    editor: EditorUser,
    id: i64,
    form: CsrfForm<WalkInForm>,
    db: &State<Db>,
) -> AppResult<Flash<Redirect>> {
    let form = form.0;
    let actor = &editor.0.actor;
    let session = sessions::get_session(db, actor, id).await?;
    let person_id = match form.person_id.trim() {
        "" => None,
        text => Some(text.parse().map_err(|_| AppError(ServiceError::NotFound))?),
    };
    let new_person = (person_id.is_none() && !form.name.trim().is_empty()).then(|| PersonInput {
        name: form.name.clone(),
        phone: form.phone.clone(),
        village_id: actor.confined_village().or(session.village_id),
        ..PersonInput::default()
    });
    match attendance::walk_in(db, actor, id, person_id, new_person).await {
        Ok(_) => Ok(Flash::success(back_to(id), "已登记现场参学人员为出勤。")),
        Err(ServiceError::Invalid(errors)) => Ok(Flash::error(
            back_to(id),
            errors.values().cloned().collect::<Vec<_>>().join("；"),
        )),
        Err(e) => Err(e.into()),
    }
}

#[rocket::post("/<id>/checkin/reopen", data = "<_form>")]
async fn reopen(
    editor: EditorUser,
    id: i64,
    _form: CsrfForm<ActionForm>,
    db: &State<Db>,
) -> AppResult<Flash<Redirect>> {
    let until =
        attendance::reopen_checkin(db, &editor.0.actor, id, Local::now().naive_local()).await?;
    Ok(Flash::success(
        back_to(id),
        format!("扫码签到已重新开放至 {}。", until.format("%H:%M")),
    ))
}

async fn signin_sheet(
    db: &Db,
    me: &CurrentUser,
    id: i64,
) -> AppResult<(crate::store::sessions::Session, SigninSheet)> {
    let s = sessions::get_session(db, &me.actor, id).await?;
    let only = if s.village_id.is_none() {
        me.actor.confined_village()
    } else {
        None
    };
    let rows = store::invitees(db, id)
        .await?
        .into_iter()
        .filter(|i| only.is_none() || i.village_id == only)
        .map(|i| {
            (
                i.name,
                i.village_name.unwrap_or_else(|| "镇机关".into()),
                i.post,
            )
        })
        .collect();
    let sheet = SigninSheet {
        number: s.number(),
        topic: s.topic.clone(),
        kind: s.kind.label_zh().into(),
        time: format!(
            "{} {}—{}",
            s.starts_at.format("%Y-%m-%d"),
            s.starts_at.format("%H:%M"),
            s.ends_at.format("%H:%M")
        ),
        venue: s.venue.clone(),
        speaker: s.speaker.clone(),
        rows,
    };
    Ok((s, sheet))
}

#[rocket::get("/<id>/signin.xlsx")]
async fn signin_xlsx(me: CurrentUser, id: i64, db: &State<Db>) -> AppResult<XlsxDownload> {
    let (s, sheet) = signin_sheet(db, &me, id).await?;
    Ok(XlsxDownload {
        file_name: format!(
            "签到表_{}_{}.xlsx",
            s.number(),
            s.starts_at.format("%Y%m%d")
        ),
        bytes: signin_workbook(&sheet)?,
    })
}

#[rocket::get("/<id>/signin")]
async fn signin_print(me: CurrentUser, id: i64, db: &State<Db>) -> AppResult<Template> {
    let (_, sheet) = signin_sheet(db, &me, id).await?;
    let rows: Vec<Value> = sheet
        .rows
        .iter()
        .map(|(n, v, p)| json!({ "name": n, "village": v, "post": p }))
        .collect();
    Ok(Template::render(
        "sessions/signin",
        json!({ "number": sheet.number, "topic": sheet.topic, "kind": sheet.kind, "time": sheet.time,
                "venue": sheet.venue, "speaker": sheet.speaker, "rows": rows, "spare": [1, 2, 3, 4, 5] }),
    ))
}

fn kind_label(code: &str) -> &'static str {
    SessionKind::from_code(code)
        .map(SessionKind::label_zh)
        .unwrap_or("全部学法活动")
}

#[rocket::get("/requirements?<year>&<village>")]
async fn requirements(
    me: CurrentUser,
    year: Option<i32>,
    village: Option<i64>,
    db: &State<Db>,
    chrome: Chrome,
) -> AppResult<Template> {
    let year = chosen_year(year);
    let rows = attendance::shortfalls(db, &me.actor, year, today(), village).await?;
    let views: Vec<Value> = rows
        .iter()
        .map(|r| json!({
            "person_id": r.person_id, "name": r.name, "village_name": r.village_name.as_deref().unwrap_or("镇机关"),
            "category": r.category.label_zh(), "kind": kind_label(&r.session_kind),
            "min_sessions": r.min_sessions, "min_hours": r.min_hours,
            "sessions": r.sessions_attended, "hours": r.hours,
            "missing_sessions": (r.min_sessions - r.sessions_attended).max(0),
            "missing_hours": (r.min_hours - r.hours).max(0.0),
        }))
        .collect();
    Ok(chrome.render(
        "sessions/requirements",
        json!({
            "rows": views, "year": year, "years": year_choices(), "village": village,
            "villages": selectable_villages(db, &me.actor).await?,
            "confined": !me.actor.role.sees_all_villages(),
            "requirements": attendance::requirements(db).await?.iter().map(|r| json!({
                "category": r.category.label_zh(), "kind": kind_label(&r.session_kind),
                "min_sessions": r.min_sessions, "min_hours": r.min_hours })).collect::<Vec<_>>(),
            "is_admin": me.actor.role.can_administer(),
        }),
    ))
}

#[rocket::get("/requirements.xlsx?<year>&<village>")]
async fn requirements_xlsx(
    me: CurrentUser,
    year: Option<i32>,
    village: Option<i64>,
    db: &State<Db>,
) -> AppResult<XlsxDownload> {
    let year = chosen_year(year);
    let rows = attendance::shortfalls(db, &me.actor, year, today(), village).await?;
    let table = Table {
        sheet_name: format!("{year}年学法未达标人员"),
        headers: vec![
            "姓名",
            "村(社区)",
            "身份类别",
            "要求类型",
            "要求次数",
            "已学次数",
            "差几次",
            "要求学时",
            "已学学时",
            "差几学时",
        ],
        rows: rows
            .iter()
            .map(|r| {
                vec![
                    r.name.as_str().into(),
                    r.village_name
                        .clone()
                        .unwrap_or_else(|| "镇机关".into())
                        .into(),
                    r.category.label_zh().into(),
                    kind_label(&r.session_kind).into(),
                    r.min_sessions.into(),
                    r.sessions_attended.into(),
                    (r.min_sessions - r.sessions_attended).max(0).into(),
                    Cell::Number(r.min_hours),
                    Cell::Number(r.hours),
                    Cell::Number((r.min_hours - r.hours).max(0.0)),
                ]
            })
            .collect(),
        totals: Some(vec!["合计".into(), format!("{}人次", rows.len()).into()]),
    };
    Ok(XlsxDownload {
        file_name: format!("学法未达标人员_{year}.xlsx"),
        bytes: table_workbook(&table)?,
    })
}

pub fn routes() -> Vec<Route> {
    rocket::routes![
        invite_form,
        invite,
        uninvite,
        save_grid,
        all_present,
        walk_in,
        reopen,
        signin_xlsx,
        signin_print,
        requirements,
        requirements_xlsx
    ]
}
