//! /sessions/<id>/…: invitees, the attendance grid, walk-ins, the sign-in sheet.

use chrono::Local;
use rocket::response::{Flash, Redirect};
use rocket::{Either, Route, State};
use rocket_dyn_templates::Template;
use serde::Serialize;

use super::choices::selectable_villages;
use super::csrf::CsrfForm;
use super::download::XlsxDownload;
use super::error::{AppError, AppResult};
use super::forms::{ActionForm, GridForm, InviteForm, WalkInForm};
use super::guards::{CurrentUser, EditorUser};
use super::render::Chrome;
use super::sessions::{ConflictView, PersonChoice, SessionView};
use crate::domain::labels::CodeLabel;
use crate::domain::person::PersonInput;
use crate::domain::{Category, VillageScope};
use crate::services::attendance::{self, MarkInput};
use crate::services::sessions::{self, InviteSelection, Invited, Scope, VillageChoice};
use crate::services::signing::TokenKey;
use crate::services::villages::Village;
use crate::services::Db;
use crate::services::ServiceError;
use crate::sheets::signin::signin_workbook;

type FormOutcome = AppResult<Either<Template, Flash<Redirect>>>;

fn back_to(id: i64) -> Redirect {
    Redirect::to(format!("/sessions/{id}"))
}

/// The invite form's selection, as posted (empty on a fresh form).
#[derive(Serialize, Default)]
struct InviteValues {
    villages: Vec<String>,
    category: Option<String>,
    person_ids: Vec<String>,
    by_group: bool,
    scope: String,
}

#[derive(Serialize)]
struct InvitePage {
    session: SessionView,
    villages: Vec<Village>,
    categories: Vec<CodeLabel>,
    people: Vec<PersonChoice>,
    more_people: bool,
    village: Option<i64>,
    /// The one-by-one list shows the township's own staff (镇机关).
    township: bool,
    /// People ticked before a search, kept ticked (see static/app.js).
    picked: Vec<i64>,
    /// Those of them the list does not show, carried in hidden fields.
    carried: Vec<i64>,
    /// The name searched for in the one-by-one list.
    q: String,
    /// Township staff may list everyone; a clerk lists their own village.
    confined: bool,
    conflicts: Vec<ConflictView>,
    values: InviteValues,
}

