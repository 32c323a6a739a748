//! Outreach-activity ledgers (普法活动台账): one activity per row, found again by its key;
//! a 发放资料(份) count becomes a distribution of a generic catalogue entry.

use std::collections::HashMap;

use super::materials::{imported_distributions, Catalogue};
use super::{cells, key_hash, Common, Outcome, RowIssues};
use crate::domain::activity::{ActivityForm, AudienceGroup, Place, TOPIC_MAX_CHARS};
use crate::domain::import::Field;
use crate::domain::material::{MaterialKind, NOTES_MAX_CHARS, SHORT_TEXT_MAX_CHARS};
use crate::domain::person::NAME_MAX_CHARS;
use crate::services::ServiceError;
use crate::sheets::read::SheetTable;
use crate::store::activities::ActivityRecord;
use crate::store::imports::{self as store, ActivityRow, DistributionRow, Op, Ref};
use crate::store::Db;

/// The catalogue entry for material counted in an activity ledger without a title.
pub const ACTIVITY_MATERIAL: &str = "普法宣传资料（活动台账登记）";

pub(super) struct Activities {
    catalogue: Catalogue,
    /// Activities of earlier imports by key.
    imported: HashMap<String, (i64, ActivityRow)>,
    /// The distributions their 发放资料(份) counts became, by key.
    handed_out: HashMap<String, (i64, DistributionRow)>,
}

impl Activities {
    pub async fn load(db: &Db) -> Result<Self, ServiceError> {
        let mut groups_of: HashMap<i64, Vec<String>> = HashMap::new();
        for (activity, group) in store::imported_audience_groups(db).await? {
            groups_of.entry(activity).or_default().push(group);
        }
        let imported = store::activity_keys(db)
            .await?
            .into_iter()
            .map(|a| {
                let row = ActivityRow {
                    record: ActivityRecord {
                        held_on: a.held_on,
                        village_id: a.village_id,
                        topic: a.topic,
                        form: a.form,
                        place: a.place,
                        audience_groups: groups_of.remove(&a.id).unwrap_or_default(),
                        audience_count: a.audience_count,
                        speaker: a.speaker,
                        venue: a.venue,
                        notes: a.notes,
                    },
                    import_key: a.import_key.clone(),
                };
                (a.import_key, (a.id, row))
            })
            .collect();
        Ok(Activities {
            catalogue: Catalogue::load(db).await?,
            imported,
            handed_out: imported_distributions(db).await?,
        })
    }

    pub fn plan_row(
        &mut self,
        common: &mut Common<'_>,
        issues: &mut RowIssues,
        sheet: &SheetTable,
    ) -> Option<Outcome> {
        let village = common.village(issues, sheet, false);
        let date = common.date(issues, sheet, Field::Date);
        let topic = issues.required_text(Field::Topic, "活动主题", TOPIC_MAX_CHARS);
        let form = read_form(issues);
        let place = read_place(issues);
        let groups = read_groups(issues);
        let count = issues.whole_number(Field::AudienceCount);
        let handed_out = match issues.value(Field::MaterialsHandedOut) {
            v if v.is_empty() => None,
            _ => issues.whole_number(Field::MaterialsHandedOut),
        };
        let speaker = issues.bounded_text(Field::Speaker, "主讲人", NAME_MAX_CHARS);
        let venue = issues.bounded_text(Field::Venue, "地点", SHORT_TEXT_MAX_CHARS);
        let notes = issues.bounded_text(Field::Notes, "备注", NOTES_MAX_CHARS);
        let (village, date, topic, count) = (village?, date?, topic?, count?);
        if !issues.errors.is_empty() {
            return None;
        }
        let village_key = village.map(|v| v.to_string()).unwrap_or_default();
        let key = common.occurrence_key(&["activities", &village_key, &date.to_string(), &topic]);
        let row = ActivityRow {
            record: ActivityRecord {
                held_on: date,
                village_id: village,
                topic: topic.clone(),
                form: form.code().into(),
                place: place.map(|p| p.code().to_string()),
                audience_groups: groups.iter().map(|g| g.code().to_string()).collect(),
                audience_count: count,
                speaker: speaker.clone(),
                venue: venue.clone(),
                notes,
            },
            import_key: key.clone(),
        };
        let handed_out = HandedOut {
            quantity: handed_out.filter(|q| *q > 0),
            groups: &groups,
            date,
            village,
            venue,
            speaker,
            topic: &topic,
            key: key_hash(&[&key, "materials"]),
        };
        match self.imported.get(&key).cloned() {
            Some((id, before)) => {
                let activity_changed = before != row;
                if activity_changed {
                    common.push(Op::UpdateActivity {
                        id,
                        before: Box::new(before),
                        after: Box::new(row),
                    });
                }
                let materials_changed =
                    self.plan_handed_out(common, issues, Ref::Existing(id), &handed_out);
                Some(if activity_changed || materials_changed {
                    Outcome::Updated
                } else {
                    Outcome::Unchanged
                })
            }
            None => {
                let activity = Ref::New(common.push(Op::CreateActivity(Box::new(row))));
                self.plan_handed_out(common, issues, activity, &handed_out);
                Some(Outcome::Created)
            }
        }
    }

