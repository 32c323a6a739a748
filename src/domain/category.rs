use super::labels::coded_enum;

coded_enum! {
    /// 身份类别: a person may hold several, each with since/until dates.
    Category {
        TownshipCadre => ("township_cadre", "镇干部"),
        VillageCadre => ("village_cadre", "村干部"),
        PartyMember => ("party_member", "党员"),
        LegalLiterate => ("legal_literate", "法律明白人"),
        Mediator => ("mediator", "人民调解员"),
        LegalAdviser => ("legal_adviser", "法律顾问"),
        GridWorker => ("grid_worker", "网格员"),
        GroupLeader => ("group_leader", "村民小组长"),
        Villager => ("villager", "群众"),
    }
}

impl Category {
    /// The words of a 身份类别 cell: the label or the stored code.
    pub fn from_word(word: &str) -> Option<Self> {
        Self::from_zh(word).or_else(|| Self::from_code(word.trim()))
    }
}

/// At least this many 法律明白人 per administrative village (乡村“法律明白人”培养工作规范, 2021).
pub const LEGAL_LITERATE_TARGET: i64 = 3;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_labels_round_trip() {
        for c in Category::ALL {
            assert_eq!(Category::from_code(c.code()), Some(*c));
            assert_eq!(Category::from_zh(c.label_zh()), Some(*c));
        }
        assert_eq!(
            Category::from_zh(" 法律明白人 "),
            Some(Category::LegalLiterate)
        );
        assert_eq!(Category::from_zh("路人"), None);
    }
}
