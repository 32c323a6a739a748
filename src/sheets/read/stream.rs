//! The worker's answer as a stream: the cells of a sheet go to the server in small frames
//! as calamine reads them, so the server lays them out while the worker is still reading,
//! and the worker never holds the whole sheet. A sheet the worker lays out itself (merged
//! regions filled, or an .xls, .ods or .csv) is sent the same way once it is complete.
//!
//! A frame is its length (4 bytes, little-endian) and a [`Frame`] encoded with postcard. The
//! last frame is [`Frame::End`]: the answer is complete only with it.

use std::io::{self, Write};

use super::grid::{Budget, SheetBuilder};
use super::{CellOut, CellValue, ReadError, SheetGrid, SheetOut};

/// The longest frame a worker sends: a batch stops growing past [`BATCH_BYTES`], and one
/// cell adds at most Excel's 32,767 characters (4 bytes each in UTF-8).
pub(super) const MAX_FRAME_BYTES: usize = 1 << 20;
/// A batch of cells is sent when its texts reach this many bytes …
const BATCH_BYTES: usize = 256 * 1024;
/// … or it has this many cells.
const BATCH_CELLS: usize = 4096;

#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub(super) enum Frame {
    /// The cells that follow are this sheet's.
    Sheet(String),
    /// Cells by row and column (0-based, as in the file).
    Cells(Vec<(u32, u32, CellValue)>),
    /// The end of the answer: every sheet was sent, or the file is refused (what was sent
    /// before counts for nothing).
    End(Result<(), ReadError>),
}

/// The worker's side: frames written to `out` (its stdout).
pub(super) struct FrameWriter<W: Write> {
    out: W,
    batch: Vec<(u32, u32, CellValue)>,
    batch_bytes: usize,
    encoded: Vec<u8>,
}

fn closed(e: io::Error) -> ReadError {
    // The server stopped listening (it went away, or gave up on this read): nobody reads
    // what follows, so the read stops.
    ReadError::Damaged(format!("无法送出读取结果：{e}"))
}

impl<W: Write> FrameWriter<W> {
    pub(super) fn new(out: W) -> Self {
        FrameWriter {
            out,
            batch: Vec::with_capacity(BATCH_CELLS),
            batch_bytes: 0,
            encoded: Vec::new(),
        }
    }

    fn send(&mut self, frame: &Frame) -> io::Result<()> {
        self.encoded.clear();
        let encoded = postcard::to_extend(frame, std::mem::take(&mut self.encoded))
            .map_err(io::Error::other)?;
        self.encoded = encoded;
        let length = u32::try_from(self.encoded.len()).map_err(io::Error::other)?;
        self.out.write_all(&length.to_le_bytes())?;
        self.out.write_all(&self.encoded)
    }

    fn flush_batch(&mut self) -> io::Result<()> {
        if self.batch.is_empty() {
            return Ok(());
        }
        let frame = Frame::Cells(std::mem::take(&mut self.batch));
        let sent = self.send(&frame);
        // The batch's room is used again for the next one.
        if let Frame::Cells(mut cells) = frame {
            cells.clear();
            self.batch = cells;
        }
        self.batch_bytes = 0;
        sent
    }

    /// Ends the answer with the read's outcome and returns the output.
    pub(super) fn finish(mut self, outcome: Result<(), ReadError>) -> io::Result<W> {
        let outcome = match outcome {
            Ok(()) => self.flush_batch().map(|()| Ok(())),
            refused => Ok(refused),
        }?;
        self.send(&Frame::End(outcome))?;
        self.out.flush()?;
        Ok(self.out)
    }
}

impl<W: Write> CellOut for FrameWriter<W> {
    fn begin(&mut self, name: &str) -> Result<(), ReadError> {
        self.flush_batch().map_err(closed)?;
        self.send(&Frame::Sheet(name.to_string())).map_err(closed)
    }

    fn cell(&mut self, row: u32, col: u32, value: CellValue) -> Result<(), ReadError> {
        if let CellValue::Text(text) = &value {
            self.batch_bytes += text.len();
        }
        self.batch.push((row, col, value));
        if self.batch.len() >= BATCH_CELLS || self.batch_bytes >= BATCH_BYTES {
            self.flush_batch().map_err(closed)?;
        }
        Ok(())
    }
}

