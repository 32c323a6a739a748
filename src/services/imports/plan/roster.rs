//! Roster rows (人员名册): a person is found by ID number, else by village + name + phone,
//! else by village + name; a new one is created, a known one updated by `merge_person`.

use std::collections::HashMap;

use chrono::NaiveDate;

use super::people::{merge_person, KnownPerson, PeopleIndex};
use super::{cells, Common, Outcome, RowIssues};
use crate::domain::import::Field;
use crate::domain::person::{Gender, NAME_MAX_CHARS, NOTES_MAX_CHARS};
use crate::domain::{Category, IdNumber, Phone};
use crate::services::ServiceError;
use crate::sheets::read::{CellValue, SheetTable};
use crate::store::imports::{self as store, Op, Ref};
use crate::store::people::PersonRecord;
use crate::store::Db;

pub(super) struct Roster {
    people: PeopleIndex,
    /// Stored people by id, as a row that names one is compared with.
    stored: HashMap<i64, PersonRecord>,
    /// The file row each person was first seen on, to refuse the same person twice.
    first_row: std::collections::HashMap<Ref, usize>,
}

impl Roster {
    pub async fn load(db: &Db) -> Result<Self, ServiceError> {
        // One read of the registry serves both the matching and the comparison.
        let stored = store::person_records(db).await?;
        let mut ids: Vec<i64> = stored.keys().copied().collect();
        ids.sort_unstable();
        let mut people = PeopleIndex::default();
        for id in ids {
            let record = &stored[&id];
            people.add(KnownPerson {
                person: Ref::Existing(id),
                village_id: record.village_id,
                name: record.name.clone(),
                phone: record.phone.clone(),
                id_number: record.id_number.clone(),
            });
        }
        Ok(Roster {
            people,
            stored,
            first_row: Default::default(),
        })
    }

    pub fn plan_row(
        &mut self,
        common: &mut Common<'_>,
        issues: &mut RowIssues<'_>,
        sheet: &SheetTable,
    ) -> Option<Outcome> {
        let mut row = read_person(common, issues, sheet)?;
        // Same person: ID number; else village + name + phone; else village + name.
        let matched = match &row.id_number {
            Some(id) => self.people.with_id_number(id),
            None => self
                .people
                .named(row.village_id, &row.name)
                .find(|p| row.phone.is_none() || p.phone == row.phone),
        };
        let stored = matched
            .and_then(|p| match p.person {
                Ref::Existing(id) => self.stored.get(&id),
                Ref::New(_) => None,
            })
            .cloned();
        date_new_certification(&mut row, stored.as_ref(), common.upload_day, issues);
        let Some(found) = matched.cloned() else {
            let known = KnownPerson {
                person: Ref::New(common.ops.len()),
                village_id: row.village_id,
                name: row.name.clone(),
                phone: row.phone.clone(),
                id_number: row.id_number.clone(),
            };
            common.push(Op::CreatePerson(Box::new(row)));
            self.first_row.insert(known.person, issues.row.row);
            self.people.add(known);
            return Some(Outcome::Created);
        };
        if let Some(first) = self.first_row.get(&found.person) {
            issues.error(Some(Field::Name), format!("与第{first}行是同一人"));
            return None;
        }
        self.first_row.insert(found.person, issues.row.row);
        let Ref::Existing(id) = found.person else {
            // A person planned by an earlier row of this file: `first_row` caught it.
            issues.error(Some(Field::Name), "与本文件前面的一行是同一人");
            return None;
        };
        if let Some(own) = common.actor.confined_village() {
            if found.village_id != Some(own) {
                issues.error(
                    Some(Field::IdNumber),
                    "该身份证号已登记在其他村(社区)的人员名下",
                );
                return None;
            }
        }
        let Some(before) = self.stored.get(&id).cloned() else {
            issues.error(
                Some(Field::Name),
                "名册中的这个人刚被删除或修改，请重新上传",
            );
            return None;
        };
        let after = merge_person(&before, row);
        if after == before {
            return Some(Outcome::Unchanged);
        }
        common.push(Op::UpdatePerson {
            id,
            before: Box::new(before),
            after: Box::new(after),
        });
        Some(Outcome::Updated)
    }
}