#[rocket::get("/<id>/invite?<village>&<q>&<picked>")]
async fn invite_form(
    editor: EditorUser,
    id: i64,
    village: Option<&str>,
    q: Option<&str>,
    picked: Vec<i64>,
    db: &State<Db>,
    chrome: Chrome,
) -> AppResult<Template> {
    let actor = &editor.0.actor;
    // No village parameter: the session's own; an empty one: everyone.
    let village = match village.map(str::trim) {
        None => VillageChoice::SessionDefault,
        Some("") => VillageChoice::All,
        Some("township") => VillageChoice::Township,
        Some(v) => VillageChoice::One(v.parse().map_err(|_| AppError(ServiceError::NotFound))?),
    };
    let q = q.unwrap_or_default().trim();
    let choices = sessions::invite_choices(db, actor, id, village, q).await?;
    let people: Vec<PersonChoice> = choices
        .people
        .iter()
        .map(|(r, invited)| PersonChoice::invitable(&r.person, *invited))
        .collect();
    // Ticks are only kept: who may be added is decided when the form is posted.
    let mut picked = picked;
    picked.sort_unstable();
    picked.dedup();
    picked.truncate(2_000);
    let carried = picked
        .iter()
        .copied()
        .filter(|id| !people.iter().any(|p| p.id() == *id))
        .collect();
    let view = InvitePage {
        session: SessionView::of(&choices.session, actor),
        villages: selectable_villages(db, actor).await?,
        categories: Category::options(),
        people,
        more_people: choices.more_people,
        village: choices.scope.village(),
        township: choices.scope == VillageScope::Township,
        picked,
        carried,
        q: q.to_string(),
        confined: actor.confined_village().is_some(),
        conflicts: Vec::new(),
        values: InviteValues {
            category: Some(String::new()),
            scope: "this".into(),
            ..InviteValues::default()
        },
    };
    Ok(chrome.render("sessions/invite", view))
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
        scope: Scope::from_invite_form(form.scope.as_deref().unwrap_or_default()),
    };
    match sessions::invite(db, actor, id, &selection, form.confirm).await {
        Ok(Invited::Added { people, sessions }) => Ok(Either::Right(Flash::success(
            back_to(id),
            if sessions > 1 {
                format!("已加入 {sessions} 场学法活动的参学名单，共新增 {people} 人次。")
            } else {
                format!("已加入参学名单 {people} 人。")
            },
        ))),
        Ok(Invited::Conflicts(conflicts)) => {
            let s = sessions::get_session(db, actor, id).await?;
            let view = InvitePage {
                session: SessionView::of(&s, actor),
                villages: selectable_villages(db, actor).await?,
                categories: Category::options(),
                people: Vec::new(),
                more_people: false,
                village: None,
                township: false,
                picked: Vec::new(),
                carried: Vec::new(),
                q: String::new(),
                confined: actor.confined_village().is_some(),
                conflicts: conflicts.iter().map(ConflictView::on_invite).collect(),
                values: InviteValues {
                    villages: form.villages,
                    category: form.category,
                    person_ids: form.person_ids,
                    by_group: form.by_group,
                    scope: form.scope.unwrap_or_default(),
                },
            };
            Ok(Either::Left(chrome.render("sessions/invite", view)))
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
    chrome: Chrome,
    base: super::checkin::BaseUrl,
    key: &State<TokenKey>,
) -> AppResult<Either<Template, Flash<Redirect>>> {
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
        Ok(n) => Ok(Either::Right(Flash::success(
            back_to(id),
            format!("考勤已保存（{n} 人有变动）。"),
        ))),
        // The grid again, as the organizer filled it in, with the message on each wrong line.
        Err(ServiceError::Invalid(errors)) => {
            let posted = super::sessions::PostedGrid {
                lines: &lines,
                errors: &errors,
            };
            let view =
                super::sessions::detail_page(db, &editor.0.actor, id, &base, key, Some(posted))
                    .await?;
            Ok(Either::Left(chrome.render("sessions/detail", view)))
        }
        Err(ServiceError::Refused(message)) => {
            Ok(Either::Right(Flash::error(back_to(id), message)))
        }
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
    let person_id = match form.person_id.trim() {
        "" => None,
        text => Some(text.parse().map_err(|_| AppError(ServiceError::NotFound))?),
    };
    let new_person = (person_id.is_none() && !form.name.trim().is_empty()).then(|| PersonInput {
        name: form.name.clone(),
        phone: form.phone.clone(),
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

#[rocket::get("/<id>/signin.xlsx")]
async fn signin_xlsx(me: CurrentUser, id: i64, db: &State<Db>) -> AppResult<XlsxDownload> {
    let (s, sheet) = attendance::signin_sheet(db, &me.actor, id).await?;
    Ok(XlsxDownload {
        file_name: format!(
            "签到表_{}_{}.xlsx",
            s.number(),
            s.starts_at.format("%Y%m%d")
        ),
        bytes: signin_workbook(&sheet)?,
    })
}

#[derive(Serialize)]
struct SigninLine {
    name: String,
    village: String,
    post: String,
}

/// The printable sign-in sheet (no page chrome): the facts, the invitees, spare lines.
#[derive(Serialize)]
struct SigninPage {
    number: String,
    topic: String,
    kind: String,
    time: String,
    venue: String,
    speaker: String,
    rows: Vec<SigninLine>,
    spare: [u8; 5],
}

#[rocket::get("/<id>/signin")]
async fn signin_print(me: CurrentUser, id: i64, db: &State<Db>) -> AppResult<Template> {
    let (_, sheet) = attendance::signin_sheet(db, &me.actor, id).await?;
    let view = SigninPage {
        rows: sheet
            .rows
            .into_iter()
            .map(|(name, village, post)| SigninLine {
                name,
                village,
                post,
            })
            .collect(),
        number: sheet.number,
        topic: sheet.topic,
        kind: sheet.kind,
        time: sheet.time,
        venue: sheet.venue,
        speaker: sheet.speaker,
        spare: [1, 2, 3, 4, 5],
    };
    Ok(Template::render("sessions/signin", view))
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
        signin_print
    ]
}
