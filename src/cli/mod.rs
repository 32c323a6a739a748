//! The command line: `pufa` (or `pufa serve`) starts the web app; the other commands
//! administer the same database. Every command accepts `--database-url`.

use std::io::{BufRead, IsTerminal, Write};
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

#[macro_use]
mod output;
pub mod import;
mod serve;

use crate::config::AppConfig;
use crate::domain::Role;
use crate::services::users::{self, UserInput};
use crate::services::villages::{self as village_service, VillageInput};
use crate::services::{backup, Actor, Db, ServiceError};

#[derive(Parser, Debug)]
#[command(
    name = "pufa",
    version,
    about = "普法台账 — 乡镇普法学法活动与培训管理系统"
)]
pub struct Cli {
    /// 数据库地址：sqlite://… 或 postgres://…（默认 data/pufa.db）
    #[arg(long, global = true, env = "DATABASE_URL")]
    pub database_url: Option<String>,

    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// 启动网页服务（默认命令）
    Serve,
    /// 只执行数据库迁移
    Migrate,
    /// 账号管理
    #[command(subcommand)]
    User(UserCommand),
    /// 村(社区)管理
    #[command(subcommand)]
    Village(VillageCommand),
    /// 导入表格：pufa import 文件 [--kind …] [--village …] [--as …] [--dry-run] [--allow-partial] [--json]；pufa import undo 批次号
    Import(import::ImportArgs),
    /// 创建演示乡镇（10个村(社区)和2021年的台账，经表格导入流程载入）
    Demo {
        /// 演示表格所在目录（默认使用程序内置的演示表格）
        #[arg(long)]
        dir: Option<std::path::PathBuf>,
    },
    /// 年度汇总表：pufa export --year 2021 [--village 名称] -o 汇总.xlsx
    Export {
        #[arg(long)]
        year: i32,
        #[arg(long)]
        village: Option<String>,
        #[arg(short = 'o', long = "output")]
        output: std::path::PathBuf,
    },
    /// 年度报告（草稿，Word 文档）：pufa report --year 2021 [--village 名称] -o 报告.docx
    Report {
        #[arg(long)]
        year: i32,
        #[arg(long)]
        village: Option<String>,
        #[arg(short = 'o', long = "output")]
        output: std::path::PathBuf,
    },
    /// 备份：pufa backup [-o 文件]（服务运行时也可执行；默认写入 data/backups/）
    Backup {
        #[arg(short = 'o', long = "output")]
        output: Option<std::path::PathBuf>,
    },
    /// 从备份恢复：pufa restore 备份文件（须先停止服务；SQLite 的原数据库保留在旁边）
    Restore { file: std::path::PathBuf },
    /// 把全部数据复制到另一个空数据库：pufa copy-data --from sqlite://data/pufa.db --to postgres://…
    CopyData {
        #[arg(long)]
        from: String,
        #[arg(long)]
        to: String,
    },
    /// 年度统计：pufa summary --year 2021 [--village 名称] [--json]
    Summary {
        #[arg(long)]
        year: i32,
        #[arg(long)]
        village: Option<String>,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand, Debug)]
pub enum UserCommand {
    /// 创建账号，密码从标准输入读取一行
    Add {
        #[arg(long)]
        username: String,
        #[arg(long, value_enum)]
        role: RoleArg,
        /// 村(社区)文书所属的村(社区)名称
        #[arg(long)]
        village: Option<String>,
        #[arg(long)]
        display_name: Option<String>,
    },
}

#[derive(Subcommand, Debug)]
pub enum VillageCommand {
    /// 添加村(社区)
    Add {
        name: String,
        #[arg(long, value_enum, default_value = "village")]
        kind: KindArg,
    },
}

#[derive(ValueEnum, Clone, Copy, Debug)]
pub enum RoleArg {
    Admin,
    Organizer,
    Clerk,
    Viewer,
}

impl RoleArg {
    fn role(self) -> Role {
        match self {
            RoleArg::Admin => Role::Admin,
            RoleArg::Organizer => Role::Organizer,
            RoleArg::Clerk => Role::Clerk,
            RoleArg::Viewer => Role::Viewer,
        }
    }
}

#[derive(ValueEnum, Clone, Copy, Debug)]
pub enum KindArg {
    Village,
    Community,
}

/// Something the operator must read: one line, then exit 1.
struct Failure(String);

impl<E: std::fmt::Display> From<E> for Failure {
    fn from(e: E) -> Self {
        Failure(e.to_string())
    }
}

