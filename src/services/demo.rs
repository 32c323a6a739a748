//! The demo township (龙凤场镇 style): ten villages and communities, then the 2021
//! spreadsheets in imports/demo/ loaded through the real import pipeline.

use std::path::Path;

use super::imports::{self, ImportError, Upload};
use super::users::{create_user, UserInput};
use super::villages::{create_village, VillageInput};
use super::{Actor, ServiceError};
use crate::domain::self_study::SELF_STUDY_REQUIREMENT;
use crate::domain::{Category, Role};
use crate::store::{attendance, users, villages, Db};

pub const VILLAGES: [&str; 10] = [
    "龙凤村",
    "石桥村",
    "双河村",
    "青龙村",
    "白鹤村",
    "金竹村",
    "团结村",
    "新华村",
    "龙凤社区",
    "场镇社区",
];

/// What the demo did: the admin's password if it made the account, and one line per file.
pub struct DemoReport {
    pub admin_password: Option<String>,
    pub files: Vec<(String, usize, usize)>,
}

fn failed(message: impl Into<String>) -> ServiceError {
    ServiceError::Refused(message.into())
}

/// The demo from the spreadsheets compiled into the binary.
pub async fn load_embedded_demo(db: &Db) -> Result<DemoReport, ServiceError> {
    let files = crate::embedded::DEMO_FILES
        .iter()
        .map(|(name, bytes)| (name.to_string(), bytes.to_vec()))
        .collect();
    load_demo_files(db, files).await
}

/// The demo from the spreadsheets in a folder (imports/demo/ of the repository).
pub async fn load_demo(db: &Db, dir: &Path) -> Result<DemoReport, ServiceError> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .map_err(|e| failed(format!("找不到演示表格目录 {}：{e}", dir.display())))?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            p.extension()
                .and_then(|x| x.to_str())
                .is_some_and(|x| matches!(x, "xls" | "xlsx" | "ods" | "csv"))
        })
        .collect();
    files.sort();
    if files.is_empty() {
        return Err(failed(format!("{} 中没有演示表格", dir.display())));
    }
    let mut contents = Vec::with_capacity(files.len());
    for path in files {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let bytes = std::fs::read(&path).map_err(|e| failed(format!("无法读取 {name}：{e}")))?;
        contents.push((name, bytes));
    }
    load_demo_files(db, contents).await
}

/// Villages, an admin, a study requirement, then each (file name, content) through the
/// real import, in order.
async fn load_demo_files(
    db: &Db,
    files: Vec<(String, Vec<u8>)>,
) -> Result<DemoReport, ServiceError> {
    if villages::count(db).await? > 0 {
        return Err(failed("数据库中已有村(社区)数据。演示数据只能导入新的空数据库（请用 --database-url 指定一个新文件）。"));
    }
    for (order, name) in VILLAGES.iter().enumerate() {
        let input = VillageInput {
            name: name.to_string(),
            kind: if name.ends_with("社区") {
                "community"
            } else {
                "village"
            }
            .into(),
            code: String::new(),
            display_order: (order + 1).to_string(),
        };
        create_village(db, &Actor::operator(), &input).await?;
    }
    let mut admin_password = None;
    let admin = match users::list(db)
        .await?
        .into_iter()
        .find(|u| u.active && u.role == Role::Admin)
    {
        Some(user) => user,
        None => {
            let password = format!("demo-{}", &crate::random_token()[..10]);
            let input = UserInput {
                username: "admin".into(),
                display_name: "演示管理员".into(),
                role: Role::Admin.code().into(),
                village_id: None,
                password: password.clone(),
            };
            let id = create_user(db, &Actor::operator(), &input).await?;
            admin_password = Some(password);
            users::get(db, id).await?.ok_or(ServiceError::NotFound)?
        }
    };
    attendance::save_requirement(db, Category::TownshipCadre, "", 12, 12.0, Some(admin.id)).await?;
    // 自学不少于20学时, as the county asks of township cadres.
    attendance::save_requirement(
        db,
        Category::TownshipCadre,
        SELF_STUDY_REQUIREMENT,
        0,
        20.0,
        Some(admin.id),
    )
    .await?;
    let actor = Actor::from_user(&admin)?;
    super::report::set_township_name(db, &actor, "龙凤场镇").await?;
    let mut report = Vec::new();
    for (name, bytes) in files {
        let upload = Upload {
            file_name: &name,
            bytes: &bytes,
            kind: None,
            village_id: None,
        };
        match imports::commit(db, &actor, &upload, false).await {
            Ok((_, p)) => report.push((name, p.created, p.warnings.len())),
            Err(ImportError::Read(e)) => return Err(failed(format!("{name}：{e}"))),
            Err(ImportError::Service(e)) => return Err(failed(format!("{name}：{e}"))),
        }
    }
    // The county's deliveries (入库) the villages' handouts came from, so the demo's stock
    // does not show every material as 库存不足.
    let everything = crate::domain::dates::Period::everything();
    for material in super::materials::list_materials(db, &actor, everything).await? {
        if material.is_short() {
            let received = (material.distributed_total / 100 + 1) * 100;
            let receipt = crate::domain::material::ReceiptInput {
                received_on: "2021-01-10".into(),
                quantity: received.to_string(),
                source: "县司法局".into(),
                notes: "演示数据".into(),
            };
            super::materials::record_receipt(db, &actor, material.id, &receipt).await?;
        }
    }
    Ok(DemoReport {
        admin_password,
        files: report,
    })
}