impl<W: Write> SheetOut for FrameWriter<W> {
    fn sheet(&mut self, grid: SheetGrid) -> Result<(), ReadError> {
        self.begin(&grid.name)?;
        for (index, cells) in grid.rows.into_iter().enumerate() {
            let row = grid.first_row + index as u32;
            for (col, value) in cells.into_iter().enumerate() {
                if !value.is_empty() {
                    self.cell(row, grid.first_col + col as u32, value)?;
                }
            }
        }
        Ok(())
    }

    fn cells(&mut self) -> Option<&mut dyn CellOut> {
        Some(self)
    }
}

/// The server's side: lays the frames' cells out as grids, through the same limits as the
/// worker (see [`SheetBuilder`]), so that what it holds is bounded whatever it is sent.
#[derive(Default)]
pub(super) struct Receiver {
    budget: Budget,
    grids: Vec<SheetGrid>,
    sheet: Option<SheetBuilder>,
}

/// What a frame meant.
pub(super) enum Received {
    /// More is to come.
    More,
    /// The answer is complete.
    Done(Result<Vec<SheetGrid>, ReadError>),
    /// What was sent is past the reader's limits (which the worker checks too, so only a
    /// forged answer gets here): nothing more is read.
    Refused(ReadError),
}

impl Receiver {
    fn close_sheet(&mut self) -> Result<(), ReadError> {
        if let Some(sheet) = self.sheet.take() {
            // Merged regions were filled in by the worker.
            let grid = sheet.into_grid(&[], &mut self.budget)?;
            self.grids.push(grid);
        }
        Ok(())
    }

    /// Takes one frame; `None` when it is not a frame a worker sends.
    pub(super) fn frame(&mut self, bytes: &[u8]) -> Option<Received> {
        let frame: Frame = postcard::from_bytes(bytes).ok()?;
        let outcome = match frame {
            Frame::Sheet(name) => self.close_sheet().map(|()| {
                self.sheet = Some(SheetBuilder::new(&name));
            }),
            Frame::Cells(cells) => {
                let sheet = self.sheet.as_mut()?;
                cells
                    .into_iter()
                    .try_for_each(|(row, col, value)| sheet.push(&mut self.budget, row, col, value))
            }
            Frame::End(Ok(())) => {
                let done = self.close_sheet().map(|()| std::mem::take(&mut self.grids));
                return Some(Received::Done(done));
            }
            Frame::End(Err(refused)) => return Some(Received::Done(Err(refused))),
        };
        Some(match outcome {
            Ok(()) => Received::More,
            Err(refused) => Received::Refused(refused),
        })
    }
}

/// Splits a whole answer into its frames and lays them out: what the server does with a
/// worker's answer, without the process (tests and the fuzzer). `None` when the bytes are
/// not a complete answer.
pub(super) fn receive_all(mut answer: &[u8]) -> Option<Result<Vec<SheetGrid>, ReadError>> {
    let mut receiver = Receiver::default();
    loop {
        let (length, rest) = answer.split_first_chunk::<4>()?;
        let length = u32::from_le_bytes(*length) as usize;
        if length > MAX_FRAME_BYTES || length > rest.len() {
            return None;
        }
        let (frame, rest) = rest.split_at(length);
        answer = rest;
        match receiver.frame(frame)? {
            Received::More => {}
            Received::Done(done) => return answer.is_empty().then_some(done),
            Received::Refused(refused) => return Some(Err(refused)),
        }
    }
}

/// Reads the file as the worker does and lays out what it sends as the server does.
pub fn read_streamed(file_name: &str, bytes: &[u8]) -> Result<Vec<SheetGrid>, ReadError> {
    let mut writer = FrameWriter::new(Vec::new());
    let outcome = super::read_sheets(file_name, bytes, &mut writer);
    let answer = writer
        .finish(outcome)
        .map_err(|e| ReadError::Damaged(e.to_string()))?;
    receive_all(&answer).unwrap_or(Err(ReadError::Unreadable))
}
