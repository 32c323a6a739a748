//! The four kinds of spreadsheet clerks upload and the columns pufa recognises in them
//! (../shared/spec/imports.md), with header normalisation.

use super::labels::coded_enum;
use super::text::to_half_width;

coded_enum! {
    ImportKind {
        Roster => ("roster", "人员花名册"),
        Attendance => ("attendance", "学法签到表"),
        Materials => ("materials", "普法资料发放登记表"),
        Activities => ("activities", "普法活动台账"),
        SelfStudy => ("self_study", "自学登记表"),
    }
}

/// A column pufa understands. The same field (e.g. the village) appears in several kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Field {
    Name,
    Village,
    Gender,
    Categories,
    Post,
    Phone,
    IdNumber,
    CertifiedOn,
    Notes,
    Date,
    Topic,
    AttendanceStatus,
    Hours,
    SessionKind,
    Speaker,
    MaterialTitle,
    MaterialKind,
    Quantity,
    Unit,
    Recipients,
    Place,
    HandledBy,
    ActivityForm,
    SevenPlaces,
    AudienceGroups,
    AudienceCount,
    Venue,
    MaterialsHandedOut,
    /// 签名 on a printed sign-in sheet: signed means present.
    Signature,
    /// 学习形式 of a self-study record (读书, 网络学习, …).
    StudyForm,
}

/// (field, canonical header, synonyms, required)
type ColumnSpec = (Field, &'static str, &'static [&'static str], bool);

const VILLAGE_SYNONYMS: &[&str] = &[
    "村",
    "村名",
    "所属村",
    "社区",
    "村(居)",
    "所在村",
    "村社区",
    "村(社区)名称",
];

const ROSTER: &[ColumnSpec] = &[
    (Field::Name, "姓名", &["名字", "人员姓名"], true),
    (Field::Village, "村(社区)", VILLAGE_SYNONYMS, false),
    (Field::Gender, "性别", &[], false),
    (
        Field::Categories,
        "身份类别",
        &["类别", "人员类别", "身份"],
        true,
    ),
    (Field::Post, "职务", &["现任职务", "职位"], false),
    (
        Field::Phone,
        "联系电话",
        &["电话", "手机", "手机号", "手机号码", "联系方式"],
        false,
    ),
    (
        Field::IdNumber,
        "身份证号",
        &["身份证号码", "公民身份号码", "身份证"],
        false,
    ),
    (
        Field::CertifiedOn,
        "认定日期",
        &["认定时间", "培养日期"],
        false,
    ),
    (Field::Notes, "备注", &["说明"], false),
];

const ATTENDANCE: &[ColumnSpec] = &[
    (
        Field::Date,
        "日期",
        &["学习日期", "活动日期", "时间", "学习时间"],
        true,
    ),
    (
        Field::Topic,
        "学习内容",
        &["活动名称", "学习主题", "主题", "内容", "课程"],
        true,
    ),
    (
        Field::Name,
        "姓名",
        &["参学人员", "参加人员", "人员姓名"],
        true,
    ),
    (Field::Village, "村(社区)", VILLAGE_SYNONYMS, false),
    (
        Field::AttendanceStatus,
        "签到情况",
        &["出勤情况", "考勤", "状态", "签到"],
        false,
    ),
    (Field::Hours, "学时", &["时长", "学时(小时)", "课时"], false),
    (Field::SessionKind, "学习形式", &["类型", "活动类型"], false),
    (Field::Speaker, "主讲人", &["授课人", "讲师"], false),
    (Field::Signature, "签名", &["本人签名", "签到签名"], false),
    (Field::Notes, "备注", &[], false),
];

const MATERIALS: &[ColumnSpec] = &[
    (Field::Date, "发放日期", &["日期", "时间"], true),
    (Field::Village, "村(社区)", VILLAGE_SYNONYMS, false),
    (
        Field::MaterialTitle,
        "资料名称",
        &["名称", "宣传资料", "资料"],
        true,
    ),
    (Field::MaterialKind, "资料类型", &["类型", "种类"], false),
    (
        Field::Quantity,
        "数量",
        &["份数", "发放数量", "数量(份)"],
        true,
    ),
    (Field::Unit, "单位", &["计量单位"], false),
    (Field::Recipients, "发放对象", &["对象", "受众"], false),
    (Field::Place, "发放地点", &["地点", "活动"], false),
    (Field::HandledBy, "经办人", &["发放人", "负责人"], false),
    (Field::Notes, "备注", &[], false),
];

const ACTIVITIES: &[ColumnSpec] = &[
    (Field::Date, "日期", &["活动日期", "时间"], true),
    (Field::Village, "村(社区)", VILLAGE_SYNONYMS, false),
    (
        Field::Topic,
        "活动主题",
        &["活动名称", "主题", "内容"],
        true,
    ),
    (Field::ActivityForm, "活动形式", &["形式", "方式"], false),
    (
        Field::SevenPlaces,
        "法律七进",
        &["七进类别", "进入场所"],
        false,
    ),
    (Field::AudienceGroups, "受众对象", &["对象", "受众"], false),
    (
        Field::AudienceCount,
        "参与人数",
        &["受众人次", "人数", "参加人数"],
        true,
    ),
    (Field::Speaker, "主讲人", &["授课人"], false),
    (Field::Venue, "地点", &["活动地点"], false),
    (
        Field::MaterialsHandedOut,
        "发放资料(份)",
        &["发放资料", "资料份数"],
        false,
    ),
    (Field::Notes, "备注", &[], false),
];

const SELF_STUDY: &[ColumnSpec] = &[
    (
        Field::Date,
        "日期",
        &["学习日期", "自学日期", "时间", "学习时间"],
        true,
    ),
    (Field::Name, "姓名", &["人员姓名", "学习人"], true),
    (Field::Village, "村(社区)", VILLAGE_SYNONYMS, false),
    (
        Field::Topic,
        "学习内容",
        &["自学内容", "学习主题", "内容", "学习材料", "学习资料"],
        true,
    ),
    (
        Field::StudyForm,
        "学习形式",
        &["自学形式", "形式", "方式", "学习方式"],
        false,
    ),
    (
        Field::Hours,
        "学时",
        &["自学学时", "时长", "学时(小时)", "自学时长"],
        true,
    ),
    (Field::Notes, "备注", &[], false),
];

impl ImportKind {
    pub fn columns(self) -> &'static [ColumnSpec] {
        match self {
            ImportKind::Roster => ROSTER,
            ImportKind::Attendance => ATTENDANCE,
            ImportKind::Materials => MATERIALS,
            ImportKind::Activities => ACTIVITIES,
            ImportKind::SelfStudy => SELF_STUDY,
        }
    }

    /// The field a (normalised) header names in this kind, if any.
    pub fn field_for(self, header: &str) -> Option<Field> {
        self.columns()
            .iter()
            .find_map(|(field, canonical, synonyms, _)| {
                (normalise_header(canonical) == header
                    || synonyms.iter().any(|s| normalise_header(s) == header))
                .then_some(*field)
            })
    }

    pub fn required(self) -> Vec<Field> {
        self.columns().iter().filter(|c| c.3).map(|c| c.0).collect()
    }

    pub fn canonical_header(self, field: Field) -> &'static str {
        self.columns()
            .iter()
            .find(|c| c.0 == field)
            .map(|c| c.1)
            .unwrap_or("")
    }
}

