//! Reading a file whose path scimops was given: a regular file only, of a bounded
//! size. A leaf: it depends on nothing of scimops, so that every module may read
//! through it (the repository's files, a saved plan, a secret mounted as a file).

use std::io::Read;
use std::path::Path;

/// Why a file was not read.
#[derive(Debug, thiserror::Error)]
pub enum ReadProblem {
    #[error("cannot read the file: {0}")]
    Io(#[from] std::io::Error),
    #[error("this is not a regular file ({0}); scimops reads only regular files")]
    NotRegular(&'static str),
    #[error("the file is {}; scimops reads files of at most {}", bytes(*size), bytes(*limit))]
    TooLarge { size: u64, limit: u64 },
}

/// Reads a regular file of at most `limit` bytes: the kind and the size are checked
/// before opening (a FIFO would block the open), and reading stops at the limit (a file
/// that grows is not read past it).
pub fn read_regular(path: &Path, limit: u64) -> Result<Vec<u8>, ReadProblem> {
    let metadata = std::fs::metadata(path)?;
    let kind = metadata.file_type();
    if !kind.is_file() {
        return Err(ReadProblem::NotRegular(kind_name(&kind)));
    }
    if metadata.len() > limit {
        return Err(ReadProblem::TooLarge {
            size: metadata.len(),
            limit,
        });
    }
    let file = std::fs::File::open(path)?;
    let mut bytes = Vec::with_capacity(metadata.len() as usize);
    file.take(limit + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Err(ReadProblem::TooLarge {
            size: bytes.len() as u64,
            limit,
        });
    }
    Ok(bytes)
}

fn kind_name(kind: &std::fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if kind.is_fifo() {
            return "a named pipe";
        }
        if kind.is_char_device() || kind.is_block_device() {
            return "a device";
        }
        if kind.is_socket() {
            return "a socket";
        }
    }
    if kind.is_dir() {
        "a folder"
    } else {
        "not a file"
    }
}

/// A size as people read it: `900 bytes`, `64 KiB`, `32 MiB`.
fn bytes(n: u64) -> String {
    match n {
        n if n >= 1024 * 1024 => format!("{} MiB", n / (1024 * 1024)),
        n if n >= 1024 => format!("{} KiB", n / 1024),
        n => format!("{n} bytes"),
    }
}
