//! The ledgers (台账) as spreadsheet tables, one builder per list: the list pages' exports
//! and the year-end workbook write the same sheet from the same rows.

use super::{ServiceError, ServiceResult};
use crate::domain::activity::{AudienceGroup, Place};
use crate::sheets::table::{table_workbook, Cell, Table};
use crate::store::activities::ActivityRow;
use crate::store::distributions::DistributionRow;
use crate::store::materials::MaterialStock;

/// 普法活动: one row per activity, totals of activities, audience (人次) and materials.
pub fn activities_table(rows: &[ActivityRow]) -> Table {
    let audience: i64 = rows.iter().map(|r| r.audience_count).sum();
    let materials: i64 = rows.iter().map(|r| r.materials_quantity).sum();
    Table {
        sheet_name: "普法活动".into(),
        headers: vec![
            "活动日期",
            "村(社区)",
            "活动主题",
            "活动形式",
            "法律七进",
            "受众对象",
            "参与人次",
            "主讲人",
            "地点",
            "发放资料(份)",
            "备注",
        ],
        rows: rows
            .iter()
            .map(|r| {
                let groups: Vec<&str> = r
                    .groups()
                    .into_iter()
                    .map(AudienceGroup::label_zh)
                    .collect();
                vec![
                    r.held_on.into(),
                    r.village_name.as_deref().unwrap_or("镇级").into(),
                    r.topic.as_str().into(),
                    r.form.label_zh().into(),
                    r.place().map_or("", Place::label_zh).into(),
                    groups.join("、").into(),
                    r.audience_count.into(),
                    r.speaker.as_str().into(),
                    r.venue.as_str().into(),
                    r.materials_quantity.into(),
                    r.notes.as_str().into(),
                ]
            })
            .collect(),
        totals: Some(vec![
            "合计".into(),
            format!("{}场", rows.len()).into(),
            Cell::Empty,
            Cell::Empty,
            Cell::Empty,
            Cell::Empty,
            audience.into(),
            Cell::Empty,
            Cell::Empty,
            materials.into(),
        ]),
    }
}

/// 资料发放: one row per distribution, totals of rows and quantity.
pub fn distributions_table(rows: &[DistributionRow]) -> Table {
    let quantity: i64 = rows.iter().map(|r| r.quantity).sum();
    Table {
        sheet_name: "资料发放".into(),
        headers: vec![
            "发放日期",
            "村(社区)",
            "资料名称",
            "资料类型",
            "数量",
            "单位",
            "发放对象",
            "发放地点",
            "经办人",
            "关联活动",
            "备注",
        ],
        rows: rows
            .iter()
            .map(|r| {
                vec![
                    r.distributed_on.into(),
                    r.village_name.as_deref().unwrap_or("镇级").into(),
                    r.material_title.as_str().into(),
                    r.material_kind.label_zh().into(),
                    r.quantity.into(),
                    r.unit.as_str().into(),
                    r.recipients.as_str().into(),
                    r.place.as_str().into(),
                    r.handled_by.as_str().into(),
                    r.activity_topic.clone().into(),
                    r.notes.as_str().into(),
                ]
            })
            .collect(),
        totals: Some(vec![
            "合计".into(),
            format!("{}条", rows.len()).into(),
            Cell::Empty,
            Cell::Empty,
            quantity.into(),
        ]),
    }
}

/// 资料库存 of a year: received and handed out in the year, on hand now.
pub fn stock_table(year: i32, stock: &[MaterialStock]) -> Table {
    let sum = |f: fn(&MaterialStock) -> i64| Cell::Int(stock.iter().map(f).sum());
    Table {
        sheet_name: format!("{year}年资料库存"),
        headers: vec![
            "资料名称",
            "资料类型",
            "单位",
            "本年入库",
            "本年发放",
            "现有库存",
            "备注",
        ],
        rows: stock
            .iter()
            .map(|m| {
                vec![
                    Cell::from(m.title.as_str()),
                    m.kind.label_zh().into(),
                    m.unit.as_str().into(),
                    m.received_in_period.into(),
                    m.distributed_in_period.into(),
                    m.on_hand().into(),
                    if m.is_short() { "库存不足" } else { "" }.into(),
                ]
            })
            .collect(),
        totals: Some(vec![
            "合计".into(),
            Cell::Empty,
            Cell::Empty,
            sum(|m| m.received_in_period),
            sum(|m| m.distributed_in_period),
            sum(MaterialStock::on_hand),
            Cell::Empty,
        ]),
    }
}

/// A one-sheet workbook of `table`.
pub fn workbook(table: &Table) -> ServiceResult<Vec<u8>> {
    table_workbook(table).map_err(|e| ServiceError::Refused(e.to_string()))
}
