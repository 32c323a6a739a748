//! `pufa import FILE …` and `pufa import undo BATCH_ID`: the same services as the web
//! page. Exit 0 when committed (or a dry run found no errors), 1 when rows were rejected
//! and nothing was written (or anything else failed), 2 when the file cannot be read.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand, ValueEnum};
use serde_json::json;

use crate::domain::import::ImportKind;
use crate::services::imports::{self, ImportError, Preview, Upload};
use crate::services::{auth, choices, Actor, Db, ServiceError};

#[derive(Args, Debug)]
#[command(args_conflicts_with_subcommands = true)]
pub struct ImportArgs {
    #[command(subcommand)]
    pub action: Option<ImportAction>,
    /// 要导入的表格文件（.xlsx .xlsm .xls .ods .csv）
    pub file: Option<PathBuf>,
    /// 表格类型（不填则按表头自动识别）
    #[arg(long, value_enum)]
    pub kind: Option<KindArg>,
    /// 表格中没有村(社区)列时使用的村(社区)名称
    #[arg(long)]
    pub village: Option<String>,
    /// 以哪个账号的身份导入（默认第一个管理员）
    #[arg(long = "as")]
    pub as_user: Option<String>,
    /// 只检查，不写入
    #[arg(long)]
    pub dry_run: bool,
    /// 有错误行时，只导入正确的行
    #[arg(long)]
    pub allow_partial: bool,
    /// 以 JSON 输出结果
    #[arg(long)]
    pub json: bool,
}

#[derive(Subcommand, Debug)]
pub enum ImportAction {
    /// 撤销一个导入批次
    Undo { batch_id: i64 },
}

#[derive(ValueEnum, Clone, Copy, Debug)]
pub enum KindArg {
    Roster,
    Attendance,
    Materials,
    Activities,
    SelfStudy,
}

impl KindArg {
    fn kind(self) -> ImportKind {
        match self {
            KindArg::Roster => ImportKind::Roster,
            KindArg::Attendance => ImportKind::Attendance,
            KindArg::Materials => ImportKind::Materials,
            KindArg::Activities => ImportKind::Activities,
            KindArg::SelfStudy => ImportKind::SelfStudy,
        }
    }
}

const EXIT_REJECTED: u8 = 1;
const EXIT_UNREADABLE: u8 = 2;

fn fail(json_output: bool, code: u8, message: &str) -> ExitCode {
    if json_output {
        let issue = json!({ "sheet": "", "row": 0, "column": "", "header": "", "value": "", "message": message });
        let out = json!({ "kind": null, "sheets": [], "rows_total": 0, "created": 0, "updated": 0, "unchanged": 0,
            "rejected": 0, "batch_id": null, "errors": [issue], "warnings": [] });
        say!("{out}");
    } else {
        complain!("错误：{message}");
    }
    ExitCode::from(code)
}

fn report(p: &Preview, batch_id: Option<i64>) -> serde_json::Value {
    json!({
        "kind": p.kind.code(),
        "sheets": p.sheets,
        "rows_total": p.rows_total,
        "created": p.created,
        "updated": p.updated,
        "unchanged": p.unchanged,
        "rejected": p.rejected,
        "batch_id": batch_id,
        "errors": p.errors,
        "warnings": p.warnings,
    })
}

fn print_human(p: &Preview, batch_id: Option<i64>) {
    for e in &p.errors {
        say!("错误 {}", e.describe());
    }
    for w in &p.warnings {
        say!("提示 {}", w.describe());
    }
    say!(
        "{}：共 {} 行，新增 {}，更新 {}，不变 {}，错误 {}。",
        p.kind.label_zh(),
        p.rows_total,
        p.created,
        p.updated,
        p.unchanged,
        p.rejected
    );
    match batch_id {
        Some(id) => say!("已导入，批次 #{id}（可用 pufa import undo {id} 撤销）。"),
        None => say!("未写入任何数据。"),
    }
}

async fn actor_for(db: &Db, as_user: Option<&str>) -> Result<Actor, String> {
    auth::acting_user(db, as_user)
        .await
        .map_err(|e| e.to_string())
}

pub async fn run(db: &Db, args: ImportArgs) -> ExitCode {
    if let Some(ImportAction::Undo { batch_id }) = args.action {
        let actor = match actor_for(db, args.as_user.as_deref()).await {
            Ok(a) => a,
            Err(m) => return fail(false, EXIT_REJECTED, &m),
        };
        return match imports::undo(db, &actor, batch_id, chrono::Local::now().date_naive()).await {
            Ok(()) => {
                say!("已撤销导入批次 #{batch_id}。");
                ExitCode::SUCCESS
            }
            Err(e) => fail(false, EXIT_REJECTED, &e.to_string()),
        };
    }
    let Some(path) = args.file else {
        return fail(args.json, EXIT_UNREADABLE, "请指定要导入的文件");
    };
    let bytes = match std::fs::read(&path) {
        Ok(b) => b,
        Err(e) => {
            return fail(
                args.json,
                EXIT_UNREADABLE,
                &format!("无法读取文件 {}：{e}", path.display()),
            )
        }
    };
    let village_id = match &args.village {
        Some(name) => match choices::village_named(db, name).await {
            Ok(Some(v)) => Some(v.id),
            Ok(None) => return fail(args.json, EXIT_REJECTED, &format!("没有村(社区)“{name}”")),
            Err(e) => return fail(args.json, EXIT_REJECTED, &e.to_string()),
        },
        None => None,
    };
    let actor = if args.dry_run && args.as_user.is_none() {
        Actor::operator()
    } else {
        match actor_for(db, args.as_user.as_deref()).await {
            Ok(a) => a,
            Err(m) => return fail(args.json, EXIT_REJECTED, &m),
        }
    };
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let upload = Upload {
        file_name: &file_name,
        bytes: &bytes,
        kind: args.kind.map(KindArg::kind),
        village_id,
    };
    let preview = match imports::preview(db, &actor, &upload).await {
        Ok(p) => p,
        Err(ImportError::Read(e)) => return fail(args.json, EXIT_UNREADABLE, &e.to_string()),
        Err(ImportError::Service(e)) => return fail(args.json, EXIT_REJECTED, &e.to_string()),
    };
    let done = |p: &Preview, batch: Option<i64>, code: u8| {
        if args.json {
            say!("{}", report(p, batch));
        } else {
            print_human(p, batch);
        }
        ExitCode::from(code)
    };
    if args.dry_run {
        return done(
            &preview,
            None,
            if preview.rejected > 0 {
                EXIT_REJECTED
            } else {
                0
            },
        );
    }
    if let Some((batch, at)) = preview.already_imported {
        if !args.json {
            say!(
                "该文件已于 {} 导入（批次 #{batch}），本次未做任何修改。",
                at.with_timezone(&chrono::Local).format("%Y-%m-%d %H:%M")
            );
        }
        return done(&preview, None, 0);
    }
    if preview.rejected > 0 && !args.allow_partial {
        return done(&preview, None, EXIT_REJECTED);
    }
    match imports::commit_previewed(db, &actor, &file_name, preview, args.allow_partial).await {
        Ok((batch, committed)) => done(&committed, Some(batch), 0),
        Err(ImportError::Read(e)) => fail(args.json, EXIT_UNREADABLE, &e.to_string()),
        Err(ImportError::Service(ServiceError::Refused(m))) => fail(args.json, EXIT_REJECTED, &m),
        Err(ImportError::Service(e)) => fail(args.json, EXIT_REJECTED, &e.to_string()),
    }
}