    /// The distribution of an activity's 发放资料(份) count: created, or updated when a
    /// corrected file changes the count. Returns whether anything is written.
    fn plan_handed_out(
        &mut self,
        common: &mut Common<'_>,
        issues: &mut RowIssues,
        activity: Ref,
        handed_out: &HandedOut,
    ) -> bool {
        let existing = self.handed_out.get(&handed_out.key).cloned();
        let Some(quantity) = handed_out.quantity else {
            if existing.is_some() {
                issues.warn(
                    Some(Field::MaterialsHandedOut),
                    "发放资料(份)为空，原来登记的发放记录保持不变（如需删除请在资料发放台账中操作）",
                );
            }
            return false;
        };
        let material = match &existing {
            Some((_, before)) => before.material,
            None => self
                .catalogue
                .material(common, ACTIVITY_MATERIAL, MaterialKind::Other, "份"),
        };
        let row = handed_out.row(material, activity, quantity);
        match existing {
            Some((_, before)) if before == row => false,
            Some((id, before)) => {
                common.push(Op::UpdateDistribution {
                    id,
                    before: Box::new(before),
                    after: Box::new(row),
                });
                true
            }
            None => {
                common.push(Op::CreateDistribution(Box::new(row)));
                true
            }
        }
    }
}

/// What an activity row says about the material it handed out.
struct HandedOut<'a> {
    quantity: Option<i64>,
    groups: &'a [AudienceGroup],
    date: chrono::NaiveDate,
    village: Option<i64>,
    venue: String,
    speaker: String,
    topic: &'a str,
    key: String,
}

impl HandedOut<'_> {
    fn row(&self, material: Ref, activity: Ref, quantity: i64) -> DistributionRow {
        DistributionRow {
            material,
            distributed_on: self.date,
            village_id: self.village,
            quantity,
            recipients: self
                .groups
                .iter()
                .map(|g| g.label_zh())
                .collect::<Vec<_>>()
                .join("、"),
            place: self.venue.clone(),
            handled_by: self.speaker.clone(),
            activity: Some(activity),
            notes: format!("随普法活动“{}”发放（活动台账导入）", self.topic),
            import_key: self.key.clone(),
        }
    }
}

fn read_form(issues: &mut RowIssues) -> ActivityForm {
    match issues.text(Field::ActivityForm).as_str() {
        "" => ActivityForm::Other,
        w => ActivityForm::from_word(w).unwrap_or_else(|| {
            issues.warn(
                Some(Field::ActivityForm),
                format!("“{w}” 不是可选的活动形式，按“其他”登记"),
            );
            ActivityForm::Other
        }),
    }
}

fn read_place(issues: &mut RowIssues) -> Option<Place> {
    match issues.text(Field::SevenPlaces).as_str() {
        "" => None,
        w => {
            let place = Place::from_word(w);
            if place.is_none() {
                issues.error(
                    Some(Field::SevenPlaces),
                    format!("“{w}” 不是法律七进的场所（机关、乡村、社区、学校、企业、单位、寺庙）"),
                );
            }
            place
        }
    }
}

/// The audience groups named in the cell, each once, in code order.
fn read_groups(issues: &mut RowIssues) -> Vec<AudienceGroup> {
    let mut groups: Vec<AudienceGroup> = Vec::new();
    for word in cells::words(&issues.text(Field::AudienceGroups)) {
        match AudienceGroup::from_word(&word) {
            Some(g) if !groups.contains(&g) => groups.push(g),
            Some(_) => {}
            None => issues.error(
                Some(Field::AudienceGroups),
                format!("“{word}” 不是可选的受众对象"),
            ),
        }
    }
    groups.sort_by_key(|g| g.code());
    groups
}