/// Header text as compared: trimmed, without spaces, line breaks, `*` and “(必填)”,
/// full-width punctuation made half-width.
pub fn normalise_header(header: &str) -> String {
    let half = to_half_width(header);
    half.replace("(必填)", "")
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '*')
        .collect::<String>()
        .replace("(必填)", "")
}

/// The first cell of a row that is a total or a footer rather than data.
pub fn is_total_or_footer(first_cell: &str) -> bool {
    let text: String = first_cell.chars().filter(|c| !c.is_whitespace()).collect();
    const TOTALS: &[&str] = &["合计", "总计", "小计", "累计"];
    const FOOTERS: &[&str] = &["填表人", "制表人", "审核人", "负责人", "填报日期", "说明"];
    TOTALS.iter().any(|t| text.starts_with(t)) || FOOTERS.iter().any(|f| text.starts_with(f))
}

/// Excel's column letters: 0 → A, 25 → Z, 26 → AA.
pub fn column_letter(mut index: usize) -> String {
    let mut letters = Vec::new();
    loop {
        letters.push((b'A' + (index % 26) as u8) as char);
        if index < 26 {
            break;
        }
        index = index / 26 - 1;
    }
    letters.iter().rev().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_are_normalised_before_matching() {
        assert_eq!(normalise_header(" 姓 名*\n"), "姓名");
        assert_eq!(normalise_header("村（社区）（必填）"), "村(社区)");
        assert_eq!(
            ImportKind::Materials.field_for(&normalise_header("数量（份）")),
            Some(Field::Quantity)
        );
        assert_eq!(
            ImportKind::Roster.field_for(&normalise_header("公民身份号码")),
            Some(Field::IdNumber)
        );
        assert_eq!(ImportKind::Roster.field_for("发放日期"), None);
    }

    #[test]
    fn totals_and_footers_are_recognised() {
        assert!(is_total_or_footer("合 计"));
        assert!(is_total_or_footer("填表人：张三"));
        assert!(!is_total_or_footer("张三"));
    }

    #[test]
    fn column_letters_like_excel() {
        assert_eq!(column_letter(0), "A");
        assert_eq!(column_letter(25), "Z");
        assert_eq!(column_letter(26), "AA");
        assert_eq!(column_letter(27), "AB");
        assert_eq!(column_letter(701), "ZZ");
        assert_eq!(column_letter(702), "AAA");
    }
}
