//! A person as entered on the form or in a roster, parsed into valid parts.

use chrono::NaiveDate;
use serde::Serialize;

use super::dates::parse_cn_date;
pub use super::fields::FieldErrors;
use super::labels::coded_enum;
use super::text::non_empty;
use super::{Category, IdNumber, Phone};

coded_enum! {
    Gender {
        Male => ("male", "男"),
        Female => ("female", "女"),
    }
}

impl Gender {
    /// 男/女, or the stored code.
    pub fn from_word(word: &str) -> Option<Self> {
        let word = word.trim();
        Self::from_zh(word).or_else(|| Self::from_code(word))
    }
}

/// Also the limit of every other person's name on a form (speaker, handled by, organizer).
pub const NAME_MAX_CHARS: usize = 50;

pub const NOTES_MAX_CHARS: usize = 2000;

/// A category held by a person, from 认定日期 (`since`) to 清退 (`until`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CategoryHolding {
    pub category: Category,
    pub since: Option<NaiveDate>,
    pub until: Option<NaiveDate>,
}

impl CategoryHolding {
    /// Whether the category is held on the given day.
    pub fn is_held_on(&self, day: NaiveDate) -> bool {
        self.since.is_none_or(|s| s <= day) && self.until.is_none_or(|u| day <= u)
    }
}

/// Raw text of a person form or roster row, before validation.
#[derive(Debug, Clone, Default)]
pub struct PersonInput {
    pub name: String,
    pub gender: String,
    pub village_id: Option<i64>,
    pub post: String,
    pub phone: String,
    pub id_number: String,
    pub notes: String,
    /// (category code, since text, until text) for every ticked category.
    pub categories: Vec<(String, String, String)>,
}

/// A person that passed validation.
#[derive(Debug, Clone, Serialize)]
pub struct PersonDraft {
    pub name: String,
    pub gender: Option<Gender>,
    pub village_id: Option<i64>,
    pub post: String,
    #[serde(serialize_with = "serialize_phone")]
    pub phone: Option<Phone>,
    #[serde(skip)]
    pub id_number: Option<IdNumber>,
    pub notes: String,
    pub categories: Vec<CategoryHolding>,
}

fn serialize_phone<S: serde::Serializer>(phone: &Option<Phone>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_some(&phone.as_ref().map(Phone::as_str))
}

impl PersonDraft {
    /// What the audit log keeps: everything, with the ID number masked.
    pub fn for_audit(&self) -> serde_json::Value {
        let mut value = serde_json::to_value(self).unwrap_or(serde_json::Value::Null);
        if let serde_json::Value::Object(map) = &mut value {
            map.insert(
                "id_number".into(),
                self.id_number.as_ref().map(IdNumber::masked).into(),
            );
        }
        value
    }
}

