use super::labels::coded_enum;

coded_enum! {
    VillageKind {
        Village => ("village", "村"),
        Community => ("community", "社区"),
    }
}
