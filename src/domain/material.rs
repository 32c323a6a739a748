//! 普法资料: the catalogue, stock receipts (入库) and distributions (发放).

use chrono::NaiveDate;
use serde::Serialize;

use super::fields::FieldErrors;
use super::fields::Fields;
use super::labels::coded_enum;
use super::person::NAME_MAX_CHARS;

coded_enum! {
    MaterialKind {
        Booklet => ("booklet", "手册"),
        Leaflet => ("leaflet", "折页/宣传单"),
        Poster => ("poster", "海报"),
        Book => ("book", "书籍"),
        Banner => ("banner", "横幅"),
        Other => ("other", "其他"),
    }
}

impl MaterialKind {
    /// Also the words clerks use for a kind in their own sheets.
    pub fn from_word(word: &str) -> Option<Self> {
        match word.trim() {
            "折页" | "宣传单" | "传单" | "宣传册" => Some(MaterialKind::Leaflet),
            "书" | "图书" => Some(MaterialKind::Book),
            other => Self::from_zh(other).or_else(|| Self::from_code(other)),
        }
    }
}

/// Units offered on the form; a spreadsheet may bring another short word.
pub const UNITS: &[&str] = &["份", "册", "张", "条", "本", "套"];
pub const TITLE_MAX_CHARS: usize = 100;
pub const SHORT_TEXT_MAX_CHARS: usize = 100;
pub const NOTES_MAX_CHARS: usize = 2000;
pub const UNIT_MAX_CHARS: usize = 4;