pub async fn run(cli: Cli) -> ExitCode {
    let config = AppConfig::from_env(cli.database_url.clone());
    let command = cli.command.unwrap_or(Command::Serve);
    let outcome = match command {
        // The import has exit codes of its own (0, 1, 2).
        Command::Import(args) => return import(&config, args).await,
        Command::Serve => serve::serve(&config).await,
        Command::Migrate => migrate(&config).await,
        Command::User(UserCommand::Add {
            username,
            role,
            village,
            display_name,
        }) => add_user(&config, username, role.role(), village, display_name).await,
        Command::Village(VillageCommand::Add { name, kind }) => {
            add_village(&config, name, kind).await
        }
        Command::Summary {
            year,
            village,
            json,
        } => summary(&config, year, village, json).await,
        Command::Export {
            year,
            village,
            output,
        } => write_year_file(&config, YearFile::Workbook, year, village, output).await,
        Command::Report {
            year,
            village,
            output,
        } => write_year_file(&config, YearFile::Report, year, village, output).await,
        Command::Demo { dir } => demo(&config, dir).await,
        Command::Backup { output } => backup(&config, output).await,
        Command::Restore { file } => restore(&config, file).await,
        Command::CopyData { from, to } => copy_data(from, to).await,
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure(message)) => {
            complain!("错误：{message}");
            ExitCode::FAILURE
        }
    }
}

async fn import(config: &AppConfig, args: import::ImportArgs) -> ExitCode {
    let db = match open_db(config).await {
        Ok(db) => db,
        Err(Failure(message)) => {
            complain!("错误：{message}");
            return ExitCode::FAILURE;
        }
    };
    let code = import::run(&db, args).await;
    db.close().await;
    code
}

async fn open_db(config: &AppConfig) -> Result<Db, Failure> {
    let db = Db::connect_and_migrate(&config.database_url).await?;
    // Calendar-feed tokens an earlier version kept in full are kept as their hash from now.
    crate::services::sessions::hash_stored_feed_tokens(&db)
        .await
        .map_err(|e| Failure(e.to_string()))?;
    // So are check-in tokens; links printed from them keep working.
    crate::services::attendance::hash_stored_checkin_tokens(&db)
        .await
        .map_err(|e| Failure(e.to_string()))?;
    Ok(db)
}

async fn migrate(config: &AppConfig) -> Result<(), Failure> {
    let db = open_db(config).await?;
    say!("数据库已是最新结构（{}）。", db.backend_name());
    db.close().await;
    Ok(())
}

fn read_password() -> Result<String, Failure> {
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        eprint!(
            "请输入新账号的密码（至少{}位）：",
            crate::domain::account::PASSWORD_MIN_CHARS
        );
        let _ = std::io::stderr().flush();
    }
    let mut line = String::new();
    stdin.lock().read_line(&mut line)?;
    Ok(line.trim_end_matches(['\r', '\n']).to_string())
}

fn explain(e: ServiceError) -> Failure {
    match e {
        ServiceError::Invalid(errors) => {
            Failure(errors.into_values().collect::<Vec<_>>().join("；"))
        }
        other => Failure(other.to_string()),
    }
}

async fn add_user(
    config: &AppConfig,
    username: String,
    role: Role,
    village: Option<String>,
    display_name: Option<String>,
) -> Result<(), Failure> {
    let db = open_db(config).await?;
    let village_id = match &village {
        Some(name) => Some(
            users::village_id_by_name(&db, name)
                .await
                .map_err(explain)?,
        ),
        None => None,
    };
    let password = read_password()?;
    let input = UserInput {
        username: username.clone(),
        display_name: display_name.unwrap_or_default(),
        role: role.code().to_string(),
        village_id,
        password,
    };
    let id = users::create_user(&db, &Actor::operator(), &input)
        .await
        .map_err(explain)?;
    say!("已创建账号 {username}（{}，编号 {id}）。", role.label_zh());
    db.close().await;
    Ok(())
}

async fn add_village(config: &AppConfig, name: String, kind: KindArg) -> Result<(), Failure> {
    let db = open_db(config).await?;
    let kind = match kind {
        KindArg::Village => "village",
        KindArg::Community => "community",
    };
    let input = VillageInput {
        name: name.clone(),
        kind: kind.to_string(),
        ..VillageInput::default()
    };
    let id = village_service::create_village(&db, &Actor::operator(), &input)
        .await
        .map_err(explain)?;
    say!("已添加村(社区)“{}”（编号 {id}）。", name.trim());
    db.close().await;
    Ok(())
}

async fn village_named(db: &Db, village: &Option<String>) -> Result<Option<i64>, Failure> {
    match village {
        Some(name) => Ok(Some(
            crate::services::choices::village_named(db, name)
                .await?
                .ok_or_else(|| Failure(format!("没有村(社区)“{name}”")))?
                .id,
        )),
        None => Ok(None),
    }
}

/// The two files of a year: the summary workbook and the report's draft.
#[derive(Clone, Copy)]
enum YearFile {
    Workbook,
    Report,
}

