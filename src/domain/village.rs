use super::labels::coded_enum;

coded_enum! {
    VillageKind {
        Village => ("village", "村"),
        Community => ("community", "社区"),
    }
}

/// Which villages' records a list or an actor covers: everything, the township level
/// (镇级, 镇机关) only, or one village.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum VillageScope {
    #[default]
    Any,
    Township,
    Village(i64),
}

impl VillageScope {
    /// A list's village filter: none chosen is every village.
    pub fn of(village_id: Option<i64>) -> Self {
        village_id.map_or(VillageScope::Any, VillageScope::Village)
    }

    /// Whether a record of this village (`None`: township level) is in scope.
    pub fn includes(self, village_id: Option<i64>) -> bool {
        match self {
            VillageScope::Any => true,
            VillageScope::Township => village_id.is_none(),
            VillageScope::Village(own) => village_id == Some(own),
        }
    }

    /// The one village of the scope, if it is one.
    pub fn village(self) -> Option<i64> {
        match self {
            VillageScope::Village(id) => Some(id),
            _ => None,
        }
    }

    /// How queries bind it: a code ("any", "township", "village") and the village id.
    pub fn code(self) -> &'static str {
        match self {
            VillageScope::Any => "any",
            VillageScope::Township => "township",
            VillageScope::Village(_) => "village",
        }
    }
}

#[cfg(test)]
mod scope_tests {
    use super::VillageScope;

    #[test]
    fn scopes_include_what_they_name() {
        assert!(VillageScope::Any.includes(None) && VillageScope::Any.includes(Some(3)));
        assert!(VillageScope::Township.includes(None));
        assert!(!VillageScope::Township.includes(Some(3)));
        assert!(VillageScope::Village(3).includes(Some(3)));
        assert!(!VillageScope::Village(3).includes(Some(4)));
        assert!(!VillageScope::Village(3).includes(None));
        assert_eq!(VillageScope::of(None), VillageScope::Any);
        assert_eq!(VillageScope::of(Some(5)).village(), Some(5));
    }
}
