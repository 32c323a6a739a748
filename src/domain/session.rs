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

coded_enum! {
    SessionStatus {
        Planned => ("planned", "计划"),
        Held => ("held", "已举行"),
        Cancelled => ("cancelled", "已取消"),
    }
}
