//! The year-end workbook's work off the request's task: the database passes that run
//! beside each other, and the sheets written on a blocking thread.

use crate::services::{ServiceError, ServiceResult};
use crate::sheets::table::Table;
use crate::sheets::yearbook::YearbookWriter;
use crate::sheets::SheetError;
use crate::store::{Db, StoreResult};

/// A task of the workbook that panicked or was lost (logged): the user is told to try again.
fn failed(what: &str, e: impl std::fmt::Display) -> ServiceError {
    tracing::error!("year-end workbook, {what}: {e}");
    ServiceError::Refused("汇总表生成失败，请稍后再试".into())
}

/// The workbook's lists written on a blocking thread, one at a time, while the caller
/// reads the next from the database.
pub(super) struct Sheets {
    idle: Option<YearbookWriter>,
    writing: Option<tokio::task::JoinHandle<Result<YearbookWriter, SheetError>>>,
}

impl Sheets {
    pub(super) fn start(writer: YearbookWriter) -> Sheets {
        Sheets {
            idle: Some(writer),
            writing: None,
        }
    }

    /// The writer, once the list before is written.
    async fn writer(&mut self) -> ServiceResult<YearbookWriter> {
        if let Some(writing) = self.writing.take() {
            return Ok(writing.await.map_err(|e| failed("writing a sheet", e))??);
        }
        self.idle
            .take()
            .ok_or_else(|| failed("taking the writer", "it was lost"))
    }

    /// Starts writing `table` as the next sheet.
    pub(super) async fn add(&mut self, table: Table) -> ServiceResult<()> {
        let mut writer = self.writer().await?;
        self.writing = Some(tokio::task::spawn_blocking(move || {
            writer.add(&table)?;
            Ok(writer)
        }));
        Ok(())
    }

    pub(super) async fn finish(mut self) -> ServiceResult<Vec<u8>> {
        let writer = self.writer().await?;
        Ok(tokio::task::spawn_blocking(move || writer.finish())
            .await
            .map_err(|e| failed("saving", e))??)
    }
}

/// A pass over the database running on its own task; dropped unread (the workbook failed
/// on the way), it is stopped.
pub(super) struct Pass<T> {
    task: tokio::task::JoinHandle<StoreResult<T>>,
}

impl<T> Drop for Pass<T> {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl<T: Send + 'static> Pass<T> {
    pub(super) async fn read(mut self) -> ServiceResult<T> {
        match (&mut self.task).await {
            Ok(result) => Ok(result?),
            Err(e) => Err(failed("a pass over the database", e)),
        }
    }
}

/// Starts `pass` on its own task, with a handle on the database of its own.
pub(super) fn background<T, F, Fut>(db: &Db, pass: F) -> Pass<T>
where
    T: Send + 'static,
    F: FnOnce(Db) -> Fut,
    Fut: std::future::Future<Output = StoreResult<T>> + Send + 'static,
{
    Pass {
        task: tokio::spawn(pass(db.clone())),
    }
}
