//! 自学: study a cadre does on their own (a book, an online course, a video), recorded per
//! person with its hours, beside the sessions they attend.

use chrono::NaiveDate;
use serde::Serialize;

use super::fields::{FieldErrors, Fields};
use super::labels::coded_enum;
use super::material::NOTES_MAX_CHARS;

coded_enum! {
    StudyForm {
        Reading => ("reading", "读书"),
        Online => ("online", "网络学习"),
        Video => ("video", "观看视频"),
        Other => ("other", "其他"),
    }
}

impl StudyForm {
    /// The words clerks write in a 学习形式 column (empty is handled by the caller).
    pub fn from_word(word: &str) -> Option<Self> {
        match word.trim() {
            "自学" | "阅读" | "看书" | "读书学习" => Some(StudyForm::Reading),
            "网上学习" | "线上学习" | "网络" | "学习强国" | "网络培训" => {
                Some(StudyForm::Online)
            }
            "视频" | "观看" | "视频学习" | "看视频" => Some(StudyForm::Video),
            other => Self::from_zh(other).or_else(|| Self::from_code(other)),
        }
    }
}

/// What was studied: a law, a chapter, a course (e.g. 《民法典》第三编).
pub const CONTENT_MAX_CHARS: usize = 200;

/// The requirement kind that counts self-study records and hours (beside the session
/// kinds, and '' for every session).
pub const SELF_STUDY_REQUIREMENT: &str = "self_study";

/// What a study requirement counts, by its stored kind code.
pub fn requirement_kind_label(code: &str) -> &'static str {
    if code == SELF_STUDY_REQUIREMENT {
        return "自学";
    }
    super::session::SessionKind::from_code(code)
        .map(super::session::SessionKind::label_zh)
        .unwrap_or("全部学法活动")
}

/// The kinds a requirement can name on the settings page: each session kind, then 自学.
pub fn requirement_kind_options() -> Vec<super::labels::CodeLabel> {
    let mut options = super::session::SessionKind::options();
    options.push(super::labels::CodeLabel {
        code: SELF_STUDY_REQUIREMENT,
        label: "自学",
    });
    options
}

/// The self-study form as typed.
#[derive(Debug, Clone, Default)]
pub struct SelfStudyInput {
    pub person_id: String,
    pub studied_on: String,
    pub content: String,
    pub form: String,
    pub hours: String,
    pub notes: String,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct SelfStudyDraft {
    pub person_id: i64,
    pub studied_on: NaiveDate,
    pub content: String,
    pub form: StudyForm,
    pub hours: f64,
    pub notes: String,
}

impl SelfStudyInput {
    pub fn parse(&self) -> Result<SelfStudyDraft, FieldErrors> {
        let mut f = Fields::new();
        let person_id = f.optional_id("person_id", "人员", &self.person_id);
        if person_id.is_none() {
            f.error("person_id", "请选择人员");
        }
        let studied_on = f.date("studied_on", "学习日期", &self.studied_on);
        let content = f.text(
            "content",
            "学习内容",
            &self.content,
            true,
            CONTENT_MAX_CHARS,
        );
        let form = f
            .coded(
                "form",
                "学习形式",
                &self.form,
                StudyForm::from_code,
                StudyForm::from_zh,
            )
            .unwrap_or(StudyForm::Reading);
        let hours = if self.hours.trim().is_empty() {
            f.error("hours", "请填写学时");
            0.0
        } else {
            f.hours("hours", "学时", &self.hours)
        };
        if hours <= 0.0 && !f.errors.contains_key("hours") {
            f.error("hours", "学时必须大于0");
        }
        let notes = f.text("notes", "备注", &self.notes, false, NOTES_MAX_CHARS);
        match (person_id, studied_on) {
            (Some(person_id), Some(studied_on)) => f.finish(SelfStudyDraft {
                person_id,
                studied_on,
                content,
                form,
                hours,
                notes,
            }),
            _ => Err(f.errors),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> SelfStudyInput {
        SelfStudyInput {
            person_id: "7".into(),
            studied_on: "2021-03-05".into(),
            content: "《民法典》第三编".into(),
            form: "online".into(),
            hours: "2".into(),
            notes: String::new(),
        }
    }

    #[test]
    fn a_filled_form_parses() {
        let draft = input().parse().expect("valid");
        assert_eq!(draft.person_id, 7);
        assert_eq!(draft.form, StudyForm::Online);
        assert_eq!(draft.hours, 2.0);
    }

    #[test]
    fn every_wrong_field_is_named_at_once() {
        let bad = SelfStudyInput {
            person_id: "x".into(),
            studied_on: "2021-13-01".into(),
            content: " ".into(),
            form: "dance".into(),
            hours: "0".into(),
            notes: String::new(),
        };
        let errors = bad.parse().expect_err("invalid");
        for field in ["person_id", "studied_on", "content", "form", "hours"] {
            assert!(errors.contains_key(field), "{field}: {errors:?}");
        }
    }

    #[test]
    fn clerks_words_for_the_form() {
        assert_eq!(StudyForm::from_word("学习强国"), Some(StudyForm::Online));
        assert_eq!(StudyForm::from_word("观看视频"), Some(StudyForm::Video));
        assert_eq!(StudyForm::from_word("读书"), Some(StudyForm::Reading));
        assert_eq!(StudyForm::from_word("跳舞"), None);
    }
}