async fn write_year_file(
    config: &AppConfig,
    file: YearFile,
    year: i32,
    village: Option<String>,
    output: std::path::PathBuf,
) -> Result<(), Failure> {
    let db = open_db(config).await?;
    let village_id = village_named(&db, &village).await?;
    let today = chrono::Local::now().date_naive();
    let actor = Actor::operator();
    let made = match file {
        YearFile::Workbook => {
            crate::services::export::year_workbook(&db, &actor, year, village_id, today).await
        }
        YearFile::Report => {
            crate::services::report::annual_report(&db, &actor, year, village_id, today).await
        }
    };
    let (_, bytes) = made.map_err(explain)?;
    std::fs::write(&output, bytes)
        .map_err(|e| Failure(format!("无法写入 {}：{e}", output.display())))?;
    match file {
        YearFile::Workbook => say!("已导出 {}。", output.display()),
        YearFile::Report => say!("已生成年度报告草稿 {}。", output.display()),
    }
    db.close().await;
    Ok(())
}

async fn summary(
    config: &AppConfig,
    year: i32,
    village: Option<String>,
    json: bool,
) -> Result<(), Failure> {
    let db = open_db(config).await?;
    let village_id = village_named(&db, &village).await?;
    let today = chrono::Local::now().date_naive();
    let summary =
        crate::services::summary::annual_summary(&db, &Actor::operator(), year, village_id, today)
            .await
            .map_err(explain)?;
    if json {
        let mut value = serde_json::to_value(&summary)?;
        if let serde_json::Value::Object(map) = &mut value {
            map.remove("village_lines");
        }
        say!("{value}");
    } else {
        say!("{}", crate::services::summary::report_paragraph(&summary));
    }
    db.close().await;
    Ok(())
}

async fn backup(config: &AppConfig, output: Option<std::path::PathBuf>) -> Result<(), Failure> {
    let db = open_db(config).await?;
    let path = output.unwrap_or_else(|| {
        config
            .data_dir
            .join("backups")
            .join(backup::backup_file_name(chrono::Local::now().naive_local()))
    });
    let written = backup::write_backup(&db, &path).await;
    db.close().await;
    let size = written.map_err(explain)?;
    say!(
        "已备份到 {}（{:.1} MB）。恢复：pufa restore {}",
        path.display(),
        size as f64 / 1_048_576.0,
        path.display()
    );
    Ok(())
}

async fn restore(config: &AppConfig, file: std::path::PathBuf) -> Result<(), Failure> {
    let restored = backup::restore(&config.database_url, &file)
        .await
        .map_err(explain)?;
    let people = restored.counts.get("people").copied().unwrap_or(0);
    let sessions = restored.counts.get("sessions").copied().unwrap_or(0);
    say!(
        "已从 {} 恢复：{people} 名人员，{sessions} 场学法活动。",
        file.display()
    );
    if let Some(previous) = restored.previous {
        say!("恢复前的数据库保存在 {}。", previous.display());
    }
    Ok(())
}

async fn copy_data(from: String, to: String) -> Result<(), Failure> {
    let source = Db::connect_and_migrate(&from).await?;
    let target = match Db::connect_and_migrate(&to).await {
        Ok(db) => db,
        Err(e) => {
            source.close().await;
            return Err(Failure(e.to_string()));
        }
    };
    let today = chrono::Local::now().date_naive();
    let copied = backup::copy_data(&source, &target, today).await;
    source.close().await;
    target.close().await;
    let copied = copied.map_err(explain)?;
    let rows: i64 = copied.counts.values().sum();
    say!(
        "已复制 {} 张表共 {rows} 行；各表行数一致。",
        copied.counts.len()
    );
    match (copied.years.first(), copied.years.last()) {
        (Some(first), Some(last)) if first == last => {
            say!("{first} 年的年度统计在两个数据库中相同。")
        }
        (Some(first), Some(last)) => {
            say!("{first}—{last} 年各年的年度统计在两个数据库中相同。")
        }
        _ => say!("没有按年份统计的数据。"),
    }
    Ok(())
}

async fn demo(config: &AppConfig, dir: Option<std::path::PathBuf>) -> Result<(), Failure> {
    let db = open_db(config).await?;
    let report = match dir {
        Some(dir) => crate::services::demo::load_demo(&db, &dir).await,
        None => crate::services::demo::load_embedded_demo(&db).await,
    }
    .map_err(explain)?;
    for (file, created, warnings) in &report.files {
        say!("已导入 {file}：新增 {created} 行（提示 {warnings} 条）");
    }
    if let Some(password) = &report.admin_password {
        say!("已创建管理员账号 admin，密码：{password}（请登录后修改）");
    }
    let today = chrono::Local::now().date_naive();
    let summary =
        crate::services::summary::annual_summary(&db, &Actor::operator(), 2021, None, today)
            .await
            .map_err(explain)?;
    say!("{}", crate::services::summary::report_paragraph(&summary));
    say!("演示乡镇已就绪。执行 pufa（不带参数）启动网页服务后，在浏览器中查看 2021 年概览。");
    db.close().await;
    Ok(())
}
