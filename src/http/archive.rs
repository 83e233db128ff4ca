//! Zip archives of a paste's files. The `zip` crate lives here only.

use std::io::Write;

use bytes::Bytes;
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipWriter};

/// A zip of `(path, text)` entries, deflated, with fixed timestamps (the same files give the
/// same archive). Blocking: run it on the blocking pool.
pub fn zip(files: Vec<(String, Bytes)>) -> zip::result::ZipResult<Vec<u8>> {
    let total: usize = files.iter().map(|(_, t)| t.len()).sum();
    let mut writer = ZipWriter::new(std::io::Cursor::new(Vec::with_capacity(total / 3 + 1024)));
    let options = SimpleFileOptions::default()
        .compression_method(CompressionMethod::Deflated)
        .unix_permissions(0o644);
    for (path, text) in files {
        writer.start_file(path, options)?;
        writer.write_all(&text)?;
    }
    Ok(writer.finish()?.into_inner())
}
