//! What the server does on its own, on a timer: forgetting what is no longer needed
//! (uploads nobody committed, old failure counters, expired log-in sessions) and the
//! nightly backup.

use std::path::PathBuf;
use std::time::Duration as StdDuration;

use chrono::{DateTime, Duration, Local, NaiveDate, Timelike, Utc};

use super::auth::{IDLE_MINUTES, SESSION_HOURS};
use super::ServiceResult;
use crate::store::{imports, login_sessions, rate_limits, Db};

/// An upload nobody committed is dropped after this long.
const PENDING_KEPT: Duration = Duration::days(1);
/// Failure counters are forgotten after this long without a new failure (every throttle
/// forgets within 24 hours on its own).
const COUNTERS_KEPT: Duration = Duration::days(2);
/// How often the sweep runs.
const SWEEP_EVERY: StdDuration = StdDuration::from_secs(10 * 60);

/// What one sweep removed.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Swept {
    pub pending_uploads: u64,
    pub counters: u64,
    pub sessions: u64,
}

/// Removes uploads older than a day, failure counters untouched for two days and expired
/// log-in sessions.
pub async fn sweep(db: &Db, now: DateTime<Utc>) -> ServiceResult<Swept> {
    Ok(Swept {
        pending_uploads: imports::drop_pending_before(db, now - PENDING_KEPT).await?,
        counters: rate_limits::forget_before(db, now - COUNTERS_KEPT).await?,
        sessions: login_sessions::forget_expired(
            db,
            now - Duration::minutes(IDLE_MINUTES),
            now - Duration::hours(SESSION_HOURS),
        )
        .await?,
    })
}

/// The nightly backup's settings: where, how many to keep (`PUFA_BACKUP_KEEP`, default 14;
/// 0 turns it off) and from which hour (`PUFA_BACKUP_HOUR`, default 2 at night).
#[derive(Debug, Clone)]
pub struct NightlyBackup {
    pub dir: PathBuf,
    pub keep: usize,
    pub hour: u32,
}

impl NightlyBackup {
    pub fn from_env(data_dir: &std::path::Path) -> Self {
        let number = |name: &str, default: u32| {
            std::env::var(name)
                .ok()
                .and_then(|v| v.trim().parse::<u32>().ok())
                .unwrap_or(default)
        };
        NightlyBackup {
            dir: data_dir.join("backups"),
            keep: number("PUFA_BACKUP_KEEP", 14) as usize,
            hour: number("PUFA_BACKUP_HOUR", 2).min(23),
        }
    }

    /// Whether a backup is due at `now`: from the set hour, once a day (a backup already
    /// in the folder for today counts, so a restarted server does not make a second one).
    fn due(&self, now: chrono::NaiveDateTime) -> bool {
        self.keep > 0 && now.hour() >= self.hour && !self.made_on(now.date())
    }

    fn made_on(&self, day: NaiveDate) -> bool {
        let prefix = super::backup::backup_file_name(day.and_time(chrono::NaiveTime::MIN));
        let day_prefix = &prefix[..prefix.len().saturating_sub("-000000.db".len())];
        std::fs::read_dir(&self.dir).is_ok_and(|entries| {
            entries
                .flatten()
                .any(|e| e.file_name().to_string_lossy().starts_with(day_prefix))
        })
    }
}

/// Runs the sweep every ten minutes and the nightly backup, for as long as the server
/// runs. Failures are logged and tried again next time.
pub async fn run(db: Db, backups: NightlyBackup) {
    loop {
        if let Err(e) = sweep(&db, Utc::now()).await {
            tracing::warn!("housekeeping failed: {e}");
        }
        if backups.due(Local::now().naive_local()) {
            match super::backup::nightly_backup(&db, &backups.dir, backups.keep).await {
                Ok(path) => tracing::info!("nightly backup written to {}", path.display()),
                Err(e) => tracing::error!("nightly backup failed: {e}"),
            }
        }
        tokio::time::sleep(SWEEP_EVERY).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_backup_is_due_once_a_day_from_its_hour() {
        let dir = tempfile::tempdir().unwrap();
        let nightly = NightlyBackup {
            dir: dir.path().to_path_buf(),
            keep: 14,
            hour: 2,
        };
        let day = NaiveDate::from_ymd_opt(2026, 12, 6).unwrap();
        assert!(!nightly.due(day.and_hms_opt(1, 59, 0).unwrap()));
        assert!(nightly.due(day.and_hms_opt(2, 0, 0).unwrap()));
        let name = super::super::backup::backup_file_name(day.and_hms_opt(2, 0, 5).unwrap());
        std::fs::write(dir.path().join(name), b"").unwrap();
        assert!(!nightly.due(day.and_hms_opt(23, 0, 0).unwrap()));
        assert!(nightly.due(day.succ_opt().unwrap().and_hms_opt(3, 0, 0).unwrap()));
        let off = NightlyBackup { keep: 0, ..nightly };
        assert!(!off.due(day.succ_opt().unwrap().and_hms_opt(3, 0, 0).unwrap()));
    }
}
