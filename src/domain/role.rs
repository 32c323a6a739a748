use super::labels::coded_enum;

coded_enum! {
    /// What a user may do (DESIGN.md, "The users").
    Role {
        Admin => ("admin", "管理员"),
        Organizer => ("organizer", "培训组织者"),
        Clerk => ("clerk", "村(社区)文书"),
        Viewer => ("viewer", "镇领导(只读)"),
    }
}

impl Role {
    /// Users, villages and settings.
    pub fn can_administer(self) -> bool {
        self == Role::Admin
    }

    /// Changing registry data at all (a clerk only in their own village).
    pub fn can_edit_records(self) -> bool {
        self != Role::Viewer
    }

    /// The material catalogue and stock receipts: organizer and admin work.
    pub fn can_manage_catalogue(self) -> bool {
        matches!(self, Role::Admin | Role::Organizer)
    }

    /// Sees every village's data.
    pub fn sees_all_villages(self) -> bool {
        self != Role::Clerk
    }
}
