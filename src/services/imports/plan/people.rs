//! The registry as the roster and attendance planners match rows to it, and what a
//! re-uploaded roster row changes on a person already registered.

use std::collections::HashMap;

use crate::store::imports::{PersonKey, Ref};
use crate::store::people::PersonRecord;

/// A person known to the plan: stored, or created by an earlier row.
#[derive(Debug, Clone)]
pub(super) struct KnownPerson {
    pub person: Ref,
    pub village_id: Option<i64>,
    pub name: String,
    pub phone: Option<String>,
    pub id_number: Option<String>,
}

impl From<PersonKey> for KnownPerson {
    fn from(key: PersonKey) -> Self {
        KnownPerson {
            person: Ref::Existing(key.id),
            village_id: key.village_id,
            name: key.name,
            phone: key.phone,
            id_number: key.id_number,
        }
    }
}

/// Everyone known (stored or planned), found by ID number or by village and name without
/// scanning the whole registry for each row.
#[derive(Default)]
pub(super) struct PeopleIndex {
    entries: Vec<KnownPerson>,
    /// Village → name → entries.
    by_name: HashMap<Option<i64>, HashMap<String, Vec<usize>>>,
    by_id_number: HashMap<String, usize>,
}

impl PeopleIndex {
    pub fn add(&mut self, entry: KnownPerson) {
        let index = self.entries.len();
        self.by_name
            .entry(entry.village_id)
            .or_default()
            .entry(entry.name.clone())
            .or_default()
            .push(index);
        if let Some(id) = &entry.id_number {
            self.by_id_number.insert(id.clone(), index);
        }
        self.entries.push(entry);
    }

    pub fn with_id_number(&self, id: &str) -> Option<&KnownPerson> {
        self.by_id_number.get(id).map(|i| &self.entries[*i])
    }

    /// Everyone of this name in the village (looked up without a copy of the name: this is
    /// done for every row of a sign-in sheet).
    pub fn named(
        &self,
        village: Option<i64>,
        name: &str,
    ) -> impl Iterator<Item = &KnownPerson> + '_ {
        self.by_name
            .get(&village)
            .and_then(|names| names.get(name))
            .into_iter()
            .flatten()
            .map(|i| &self.entries[*i])
    }
}

/// What a roster row changes on a registered person: name and village always; the other
/// columns only where the row fills them in; categories are added (a 认定日期 in the row
/// replaces the stored one), never removed.
pub(super) fn merge_person(stored: &PersonRecord, row: PersonRecord) -> PersonRecord {
    let mut merged = stored.clone();
    merged.name = row.name;
    merged.village_id = row.village_id;
    if row.gender.is_some() {
        merged.gender = row.gender;
    }
    if !row.post.is_empty() {
        merged.post = row.post;
    }
    if row.phone.is_some() {
        merged.phone = row.phone;
    }
    if row.id_number.is_some() {
        merged.id_number = row.id_number;
    }
    if !row.notes.is_empty() {
        merged.notes = row.notes;
    }
    for (category, since, until) in row.categories {
        match merged.categories.iter_mut().find(|(c, ..)| *c == category) {
            Some(held) if since.is_some() => held.1 = since,
            Some(_) => {}
            None => merged.categories.push((category, since, until)),
        }
    }
    merged
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;

    use super::*;
    use crate::domain::Category;

    fn stored() -> PersonRecord {
        PersonRecord {
            name: "张三".into(),
            gender: Some("male".into()),
            village_id: Some(1),
            post: "村主任".into(),
            phone: Some("13800000000".into()),
            id_number: None,
            notes: "老备注".into(),
            categories: vec![(Category::VillageCadre, None, None)],
        }
    }

    fn day(d: u32) -> Option<NaiveDate> {
        NaiveDate::from_ymd_opt(2021, 3, d)
    }

    #[test]
    fn blank_cells_keep_what_is_stored() {
        let row = PersonRecord {
            gender: None,
            post: String::new(),
            phone: None,
            notes: String::new(),
            categories: Vec::new(),
            ..stored()
        };
        assert_eq!(merge_person(&stored(), row), stored());
    }

    #[test]
    fn filled_cells_replace_and_categories_are_added() {
        let row = PersonRecord {
            name: "张三".into(),
            gender: None,
            village_id: Some(2),
            post: "文书".into(),
            phone: Some("13900000000".into()),
            id_number: Some("11010519491231002X".into()),
            notes: String::new(),
            categories: vec![(Category::LegalLiterate, day(5), None)],
        };
        let merged = merge_person(&stored(), row);
        assert_eq!(merged.village_id, Some(2));
        assert_eq!(merged.gender.as_deref(), Some("male"));
        assert_eq!(merged.post, "文书");
        assert_eq!(merged.phone.as_deref(), Some("13900000000"));
        assert_eq!(merged.id_number.as_deref(), Some("11010519491231002X"));
        assert_eq!(merged.notes, "老备注");
        assert_eq!(
            merged.categories,
            vec![
                (Category::VillageCadre, None, None),
                (Category::LegalLiterate, day(5), None)
            ]
        );
    }

    #[test]
    fn a_certification_date_replaces_the_stored_one_but_a_blank_does_not() {
        let mut before = stored();
        before.categories = vec![(Category::LegalLiterate, day(1), None)];
        let dated = PersonRecord {
            categories: vec![(Category::LegalLiterate, day(9), None)],
            ..before.clone()
        };
        assert_eq!(merge_person(&before, dated).categories[0].1, day(9));
        let undated = PersonRecord {
            categories: vec![(Category::LegalLiterate, None, None)],
            ..before.clone()
        };
        assert_eq!(merge_person(&before, undated).categories[0].1, day(1));
    }
}
