//! Bounds on what one answer may make the module hold: the one definition of
//! every limit, used where bytes accumulate (the body sinks of `transport`,
//! the line framer of `streaming`, the exec plugin's reader in `auth::exec`).
//!
//! The defaults are far above any real object (the API server refuses
//! objects over 1.5 MB and a list of 10,000 pods is about 60 MB), so they
//! only stop a broken or hostile server or plugin: an endless chunked body,
//! an event line that never ends, a decompression bomb (the limits count
//! decompressed bytes), a plugin that writes forever. Settable per client
//! with `conf:set_limits{…}`.

use std::time::Duration;

pub(crate) const MIB: usize = 1024 * 1024;

#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Limits {
    /// One whole answer (a list, a get, logs), after decompression.
    pub(crate) body: usize,
    /// One line of a watch or a followed log (one event, one log line).
    pub(crate) line: usize,
    /// What an exec credential plugin writes to stdout (and stderr).
    pub(crate) plugin_output: usize,
    /// How long an exec credential plugin may run.
    pub(crate) plugin_time: Duration,
}

impl Limits {
    pub(crate) const DEFAULT: Limits = Limits {
        body: 512 * MIB,
        line: 64 * MIB,
        plugin_output: 16 * MIB,
        plugin_time: Duration::from_secs(60),
    };
}

impl Default for Limits {
    fn default() -> Self {
        Limits::DEFAULT
    }
}

/// The error for an answer past `limit` bytes.
pub(crate) fn too_large(what: &str, limit: usize) -> String {
    format!(
        "{what} exceeds the limit of {} (conf:set_limits changes it)",
        bytes(limit)
    )
}

/// `512 MiB`, `64 KiB`, `100 bytes`.
pub(crate) fn bytes(n: usize) -> String {
    if n >= MIB && n.is_multiple_of(MIB) {
        format!("{} MiB", n / MIB)
    } else if n >= 1024 && n.is_multiple_of(1024) {
        format!("{} KiB", n / 1024)
    } else {
        format!("{n} bytes")
    }
}

/// Largest file the module reads for configuration: a kubeconfig, a token
/// file, a certificate or key (real ones are kilobytes).
pub(crate) const CONFIG_FILE: usize = 16 * MIB;

/// Reads a configuration file: only a regular file (a FIFO blocked the call
/// forever, `/dev/zero` grew without end), at most `max` bytes. The file is
/// opened without blocking and checked after opening (no window between a
/// check and the open).
pub(crate) fn read_file(path: &std::path::Path, max: usize) -> std::io::Result<Vec<u8>> {
    use std::io::{Error, ErrorKind, Read};
    use std::os::unix::fs::OpenOptionsExt;
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(Error::new(
            ErrorKind::InvalidInput,
            "not a regular file (a FIFO, device or directory is not read)",
        ));
    }
    if meta.len() > max as u64 {
        return Err(Error::new(
            ErrorKind::InvalidData,
            format!("larger than {}", bytes(max)),
        ));
    }
    let mut out = Vec::with_capacity(meta.len() as usize);
    file.take(max as u64 + 1).read_to_end(&mut out)?;
    if out.len() > max {
        return Err(Error::new(
            ErrorKind::InvalidData,
            format!("larger than {}", bytes(max)),
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Defect 12 of issue 16: a FIFO blocked the read forever and a device
    /// like /dev/zero was read without end.
    #[test]
    fn only_regular_files_of_bounded_size_are_read() {
        let dir = std::env::temp_dir().join(format!("kube-limits-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let fifo = dir.join("fifo");
        let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        // SAFETY: mkfifo reads a NUL-terminated path that outlives the call.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        let started = std::time::Instant::now();
        let e = read_file(&fifo, 100).unwrap_err().to_string();
        assert!(e.contains("not a regular file"), "{e}");
        assert!(started.elapsed() < Duration::from_secs(1));
        let e = read_file(std::path::Path::new("/dev/zero"), 100).unwrap_err();
        assert!(e.to_string().contains("not a regular file"), "{e}");
        let big = dir.join("big");
        std::fs::write(&big, vec![b'x'; 101]).unwrap();
        assert!(read_file(&big, 100)
            .unwrap_err()
            .to_string()
            .contains("100 bytes"));
        assert_eq!(read_file(&big, 101).unwrap().len(), 101);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn sizes_read_as_people_write_them() {
        assert_eq!(bytes(512 * MIB), "512 MiB");
        assert_eq!(bytes(64 * 1024), "64 KiB");
        assert_eq!(bytes(100), "100 bytes");
    }
}