impl PersonInput {
    pub fn parse(&self) -> Result<PersonDraft, FieldErrors> {
        let mut errors = FieldErrors::new();
        let name = non_empty(&self.name).unwrap_or_default();
        if name.is_empty() {
            errors.insert("name".into(), "请填写姓名".into());
        } else if name.chars().count() > NAME_MAX_CHARS {
            errors.insert("name".into(), format!("姓名不能超过{NAME_MAX_CHARS}个字"));
        }
        let gender = match non_empty(&self.gender) {
            None => None,
            Some(g) => match Gender::from_word(&g) {
                Some(gender) => Some(gender),
                None => {
                    errors.insert("gender".into(), "性别只能是“男”或“女”".into());
                    None
                }
            },
        };
        let phone = match non_empty(&self.phone) {
            None => None,
            Some(p) => Phone::parse(&p)
                .map_err(|e| errors.insert("phone".into(), e.to_string()))
                .ok(),
        };
        let id_number = match non_empty(&self.id_number) {
            None => None,
            Some(i) => IdNumber::parse(&i)
                .map_err(|e| errors.insert("id_number".into(), e.to_string()))
                .ok(),
        };
        let notes = self.notes.trim().to_string();
        if notes.chars().count() > NOTES_MAX_CHARS {
            errors.insert("notes".into(), format!("备注不能超过{NOTES_MAX_CHARS}个字"));
        }
        let mut categories = Vec::new();
        for (code, since, until) in &self.categories {
            let Some(category) = Category::from_code(code) else {
                errors.insert("categories".into(), format!("未知的身份类别“{code}”"));
                continue;
            };
            let since_field = format!("since_{code}");
            let since = parse_optional_date(since, &since_field, &mut errors);
            // A 法律明白人 counts from the day they were certified: without it they would
            // count in every past year.
            if category == Category::LegalLiterate
                && since.is_none()
                && !errors.contains_key(&since_field)
            {
                errors.insert(
                    since_field,
                    "请填写认定日期（法律明白人从认定之日起计入各年度统计）".into(),
                );
            }
            let until = parse_optional_date(until, &format!("until_{code}"), &mut errors);
            if let (Some(s), Some(u)) = (since, until) {
                if u < s {
                    errors.insert(format!("until_{code}"), "清退日期不能早于认定日期".into());
                }
            }
            if categories
                .iter()
                .any(|c: &CategoryHolding| c.category == category)
            {
                continue;
            }
            categories.push(CategoryHolding {
                category,
                since,
                until,
            });
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(PersonDraft {
            name,
            gender,
            village_id: self.village_id,
            post: non_empty(&self.post).unwrap_or_default(),
            phone,
            id_number,
            notes,
            categories,
        })
    }
}

fn parse_optional_date(text: &str, field: &str, errors: &mut FieldErrors) -> Option<NaiveDate> {
    let text = non_empty(text)?;
    match parse_cn_date(&text) {
        Ok(date) => Some(date),
        Err(e) => {
            errors.insert(field.to_string(), e.to_string());
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(name: &str) -> PersonInput {
        PersonInput {
            name: name.into(),
            ..PersonInput::default()
        }
    }

    #[test]
    fn minimal_person_is_valid() {
        let draft = input(" 张三 ").parse().expect("valid");
        assert_eq!(draft.name, "张三");
        assert!(draft.phone.is_none() && draft.id_number.is_none());
    }

    #[test]
    fn every_bad_field_gets_its_own_message() {
        let mut raw = input("");
        raw.phone = "12345".into();
        raw.id_number = "511921800101123".into();
        raw.gender = "未知".into();
        let errors = raw.parse().unwrap_err();
        assert_eq!(errors["name"], "请填写姓名");
        assert!(errors["phone"].contains("电话号码格式不正确"));
        assert!(errors["id_number"].contains("18位"));
        assert!(errors.contains_key("gender"));
    }

    #[test]
    fn overlong_notes_are_refused_not_cut() {
        let mut raw = input("赵六");
        raw.notes = "备".repeat(NOTES_MAX_CHARS + 1);
        assert!(raw.parse().unwrap_err()["notes"].contains("2000"));
        raw.notes = "备".repeat(NOTES_MAX_CHARS);
        assert_eq!(raw.parse().unwrap().notes.chars().count(), NOTES_MAX_CHARS);
    }

    #[test]
    fn categories_with_dates() {
        let mut raw = input("李四");
        raw.categories = vec![
            ("legal_literate".into(), "2021年3月5日".into(), "".into()),
            ("mediator".into(), "2021-01-01".into(), "2020-12-31".into()),
        ];
        let errors = raw.parse().unwrap_err();
        assert!(errors["until_mediator"].contains("不能早于"));

        raw.categories.truncate(1);
        raw.categories[0].1 = " ".into();
        assert!(raw.parse().unwrap_err()["since_legal_literate"].contains("请填写认定日期"));
        raw.categories[0].1 = "2021年3月5日".into();
        let draft = raw.parse().expect("valid");
        let held = &draft.categories[0];
        assert_eq!(held.category, Category::LegalLiterate);
        assert_eq!(held.since, NaiveDate::from_ymd_opt(2021, 3, 5));
        assert!(held.is_held_on(NaiveDate::from_ymd_opt(2021, 3, 5).unwrap()));
        assert!(!held.is_held_on(NaiveDate::from_ymd_opt(2021, 3, 4).unwrap()));
    }

    #[test]
    fn audit_view_masks_the_id_number() {
        let mut raw = input("王五");
        raw.id_number = "11010519491231002X".into();
        let audit = raw.parse().unwrap().for_audit().to_string();
        assert!(audit.contains("110105********002X"));
        assert!(!audit.contains("11010519491231002X"));
    }
}
