//! 普法活动: outreach events with their 法律七进 place and audience groups.

use chrono::NaiveDate;
use serde::Serialize;

use super::fields::FieldErrors;
use super::fields::Fields;
use super::labels::coded_enum;
use super::material::{NOTES_MAX_CHARS, SHORT_TEXT_MAX_CHARS};
use super::person::NAME_MAX_CHARS;

coded_enum! {
    ActivityForm {
        Lecture => ("lecture", "讲座"),
        Stall => ("stall", "宣传摊点"),
        Consultation => ("consultation", "法律咨询"),
        Performance => ("performance", "文艺演出"),
        Training => ("training", "培训"),
        Other => ("other", "其他"),
    }
}

coded_enum! {
    /// 法律七进: where the law was taken.
    Place {
        Organ => ("organ", "机关"),
        Village => ("village", "乡村"),
        Community => ("community", "社区"),
        School => ("school", "学校"),
        Enterprise => ("enterprise", "企业"),
        Institution => ("institution", "单位"),
        Temple => ("temple", "寺庙"),
    }
}

impl ActivityForm {
    /// The words clerks write in a 活动形式 column (empty is handled by the caller).
    pub fn from_word(word: &str) -> Option<Self> {
        match word.trim() {
            "宣传" | "摆摊宣传" | "摊点" => Some(ActivityForm::Stall),
            "咨询" => Some(ActivityForm::Consultation),
            "文艺" | "演出" => Some(ActivityForm::Performance),
            other => Self::from_zh(other).or_else(|| Self::from_code(other)),
        }
    }
}

impl Place {
    /// “进学校” and “学校” both name the school.
    pub fn from_word(word: &str) -> Option<Self> {
        let word = word.trim();
        Self::from_zh(word.strip_prefix('进').unwrap_or(word)).or_else(|| Self::from_code(word))
    }
}

coded_enum! {
    AudienceGroup {
        Youth => ("youth", "青少年"),
        MigrantWorkers => ("migrant_workers", "外出务工人员"),
        RemoteVillages => ("remote_villages", "边远山村群众"),
        Enterprises => ("enterprises", "企业职工"),
        Villagers => ("villagers", "群众"),
        Cadres => ("cadres", "干部"),
    }
}

impl AudienceGroup {
    pub fn from_word(word: &str) -> Option<Self> {
        match word.trim() {
            "学生" | "中小学生" => Some(AudienceGroup::Youth),
            "务工人员" | "外出务工" | "农民工" => Some(AudienceGroup::MigrantWorkers),
            "边远山村" => Some(AudienceGroup::RemoteVillages),
            "企业" => Some(AudienceGroup::Enterprises),
            "村民" | "居民" => Some(AudienceGroup::Villagers),
            "党员干部" => Some(AudienceGroup::Cadres),
            other => Self::from_zh(other).or_else(|| Self::from_code(other)),
        }
    }
}

pub const TOPIC_MAX_CHARS: usize = 200;