/// What makes two titles the same material: their letters, digits and characters, without
/// spaces, brackets, quotes or punctuation, full-width folded to half-width
/// (《民法典》宣传手册 and 民法典 宣传手册 are one material).
pub fn title_key(title: &str) -> String {
    super::text::to_half_width(title)
        .chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

#[derive(Debug, Clone, Default)]
pub struct MaterialInput {
    pub title: String,
    pub kind: String,
    pub unit: String,
    pub notes: String,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct MaterialDraft {
    pub title: String,
    pub kind: MaterialKind,
    pub unit: String,
    pub notes: String,
}

impl MaterialInput {
    pub fn parse(&self) -> Result<MaterialDraft, FieldErrors> {
        let mut f = Fields::new();
        let title = f.text("title", "资料名称", &self.title, true, TITLE_MAX_CHARS);
        let kind = f.coded(
            "kind",
            "资料类型",
            &self.kind,
            MaterialKind::from_code,
            MaterialKind::from_word,
        );
        if kind.is_none() && !f.errors.contains_key("kind") {
            f.error("kind", "请选择资料类型");
        }
        let unit = f.text("unit", "单位", &self.unit, false, UNIT_MAX_CHARS);
        let notes = f.text("notes", "备注", &self.notes, false, NOTES_MAX_CHARS);
        let draft = MaterialDraft {
            title,
            kind: kind.unwrap_or(MaterialKind::Other),
            unit: if unit.is_empty() { "份".into() } else { unit },
            notes,
        };
        f.finish(draft)
    }
}

#[derive(Debug, Clone, Default)]
pub struct ReceiptInput {
    pub received_on: String,
    pub quantity: String,
    pub source: String,
    pub notes: String,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ReceiptDraft {
    pub received_on: NaiveDate,
    pub quantity: i64,
    pub source: String,
    pub notes: String,
}

impl ReceiptInput {
    pub fn parse(&self) -> Result<ReceiptDraft, FieldErrors> {
        let mut f = Fields::new();
        let received_on = f.date("received_on", "入库日期", &self.received_on);
        let quantity = f.whole_number("quantity", "数量", &self.quantity, 1);
        let source = f.text("source", "来源", &self.source, false, SHORT_TEXT_MAX_CHARS);
        let notes = f.text("notes", "备注", &self.notes, false, NOTES_MAX_CHARS);
        let Some(received_on) = received_on else {
            return Err(f.errors);
        };
        f.finish(ReceiptDraft {
            received_on,
            quantity,
            source,
            notes,
        })
    }
}

#[derive(Debug, Clone, Default)]
pub struct DistributionInput {
    pub material_id: String,
    pub distributed_on: String,
    pub village_id: Option<i64>,
    pub quantity: String,
    pub recipients: String,
    pub place: String,
    pub handled_by: String,
    pub session_id: String,
    pub activity_id: String,
    pub notes: String,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct DistributionDraft {
    pub material_id: i64,
    pub distributed_on: NaiveDate,
    pub village_id: Option<i64>,
    pub quantity: i64,
    pub recipients: String,
    pub place: String,
    pub handled_by: String,
    pub session_id: Option<i64>,
    pub activity_id: Option<i64>,
    pub notes: String,
}

impl DistributionInput {
    pub fn parse(&self) -> Result<DistributionDraft, FieldErrors> {
        let mut f = Fields::new();
        let material_id = f.optional_id("material_id", "资料", &self.material_id);
        if material_id.is_none() && !f.errors.contains_key("material_id") {
            f.error("material_id", "请选择资料");
        }
        let distributed_on = f.date("distributed_on", "发放日期", &self.distributed_on);
        let quantity = f.whole_number("quantity", "数量", &self.quantity, 1);
        let recipients = f.text(
            "recipients",
            "发放对象",
            &self.recipients,
            false,
            SHORT_TEXT_MAX_CHARS,
        );
        let place = f.text(
            "place",
            "发放地点",
            &self.place,
            false,
            SHORT_TEXT_MAX_CHARS,
        );
        let handled_by = f.text(
            "handled_by",
            "经办人",
            &self.handled_by,
            false,
            NAME_MAX_CHARS,
        );
        let session_id = f.optional_id("session_id", "学法活动", &self.session_id);
        let activity_id = f.optional_id("activity_id", "普法活动", &self.activity_id);
        let notes = f.text("notes", "备注", &self.notes, false, NOTES_MAX_CHARS);
        let (Some(material_id), Some(distributed_on)) = (material_id, distributed_on) else {
            return Err(f.errors);
        };
        f.finish(DistributionDraft {
            material_id,
            distributed_on,
            village_id: self.village_id,
            quantity,
            recipients,
            place,
            handled_by,
            session_id,
            activity_id,
            notes,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_distribution_reports_every_wrong_field_at_once() {
        let input = DistributionInput {
            material_id: "x".into(),
            distributed_on: "2021.13.5".into(),
            quantity: "0".into(),
            ..DistributionInput::default()
        };
        let errors = input.parse().unwrap_err();
        assert_eq!(errors["material_id"], "所选资料不存在");
        assert!(errors["distributed_on"].contains("不是有效日期"));
        assert_eq!(errors["quantity"], "数量至少为1");
    }

    #[test]
    fn quantities_with_units_and_full_width_digits_are_read() {
        let input = DistributionInput {
            material_id: "3".into(),
            distributed_on: "2021年3月5日".into(),
            quantity: "１,２００份".into(),
            ..DistributionInput::default()
        };
        let draft = input.parse().unwrap();
        assert_eq!(draft.quantity, 1200);
        assert_eq!(
            draft.distributed_on,
            NaiveDate::from_ymd_opt(2021, 3, 5).unwrap()
        );
    }

    #[test]
    fn material_kind_accepts_code_label_and_common_words() {
        assert_eq!(
            MaterialKind::from_word("宣传单"),
            Some(MaterialKind::Leaflet)
        );
        assert_eq!(MaterialKind::from_word("手册"), Some(MaterialKind::Booklet));
        let input = MaterialInput {
            title: "民法典宣传手册".into(),
            kind: "poster".into(),
            ..MaterialInput::default()
        };
        let draft = input.parse().unwrap();
        assert_eq!(draft.kind, MaterialKind::Poster);
        assert_eq!(draft.unit, "份");
        let missing = MaterialInput::default().parse().unwrap_err();
        assert!(missing.contains_key("title") && missing.contains_key("kind"));
    }
}

#[cfg(test)]
mod title_tests {
    use super::title_key;

    #[test]
    fn titles_differing_in_punctuation_brackets_or_spaces_are_one_material() {
        let key = title_key("《民法典》宣传手册");
        for same in [
            "民法典宣传手册",
            "“民法典” 宣传手册",
            "民法典（宣传手册）",
            "《民法典》宣传手册 ",
        ] {
            assert_eq!(title_key(same), key, "{same}");
        }
        assert_ne!(title_key("宪法宣传手册"), key);
        assert_eq!(title_key("ＡＢＣ 读本"), title_key("abc读本"));
    }
}
