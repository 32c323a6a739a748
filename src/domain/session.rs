//! Law-study sessions (学法活动): kinds and statuses.

use super::labels::coded_enum;

coded_enum! {
    SessionKind {
        PreMeeting => ("pre_meeting", "会前学法"),
        Committee => ("committee", "党委会专题学法"),
        Lecture => ("lecture", "法治讲座"),
        Training => ("training", "专题培训"),
        Collective => ("collective", "集中学法"),
        LiterateTraining => ("literate_training", "法律明白人培训"),
        Other => ("other", "其他"),
    }
}

impl SessionKind {
    /// The words clerks write in a 学习形式 column; empty is 集中学法.
    pub fn from_word(word: &str) -> Option<Self> {
        match word.trim() {
            "" => Some(SessionKind::Collective),
            "党委会" | "党委会学法" => Some(SessionKind::Committee),
            "讲座" => Some(SessionKind::Lecture),
            "培训" => Some(SessionKind::Training),
            other => Self::from_zh(other).or_else(|| Self::from_code(other)),
        }
    }
}

coded_enum! {
    SessionStatus {
        Planned => ("planned", "计划"),
        Held => ("held", "已举行"),
        Cancelled => ("cancelled", "已取消"),
    }
}

coded_enum! {
    AttendanceStatus {
        Present => ("present", "出勤"),
        Late => ("late", "迟到"),
        Excused => ("excused", "请假"),
        Absent => ("absent", "缺席"),
    }
}

impl AttendanceStatus {
    /// Present or late: counts as a person-time (人次) and earns hours.
    pub fn attended(self) -> bool {
        matches!(self, AttendanceStatus::Present | AttendanceStatus::Late)
    }

    /// The words clerks write in a sign-in column (spec: imports.md); empty is present.
    pub fn from_word(word: &str) -> Option<Self> {
        match word.trim() {
            // 已签到 / 未签到: what a sign-in sheet's own column says beside the spec's words.
            "" | "出勤" | "到" | "已到" | "√" | "✓" | "是" | "签到" | "已签到" => {
                Some(AttendanceStatus::Present)
            }
            "迟到" => Some(AttendanceStatus::Late),
            "请假" | "事假" | "病假" | "公假" => Some(AttendanceStatus::Excused),
            "缺席" | "缺勤" | "未到" | "×" | "✗" | "否" | "未签到" => {
                Some(AttendanceStatus::Absent)
            }
            other => Self::from_code(other),
        }
    }
}

coded_enum! {
    AttendanceSource {
        Manual => ("manual", "手工登记"),
        Import => ("import", "表格导入"),
        SelfCheckin => ("self_checkin", "扫码签到"),
    }
}

#[cfg(test)]
mod tests {
    use super::AttendanceStatus;

    #[test]
    fn the_sign_in_words_of_real_sheets_are_understood() {
        for (word, status) in [
            ("已签到", AttendanceStatus::Present),
            (" 签到 ", AttendanceStatus::Present),
            ("√", AttendanceStatus::Present),
            ("", AttendanceStatus::Present),
            ("迟到", AttendanceStatus::Late),
            ("病假", AttendanceStatus::Excused),
            ("未签到", AttendanceStatus::Absent),
            ("缺席", AttendanceStatus::Absent),
        ] {
            assert_eq!(AttendanceStatus::from_word(word), Some(status), "{word}");
        }
        assert_eq!(AttendanceStatus::from_word("签"), None);
    }
}