/// One line of “materials handed out” on the activity form.
#[derive(Debug, Clone, Default)]
pub struct MaterialLineInput {
    pub material_id: String,
    pub quantity: String,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct MaterialLine {
    pub material_id: i64,
    pub quantity: i64,
}

#[derive(Debug, Clone, Default)]
pub struct ActivityInput {
    pub held_on: String,
    pub village_id: Option<i64>,
    pub topic: String,
    pub form: String,
    pub place: String,
    pub audience_groups: Vec<String>,
    pub audience_count: String,
    pub speaker: String,
    pub venue: String,
    pub notes: String,
    pub materials: Vec<MaterialLineInput>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ActivityDraft {
    pub held_on: NaiveDate,
    pub village_id: Option<i64>,
    pub topic: String,
    pub form: ActivityForm,
    pub place: Option<Place>,
    pub audience_groups: Vec<AudienceGroup>,
    pub audience_count: i64,
    pub speaker: String,
    pub venue: String,
    pub notes: String,
    pub materials: Vec<MaterialLine>,
}

impl ActivityInput {
    pub fn parse(&self) -> Result<ActivityDraft, FieldErrors> {
        let mut f = Fields::new();
        let held_on = f.date("held_on", "活动日期", &self.held_on);
        let topic = f.text("topic", "活动主题", &self.topic, true, TOPIC_MAX_CHARS);
        let form = f.coded(
            "form",
            "活动形式",
            &self.form,
            ActivityForm::from_code,
            ActivityForm::from_zh,
        );
        let place = f.coded(
            "place",
            "法律七进场所",
            &self.place,
            Place::from_code,
            Place::from_word,
        );
        let mut audience_groups = Vec::new();
        for word in &self.audience_groups {
            if let Some(group) = f.coded(
                "audience_groups",
                "受众对象",
                word,
                AudienceGroup::from_code,
                AudienceGroup::from_word,
            ) {
                if !audience_groups.contains(&group) {
                    audience_groups.push(group);
                }
            }
        }
        audience_groups.sort_by_key(|g| AudienceGroup::ALL.iter().position(|a| a == g));
        let audience_count = f.whole_number("audience_count", "参与人数", &self.audience_count, 0);
        let speaker = f.text("speaker", "主讲人", &self.speaker, false, NAME_MAX_CHARS);
        let venue = f.text("venue", "地点", &self.venue, false, SHORT_TEXT_MAX_CHARS);
        let notes = f.text("notes", "备注", &self.notes, false, NOTES_MAX_CHARS);
        let mut materials = Vec::new();
        for (index, line) in self.materials.iter().enumerate() {
            let blank = line.material_id.trim().is_empty() && line.quantity.trim().is_empty();
            if blank {
                continue;
            }
            let field = format!("materials.{index}");
            let material_id = f.optional_id(&field, "资料", &line.material_id);
            if material_id.is_none() {
                f.error(&field, "请选择发放的资料");
            }
            let quantity = f.whole_number(&field, "发放数量", &line.quantity, 1);
            if let Some(material_id) = material_id {
                materials.push(MaterialLine {
                    material_id,
                    quantity,
                });
            }
        }
        let Some(held_on) = held_on else {
            return Err(f.errors);
        };
        f.finish(ActivityDraft {
            held_on,
            village_id: self.village_id,
            topic,
            form: form.unwrap_or(ActivityForm::Other),
            place,
            audience_groups,
            audience_count,
            speaker,
            venue,
            notes,
            materials,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn valid() -> ActivityInput {
        ActivityInput {
            held_on: "2021-06-26".into(),
            topic: "禁毒宣传进校园".into(),
            form: "stall".into(),
            place: "进学校".into(),
            audience_groups: vec!["youth".into(), "青少年".into(), "cadres".into()],
            audience_count: "120人次".into(),
            ..ActivityInput::default()
        }
    }

    #[test]
    fn groups_are_deduplicated_and_place_accepts_the_jin_prefix() {
        let draft = valid().parse().unwrap();
        assert_eq!(draft.place, Some(Place::School));
        assert_eq!(
            draft.audience_groups,
            vec![AudienceGroup::Youth, AudienceGroup::Cadres]
        );
        assert_eq!(draft.audience_count, 120);
    }

    #[test]
    fn material_lines_need_a_material_and_a_positive_quantity() {
        let mut input = valid();
        input.materials = vec![
            MaterialLineInput {
                material_id: "4".into(),
                quantity: "50".into(),
            },
            MaterialLineInput::default(),
            MaterialLineInput {
                material_id: String::new(),
                quantity: "30".into(),
            },
        ];
        let errors = input.parse().unwrap_err();
        assert_eq!(errors.len(), 1);
        assert_eq!(errors["materials.2"], "请选择发放的资料");
        input.materials.truncate(2);
        let draft = input.parse().unwrap();
        assert_eq!(
            draft.materials,
            vec![MaterialLine {
                material_id: 4,
                quantity: 50
            }]
        );
    }

    #[test]
    fn unknown_words_are_named_in_the_message() {
        let mut input = valid();
        input.place = "进菜市场".into();
        input.audience_groups = vec!["外星人".into()];
        let errors = input.parse().unwrap_err();
        assert!(errors["place"].contains("进菜市场"));
        assert!(errors["audience_groups"].contains("外星人"));
    }
}
