//! Receiving an upload: its bytes go to an unnamed temporary file (removed by the OS when
//! closed), its header line is checked as soon as it has arrived, and its rows are counted.

use std::io::SeekFrom;

use tokio::io::{AsyncSeekExt, AsyncWriteExt};

use super::row::{self, Header};

/// Largest import file.
pub const BODY_LIMIT: usize = 50 * 1024 * 1024;
/// [`BODY_LIMIT`] in the unit messages give it in.
pub const BODY_LIMIT_MB: usize = BODY_LIMIT / 1024 / 1024;

#[derive(Debug, thiserror::Error)]
pub enum UploadError {
    #[error("the file is larger than {BODY_LIMIT_MB} MB")]
    TooLarge,
    #[error("the file is empty")]
    Empty,
    #[error("{0}")]
    Header(String),
    #[error("the upload broke off: {0}")]
    Body(String),
    #[error("the upload could not be stored: {0}")]
    Io(#[from] std::io::Error),
}

/// A complete upload, ready to be read from its start.
pub struct Spooled {
    pub file: tokio::fs::File,
    /// Non-blank lines after the header.
    pub rows_total: i64,
}

pub struct Spooler {
    file: tokio::fs::File,
    written: usize,
    header: Option<Vec<u8>>,
    lines: i64,
    /// Non-blank data lines so far.
    rows: i64,
    line_has_text: bool,
}

impl Spooler {
    pub fn new() -> Result<Self, UploadError> {
        Ok(Spooler {
            file: tokio::fs::File::from_std(tempfile::tempfile()?),
            written: 0,
            header: Some(Vec::new()),
            lines: 0,
            rows: 0,
            line_has_text: false,
        })
    }

    pub async fn push(&mut self, chunk: &[u8]) -> Result<(), UploadError> {
        self.written += chunk.len();
        if self.written > BODY_LIMIT {
            return Err(UploadError::TooLarge);
        }
        if let Some(header) = &mut self.header {
            let end = chunk.iter().position(|&b| b == b'\n');
            header.extend_from_slice(&chunk[..end.unwrap_or(chunk.len())]);
            if header.len() > row::MAX_LINE {
                return Err(UploadError::Header("the header line is too long".into()));
            }
            if end.is_some() {
                Header::parse(header).map_err(UploadError::Header)?;
                self.header = None;
            }
        }
        for &b in chunk {
            if b == b'\n' {
                self.end_line();
            } else if !b.is_ascii_whitespace() {
                self.line_has_text = true;
            }
        }
        self.file.write_all(chunk).await?;
        Ok(())
    }

    fn end_line(&mut self) {
        if self.lines > 0 && self.line_has_text {
            self.rows += 1;
        }
        self.lines += 1;
        self.line_has_text = false;
    }

    /// The upload is complete: the file, rewound.
    pub async fn finish(mut self) -> Result<Spooled, UploadError> {
        if self.written == 0 {
            return Err(UploadError::Empty);
        }
        if let Some(header) = &self.header {
            // A file of just a header line without its newline.
            Header::parse(header).map_err(UploadError::Header)?;
        }
        if self.line_has_text {
            self.end_line();
        }
        self.file.flush().await?;
        self.file.seek(SeekFrom::Start(0)).await?;
        Ok(Spooled {
            file: self.file,
            rows_total: self.rows,
        })
    }
}

/// Spools a whole stream of chunks.
pub async fn spool<S, B, E>(mut stream: S) -> Result<Spooled, UploadError>
where
    S: futures_util::Stream<Item = Result<B, E>> + Unpin,
    B: AsRef<[u8]>,
    E: std::fmt::Display,
{
    use futures_util::StreamExt;
    let mut spooler = Spooler::new()?;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| UploadError::Body(e.to_string()))?;
        spooler.push(chunk.as_ref()).await?;
    }
    spooler.finish().await
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncReadExt;

    #[tokio::test]
    async fn counts_rows_and_checks_the_header_early() {
        type Case<'a> = (&'a [&'a [u8]], Result<i64, &'a str>);
        let cases: &[Case] = &[
            (&[b"click_id,status\nc1,sale\n\nc2,lead"], Ok(2)),
            (&[b"click_", b"id,status\r\n", b"c1,sale\r\n  \r\n"], Ok(1)),
            (&[b"click_id,status"], Ok(0)),
            (&[b""], Err("empty")),
            (
                &[b"sub_id,status\n", b"c1,sale\n"],
                Err("missing: click_id"),
            ),
        ];
        for (chunks, want) in cases {
            let chunks: Vec<Result<&[u8], String>> = chunks.iter().map(|c| Ok(*c)).collect();
            let got = spool(futures_util::stream::iter(chunks)).await;
            match (got, want) {
                (Ok(mut s), Ok(rows)) => {
                    assert_eq!(s.rows_total, *rows);
                    let mut text = Vec::new();
                    s.file.read_to_end(&mut text).await.unwrap();
                    assert!(text.starts_with(b"click_"), "rewound");
                }
                (Err(e), Err(part)) => assert!(e.to_string().contains(part), "{e}"),
                (got, want) => panic!("{:?} vs {want:?}", got.map(|s| s.rows_total)),
            }
        }
    }
}