/// A 法律明白人 without 认定日期 who is not one already counts from the day of the upload
/// (else they would count in every past year), and the row says so. A stored
/// certification keeps its own date.
fn date_new_certification(
    row: &mut PersonRecord,
    stored: Option<&PersonRecord>,
    upload_day: NaiveDate,
    issues: &mut RowIssues<'_>,
) {
    let already = stored.is_some_and(|p| {
        p.categories
            .iter()
            .any(|(c, ..)| *c == Category::LegalLiterate)
    });
    if already {
        return;
    }
    if let Some(held) = row
        .categories
        .iter_mut()
        .find(|(c, since, _)| *c == Category::LegalLiterate && since.is_none())
    {
        held.1 = Some(upload_day);
        issues.warn(
            Some(Field::CertifiedOn),
            format!(
                "未填认定日期，按导入日期{}记为法律明白人",
                upload_day.format("%Y年%-m月%-d日")
            ),
        );
    }
}

/// The person a roster row describes, or `None` with the row's errors.
fn read_person(
    common: &mut Common<'_>,
    issues: &mut RowIssues<'_>,
    sheet: &SheetTable,
) -> Option<PersonRecord> {
    let required_village = common.actor.confined_village().is_none();
    let village = common.village(issues, sheet, required_village);
    let name = issues.required_text(Field::Name, "姓名", NAME_MAX_CHARS);
    let gender = match issues.text(Field::Gender).as_str() {
        "" => None,
        word => match Gender::from_word(word) {
            Some(g) => Some(g.code().to_string()),
            None => {
                issues.error(
                    Some(Field::Gender),
                    format!("“{word}” 不是有效的性别（男/女）"),
                );
                None
            }
        },
    };
    let certified_on = match issues.value(Field::CertifiedOn) {
        v if v.is_empty() => None,
        _ => common.date(issues, sheet, Field::CertifiedOn),
    };
    let categories = read_categories(issues, certified_on);
    let phone = match issues.text(Field::Phone) {
        t if t.is_empty() => None,
        t => match Phone::parse(&t) {
            Ok(p) => Some(p.as_str().to_string()),
            Err(e) => {
                issues.error(Some(Field::Phone), e.to_string());
                None
            }
        },
    };
    let id_number = match issues.value(Field::IdNumber) {
        CellValue::Number(_) => {
            issues.error(
                Some(Field::IdNumber),
                "身份证号被 Excel 存成了数字，末尾几位可能已经丢失。请把该列设置为“文本”格式后重新填写",
            );
            None
        }
        v if v.is_empty() => None,
        v => match IdNumber::parse(&v.display()) {
            Ok(id) => Some(id.as_str().to_string()),
            Err(e) => {
                issues.error(Some(Field::IdNumber), e.to_string());
                None
            }
        },
    };
    let notes = issues.bounded_text(Field::Notes, "备注", NOTES_MAX_CHARS);
    let (Some(village), Some(name)) = (village, name) else {
        return None;
    };
    if !issues.errors.is_empty() {
        return None;
    }
    Some(PersonRecord {
        name,
        gender,
        village_id: village,
        post: issues.text(Field::Post),
        phone,
        id_number,
        notes,
        categories,
    })
}

/// The 身份类别 words; a 认定日期 belongs to 法律明白人.
fn read_categories(
    issues: &mut RowIssues<'_>,
    certified_on: Option<NaiveDate>,
) -> Vec<(Category, Option<NaiveDate>, Option<NaiveDate>)> {
    let mut categories: Vec<(Category, Option<NaiveDate>, Option<NaiveDate>)> = Vec::new();
    let words = cells::words(&issues.text(Field::Categories));
    if words.is_empty() {
        issues.error(Some(Field::Categories), "缺少身份类别");
    }
    for word in words {
        match Category::from_word(&word) {
            Some(c) if !categories.iter().any(|(x, ..)| *x == c) => {
                let since = (c == Category::LegalLiterate)
                    .then_some(certified_on)
                    .flatten();
                categories.push((c, since, None));
            }
            Some(_) => {}
            None => issues.error(
                Some(Field::Categories),
                format!("“{word}” 不是可选的身份类别"),
            ),
        }
    }
    categories
}
