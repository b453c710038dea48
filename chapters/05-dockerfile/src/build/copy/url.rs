//! # `ADD https://…`: a downloaded file as a source
//!
//! An `ADD` source that starts with `http://` or `https://` is a file to download
//! ([`crate::build::download`] fetches it; the builder does that before the copy, since the
//! cache needs its digest). What it becomes in the image follows docker's legacy builder,
//! checked against docker 20.10 with a server on loopback:
//!
//! - **Its name** is the last element of the URL's path (decoded, the query left out:
//!   `…/hello.txt?v=1` is `hello.txt`); for a path ending with `/`, the server's
//!   `Content-Disposition` may name it. With no name, a destination ending with `/` fails
//!   (`cannot determine filename for source …`) and any other is the file's own path.
//! - **Its mode is `0600`**, whatever the server's file had: docker creates the download
//!   that way and copies it as it is (`--chmod` changes it, `--chown` its owner).
//! - **Its modification time** is the server's `Last-Modified`, or the epoch without one.
//! - **It is never unpacked**, even if it is a tar: only local archives are.
//! - **Wildcards mean nothing** in a URL: it is requested as written (docker then reports the
//!   server's `404`).
//!
//! `--checksum=sha256:<hex>` (BuildKit's flag; the legacy builder of docker 20.10 does not
//! know it) pins the content: a download with another digest fails, naming both, and nothing
//! is written. BuildKit's message is `digest mismatch <got>: <wanted>`; this one says which
//! is which. It also spares the download when the cache already has the step: the checksum
//! *is* the content's digest, so it stands for the content in the cache key.

use std::os::fd::AsFd;
use std::path::{Path, PathBuf};

use dockyard_support::IoError;
use rustix::fs::{Timespec, Timestamps};

use super::CopyInstruction;
use super::sources::Selected;
use crate::build::download::{Download, download};
use crate::error::CopyError;
use crate::error::UrlError;

/// The name docker gives a download it cannot name, when the destination names the file.
pub const UNNAMED: &str = "__unnamed__";

/// Whether an `ADD` source is a URL.
///
/// ```
/// use ch05_dockerfile::build::copy::url::is_url;
///
/// assert!(is_url("https://example.com/a.tar.gz"));
/// assert!(!is_url("http/a.txt"));
/// ```
pub fn is_url(source: &str) -> bool {
    source.starts_with("http://") || source.starts_with("https://")
}

/// A URL source, downloaded: what [`super::copy`] copies for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fetched {
    /// The URL, as the instruction wrote it.
    pub url: String,
    /// Its file name in the image.
    pub name: String,
    /// The downloaded file (mode `0600`, its time set).
    pub path: PathBuf,
}

/// `--checksum`'s value checked: `sha256:<hex>`, lower-cased.
///
/// ```
/// use ch05_dockerfile::build::copy::url::parse_checksum;
///
/// let hex = "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03";
/// assert_eq!(parse_checksum(&format!("sha256:{hex}")).unwrap(), format!("sha256:{hex}"));
/// assert!(parse_checksum("md5:abc").is_err());
/// ```
pub fn parse_checksum(text: &str) -> Result<String, UrlError> {
    match text.split_once(':') {
        Some(("sha256", hex)) if hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()) => {
            Ok(format!("sha256:{}", hex.to_ascii_lowercase()))
        }
        _ => Err(UrlError::BadChecksum(text.to_owned())),
    }
}

/// `--checksum` checked against the sources: one source, a URL.
pub fn check_checksum_sources(sources: &[String]) -> Result<(), UrlError> {
    match sources {
        [one] if is_url(one) => Ok(()),
        [_] | [] => Err(UrlError::ChecksumWithoutUrl),
        _ => Err(UrlError::ChecksumMultipleSources),
    }
}

/// The instruction's sources as (URLs, paths): only `ADD` downloads.
pub fn split_sources(instruction: &CopyInstruction) -> (Vec<String>, Vec<String>) {
    instruction
        .sources
        .iter()
        .cloned()
        .partition(|source| instruction.add && is_url(source))
}

