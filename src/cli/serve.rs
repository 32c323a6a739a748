//! `pufa serve`: the web server with its lock on the database, secret key, graceful stop,
//! setup link and background housekeeping.

use super::{open_db, Failure};
use crate::config::{load_or_create_secret_key, AppConfig};
use crate::services::{auth, backup};

pub(super) async fn serve(config: &AppConfig) -> Result<(), Failure> {
    // Its PostgreSQL connections say they are the server's, and it holds a lock on its
    // SQLite file: `pufa restore` refuses while either is seen.
    crate::store::connect_as_server();
    let db = open_db(config).await?;
    let _server_lock = backup::hold_server_lock(&config.database_url)
        .map_err(|e| Failure(format!("无法在数据库旁创建锁文件：{e}")))?;
    let mut figment = rocket::Config::figment();
    let configured: rocket::Config = figment
        .extract()
        .map_err(|e| Failure(format!("配置有误：{e}")))?;
    if configured.secret_key.is_zero() {
        let key = load_or_create_secret_key(&config.data_dir).map_err(|e| {
            Failure(format!(
                "无法在 {} 保存密钥：{e}",
                config.data_dir.display()
            ))
        })?;
        figment = figment.merge(("secret_key", key));
    }
    // On SIGTERM (systemctl stop) the server stops taking requests and gives running ones,
    // such as an import being committed, up to 25 s to finish (Rocket's default is 2 s).
    if configured.shutdown.grace == rocket::config::Shutdown::default().grace {
        let shutdown = rocket::config::Shutdown {
            grace: 25,
            ..configured.shutdown.clone()
        };
        figment = figment.merge(("shutdown", shutdown));
    }
    figment
        .extract::<rocket::Config>()
        .map_err(|e| Failure(format!("配置有误：{e}")))?;
    let setup_token = auth::pending_setup_token(&db)
        .await
        .map_err(|e| Failure(e.to_string()))?;
    // The setup link is shown once the server listens, so that it works when it is shown.
    let setup_link = rocket::fairing::AdHoc::on_liftoff("setup link", move |rocket| {
        Box::pin(async move {
            let config = rocket.config();
            let host = match config.address.to_string().as_str() {
                "0.0.0.0" | "::" => "127.0.0.1".to_string(),
                other => other.to_string(),
            };
            tracing::info!(
                address = %config.address,
                port = config.port,
                "服务已启动：http://{host}:{}",
                config.port
            );
            let Some(token) = setup_token else {
                return;
            };
            say!(
                "尚未创建管理员账号。请在浏览器中打开以下链接创建第一个管理员（链接使用一次后失效）："
            );
            say!("  http://{host}:{}/setup?token={token}", config.port);
            say!("或在命令行执行：echo '密码' | pufa user add --username admin --role admin");
        })
    });
    let nightly = crate::services::housekeeping::NightlyBackup::from_env(&config.data_dir);
    let background_db = db.clone();
    let background = rocket::fairing::AdHoc::on_liftoff("housekeeping", move |_| {
        Box::pin(async move {
            tokio::spawn(crate::services::housekeeping::run(background_db, nightly));
        })
    });
    let stopping = rocket::fairing::AdHoc::on_shutdown("stopping", |_| {
        Box::pin(async {
            tracing::info!("正在停止服务（处理完进行中的请求后退出）")
        })
    });
    let closing = db.clone();
    let served = crate::web::build(figment, db)
        .attach(setup_link)
        .attach(background)
        .attach(stopping)
        .launch()
        .await;
    // Closing the pool ends every connection: SQLite folds its write-ahead log back into
    // the database file, so a stopped server leaves one file behind.
    closing.close().await;
    served.map_err(|e| Failure(format!("网页服务启动失败：{e}")))?;
    Ok(())
}
