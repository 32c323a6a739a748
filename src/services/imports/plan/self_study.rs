//! Self-study registers (自学登记表): one record per row, for a person already on the
//! roster, found again by its key so that a corrected file updates instead of duplicating.

use std::collections::HashMap;

use super::people::{KnownPerson, PeopleIndex};
use super::{cells, Common, Outcome, RowIssues};
use crate::domain::import::Field;
use crate::domain::material::NOTES_MAX_CHARS;
use crate::domain::person::NAME_MAX_CHARS;
use crate::domain::self_study::{StudyForm, CONTENT_MAX_CHARS};
use crate::services::ServiceError;
use crate::sheets::read::SheetTable;
use crate::store::imports::{self as store, Op, Ref};
use crate::store::self_study::{self as records, SelfStudyRecord};
use crate::store::Db;

pub(super) struct SelfStudy {
    people: PeopleIndex,
    /// Records of earlier imports by key.
    imported: HashMap<String, (i64, SelfStudyRecord)>,
}

impl SelfStudy {
    pub async fn load(db: &Db) -> Result<Self, ServiceError> {
        let mut people = PeopleIndex::default();
        for key in store::people_index(db).await? {
            people.add(KnownPerson::from(key));
        }
        let imported = records::imported(db)
            .await?
            .into_iter()
            .map(|r| (r.import_key.clone(), (r.id, r.record())))
            .collect();
        Ok(SelfStudy { people, imported })
    }

    pub fn plan_row(
        &mut self,
        common: &mut Common<'_>,
        issues: &mut RowIssues,
        sheet: &SheetTable,
    ) -> Option<Outcome> {
        let village = common.village(issues, sheet, false);
        let date = common.date(issues, sheet, Field::Date);
        let name = issues.required_text(Field::Name, "姓名", NAME_MAX_CHARS);
        let content = issues.required_text(Field::Topic, "学习内容", CONTENT_MAX_CHARS);
        let form = read_form(issues);
        let hours = read_hours(issues);
        let notes = issues.bounded_text(Field::Notes, "备注", NOTES_MAX_CHARS);
        let (village, date, name, content, hours) = (village?, date?, name?, content?, hours?);
        let person_id = self.person(issues, village, &name)?;
        if !issues.errors.is_empty() {
            return None;
        }
        let record = SelfStudyRecord {
            person_id,
            studied_on: date,
            content: content.clone(),
            form: form.code().to_string(),
            hours,
            notes,
        };
        let key = common.occurrence_key(&[
            "self_study",
            &person_id.to_string(),
            &date.to_string(),
            &content,
        ]);
        match self.imported.get(&key) {
            Some((_, before)) if *before == record => Some(Outcome::Unchanged),
            Some((id, before)) => {
                common.push(Op::UpdateSelfStudy {
                    id: *id,
                    before: Box::new(before.clone()),
                    after: Box::new(record),
                });
                Some(Outcome::Updated)
            }
            None => {
                common.push(Op::CreateSelfStudy {
                    record: Box::new(record),
                    import_key: key,
                });
                Some(Outcome::Created)
            }
        }
    }

    /// The person, by name in the village. A self-study register records what people on
    /// the roster did; it registers nobody.
    fn person(&self, issues: &mut RowIssues, village: Option<i64>, name: &str) -> Option<i64> {
        let matches: Vec<i64> = self
            .people
            .named(village, name)
            .filter_map(|p| match p.person {
                Ref::Existing(id) => Some(id),
                Ref::New(_) => None,
            })
            .collect();
        match matches.as_slice() {
            [one] => Some(*one),
            [] => {
                issues.error(
                    Some(Field::Name),
                    format!("名册中没有“{name}”，请先导入花名册或在人员页面登记此人"),
                );
                None
            }
            _ => {
                issues.error(
                    Some(Field::Name),
                    format!(
                        "有 {} 名同名人员“{name}”，请在名册中区分后再导入",
                        matches.len()
                    ),
                );
                None
            }
        }
    }
}

fn read_form(issues: &mut RowIssues) -> StudyForm {
    match issues.text(Field::StudyForm).as_str() {
        "" => StudyForm::Reading,
        w => StudyForm::from_word(w).unwrap_or_else(|| {
            issues.warn(
                Some(Field::StudyForm),
                format!("“{w}” 不是可选的学习形式（读书、网络学习、观看视频、其他），按“其他”登记"),
            );
            StudyForm::Other
        }),
    }
}

fn read_hours(issues: &mut RowIssues) -> Option<f64> {
    let value = issues.value(Field::Hours);
    if value.is_empty() {
        issues.error(Some(Field::Hours), "请填写学时");
        return None;
    }
    match cells::hours(value) {
        Ok(h) if h > 0.0 => Some(h),
        Ok(_) => {
            issues.error(Some(Field::Hours), "学时必须大于0");
            None
        }
        Err(message) => {
            issues.error(Some(Field::Hours), message);
            None
        }
    }
}