/// The file name of a download from `url`: the last element of its path, decoded; else the
/// name the server suggested.
///
/// ```
/// use ch05_dockerfile::build::copy::url::file_name;
///
/// assert_eq!(file_name("http://h/a/hello.txt?x=1#y", None).as_deref(), Some("hello.txt"));
/// assert_eq!(file_name("http://h/a%20b.txt", None).as_deref(), Some("a b.txt"));
/// assert_eq!(file_name("http://h/dir/", Some("x.tgz")).as_deref(), Some("x.tgz"));
/// assert_eq!(file_name("http://h", None), None);
/// assert_eq!(file_name("http://h/..", None), None);
/// ```
pub fn file_name(url: &str, suggested: Option<&str>) -> Option<String> {
    let after_scheme = url.split_once("://").map_or(url, |(_, rest)| rest);
    let path = after_scheme.find('/').map_or("", |at| &after_scheme[at..]);
    let path = path.split(['?', '#']).next().unwrap_or_default();
    let path = percent_decode(path);
    let own = match path.rsplit('/').next() {
        Some(name) if !path.ends_with('/') && !matches!(name, "" | "." | "..") => {
            Some(name.to_owned())
        }
        _ => None,
    };
    own.or_else(|| suggested.map(str::to_owned))
}

/// `%XX` escapes decoded (an invalid one is kept as written).
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |at: usize| bytes.get(at).and_then(|b| (*b as char).to_digit(16));
        match (bytes[i], hex(i + 1), hex(i + 2)) {
            (b'%', Some(high), Some(low)) => {
                out.push((high * 16 + low) as u8);
                i += 3;
            }
            (byte, _, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

// ANCHOR: fetch
/// Downloads `url` to `path` for an `ADD` to `destination`: the file named as docker names
/// it, verified against `checksum`, given docker's mode and time. The [`Download`] removes
/// the file when dropped.
pub fn fetch(
    url: &str,
    path: &Path,
    destination: &str,
    checksum: Option<&str>,
) -> Result<(Download, Fetched), UrlError> {
    let downloaded = download(url, path)?;
    if let Some(expected) = checksum
        && downloaded.digest != expected
    {
        return Err(UrlError::ChecksumMismatch {
            url: url.to_owned(),
            actual: downloaded.digest.clone(),
            expected: expected.to_owned(),
        });
    }
    let name = match file_name(url, downloaded.suggested_name.as_deref()) {
        Some(name) => name,
        None if destination.ends_with('/') => return Err(UrlError::NoFileName(url.to_owned())),
        None => UNNAMED.to_owned(),
    };
    // Docker sets both times to `Last-Modified`, or to the epoch when there is none.
    let time = Timespec {
        tv_sec: downloaded.last_modified.unwrap_or(0),
        tv_nsec: 0,
    };
    let file = std::fs::File::open(path).map_err(|source| IoError {
        action: "open".into(),
        path: Some(path.into()),
        source,
    })?;
    let times = Timestamps {
        last_access: time,
        last_modification: time,
    };
    rustix::fs::futimens(file.as_fd(), &times).map_err(|errno| IoError {
        action: "set the times of".into(),
        path: Some(path.into()),
        source: errno.into(),
    })?;
    let fetched = Fetched {
        url: url.to_owned(),
        name,
        path: path.to_owned(),
    };
    Ok((downloaded, fetched))
}
// ANCHOR_END: fetch

/// The downloaded files of `urls`, as sources to copy.
pub fn selected(urls: &[String], fetched: &[Fetched]) -> Result<Vec<Selected>, CopyError> {
    urls.iter()
        .map(|url| {
            let Some(file) = fetched.iter().find(|file| file.url == *url) else {
                return Err(CopyError::RemoteSource { url: url.clone() });
            };
            let metadata = std::fs::symlink_metadata(&file.path).map_err(|source| IoError {
                action: "read".into(),
                path: Some(file.path.clone()),
                source,
            })?;
            Ok(Selected {
                shown: url.clone(),
                name: file.name.clone(),
                real: Vec::new(),
                path: file.path.clone(),
                metadata,
            })
        })
        .collect()
}
