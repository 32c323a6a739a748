//! Material-distribution ledgers (资料发放台账), and the catalogue that both they and the
//! activities ledgers name material from.

use std::collections::HashMap;

use super::{Common, Outcome, RowIssues};
use crate::domain::import::Field;
use crate::domain::material::{
    title_key, MaterialDraft, MaterialKind, NOTES_MAX_CHARS, SHORT_TEXT_MAX_CHARS, TITLE_MAX_CHARS,
    UNIT_MAX_CHARS,
};
use crate::domain::numbers::written_unit;
use crate::domain::person::NAME_MAX_CHARS;
use crate::services::ServiceError;
use crate::sheets::read::SheetTable;
use crate::store::imports::{self as store, DistributionRow, Op, Ref};
use crate::store::Db;

/// Catalogue entries by title (compared by `title_key`): stored, or created by an earlier
/// row.
pub(super) struct Catalogue {
    /// The entry and its unit (份, 本, …).
    by_title: HashMap<String, (Ref, String)>,
}

impl Catalogue {
    pub async fn load(db: &Db) -> Result<Self, ServiceError> {
        let by_title = crate::store::materials::choices(db)
            .await?
            .into_iter()
            .map(|(id, title, unit)| (title_key(&title), (Ref::Existing(id), unit)))
            .collect();
        Ok(Catalogue { by_title })
    }

    /// The entry of this title, planned as a new one when the catalogue lacks it.
    pub fn material(
        &mut self,
        common: &mut Common<'_>,
        title: &str,
        kind: MaterialKind,
        unit: &str,
    ) -> Ref {
        if let Some((r, _)) = self.by_title.get(&title_key(title)) {
            return *r;
        }
        self.create(common, title, kind, unit)
    }

    /// The entry of a title a row names: a clerk's file may only name entries the
    /// catalogue has (the catalogue is the organizers' work, as on the forms).
    pub fn named_material(
        &mut self,
        common: &mut Common<'_>,
        issues: &mut RowIssues,
        title: &str,
        kind: MaterialKind,
        unit: &str,
    ) -> Option<Ref> {
        if let Some((r, _)) = self.by_title.get(&title_key(title)) {
            return Some(*r);
        }
        if common.actor.confined_village().is_some() {
            issues.error(
                Some(Field::MaterialTitle),
                format!("资料目录中没有“{title}”。资料目录由镇里的组织者登记，请联系组织者先添加，或改用目录中的名称"),
            );
            return None;
        }
        issues.warn(
            Some(Field::MaterialTitle),
            format!("资料目录中没有“{title}”，导入时新建资料"),
        );
        Some(self.create(common, title, kind, unit))
    }

    fn create(
        &mut self,
        common: &mut Common<'_>,
        title: &str,
        kind: MaterialKind,
        unit: &str,
    ) -> Ref {
        let created = Ref::New(common.push(Op::CreateMaterial(Box::new(MaterialDraft {
            title: title.to_string(),
            kind,
            unit: unit.to_string(),
            notes: String::new(),
        }))));
        self.by_title
            .insert(title_key(title), (created, unit.to_string()));
        created
    }

    /// The unit of the entry of this title (stored, or planned by an earlier row).
    pub fn unit_of(&self, title: &str) -> Option<&str> {
        self.by_title
            .get(&title_key(title))
            .map(|(_, unit)| unit.as_str())
    }
}

/// Distributions earlier imports created, by their key, as (id, what was written).
pub(super) async fn imported_distributions(
    db: &Db,
) -> Result<HashMap<String, (i64, DistributionRow)>, ServiceError> {
    Ok(store::distribution_keys(db)
        .await?
        .into_iter()
        .map(|d| {
            let row = DistributionRow {
                material: Ref::Existing(d.material_id),
                distributed_on: d.distributed_on,
                village_id: d.village_id,
                quantity: d.quantity,
                recipients: d.recipients,
                place: d.place,
                handled_by: d.handled_by,
                activity: d.activity_id.map(Ref::Existing),
                notes: d.notes,
                import_key: d.import_key.clone(),
            };
            (d.import_key, (d.id, row))
        })
        .collect())
}

pub(super) struct Materials {
    catalogue: Catalogue,
    /// Distributions of earlier imports by key.
    imported: HashMap<String, (i64, DistributionRow)>,
}

impl Materials {
    pub async fn load(db: &Db) -> Result<Self, ServiceError> {
        Ok(Materials {
            catalogue: Catalogue::load(db).await?,
            imported: imported_distributions(db).await?,
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
        let title = issues.required_text(Field::MaterialTitle, "资料名称", TITLE_MAX_CHARS);
        let kind = match issues.text(Field::MaterialKind).as_str() {
            "" => MaterialKind::Other,
            w => MaterialKind::from_word(w).unwrap_or_else(|| {
                issues.warn(
                    Some(Field::MaterialKind),
                    format!("“{w}” 不是可选的资料类型，按“其他”登记"),
                );
                MaterialKind::Other
            }),
        };
        let quantity = match issues.whole_number(Field::Quantity) {
            Some(q) if q < 1 => {
                issues.error(Some(Field::Quantity), "数量至少为1");
                None
            }
            q => q,
        };
        let recipients = issues.bounded_text(Field::Recipients, "发放对象", SHORT_TEXT_MAX_CHARS);
        let place = issues.bounded_text(Field::Place, "发放地点", SHORT_TEXT_MAX_CHARS);
        let handled_by = issues.bounded_text(Field::HandledBy, "经办人", NAME_MAX_CHARS);
        let notes = issues.bounded_text(Field::Notes, "备注", NOTES_MAX_CHARS);
        let (village, date, title, quantity) = (village?, date?, title?, quantity?);
        if !issues.errors.is_empty() {
            return None;
        }
        let unit = match issues.text(Field::Unit) {
            u if u.is_empty() => "份".to_string(),
            u => u.chars().take(UNIT_MAX_CHARS).collect(),
        };
        let material = self
            .catalogue
            .named_material(common, issues, &title, kind, &unit)?;
        // "120本" of a material counted in 份 is taken as 120份: the preview says so.
        let written = issues.text(Field::Quantity);
        if let (Some(written_unit), Some(unit)) =
            (written_unit(&written), self.catalogue.unit_of(&title))
        {
            if written_unit != unit {
                issues.warn(
                    Some(Field::Quantity),
                    format!("“{written}”按 {quantity}{unit} 计入（资料“{title}”以“{unit}”为单位）"),
                );
            }
        }
        let village_key = village.map(|v| v.to_string()).unwrap_or_default();
        let key = common.occurrence_key(&["materials", &village_key, &date.to_string(), &title]);
        let row = DistributionRow {
            material,
            distributed_on: date,
            village_id: village,
            quantity,
            recipients,
            place,
            handled_by,
            activity: None,
            notes,
            import_key: key.clone(),
        };
        match self.imported.get(&key).cloned() {
            Some((_, before)) if before == row => Some(Outcome::Unchanged),
            Some((id, before)) => {
                common.push(Op::UpdateDistribution {
                    id,
                    before: Box::new(before),
                    after: Box::new(row),
                });
                Some(Outcome::Updated)
            }
            None => {
                common.push(Op::CreateDistribution(Box::new(row)));
                Some(Outcome::Created)
            }
        }
    }
}
