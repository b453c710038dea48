//! # Downloading a file: `ADD https://example.com/tool.tar.gz /opt/`
//!
//! `ADD` takes URLs as sources: the builder (not a container: the step runs no program)
//! fetches the file with one `GET` and copies it into the image as if it came from the
//! context. This module does the fetching; what the file becomes in the image (its name, its
//! mode, `--checksum`) is [`crate::build::copy::url`]'s business.
//!
//! The body is streamed into a temporary file of the store, through SHA-256 on the way, so a
//! file of any size costs no memory and its digest is known the moment it has arrived: that
//! digest is what the build cache compares (the server may hand out different bytes at the
//! same URL tomorrow). The server's `Last-Modified`, when it sends one, is kept for the
//! file's modification time, as docker does; its `Content-Disposition` may name the file.
//!
//! Time is bounded, size is not: a connection must open within [`CONNECT_TIMEOUT`], the
//! answer start within [`RESPONSE_TIMEOUT`], and no read of the body may wait longer than
//! [`READ_TIMEOUT`] for a byte; a slow but steady download goes on as long as it takes.
//! (No overall timeout either: with one, ureq would resolve host names on a thread of its
//! own, which may outlive the request, and a `RUN` must be started from a single-threaded
//! process.) TLS is set up as chapter 04's registry client sets it up: the platform's roots.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use dockyard_support::IoError;

use crate::error::DownloadError;
use sha2::{Digest, Sha256};
use ureq::Agent;
use ureq::http::Response;

/// How long to wait for a connection to open.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);
/// How long to wait for the server to start answering.
pub const RESPONSE_TIMEOUT: Duration = Duration::from_secs(60);
/// How long one read of the body may wait for data: a stalled server fails the build.
pub const READ_TIMEOUT: Duration = Duration::from_secs(60);
/// The most of an error answer's body shown in a message.
const SHOWN_BODY: u64 = 200;

/// A file downloaded into a temporary file, removed when this is dropped.
#[derive(Debug)]
pub struct Download {
    /// Where it is.
    pub path: PathBuf,
    /// `sha256:<hex>` of its content.
    pub digest: String,
    /// The server's `Last-Modified`, in seconds since the epoch, if it sent one that parses.
    pub last_modified: Option<i64>,
    /// The file name the server's `Content-Disposition` suggests, if any.
    pub suggested_name: Option<String>,
}

impl Drop for Download {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path); // gone already is fine
    }
}

/// Downloads `url` into the new file `path` (mode `0600`), hashing it on the way.
pub fn download(url: &str, path: &Path) -> Result<Download, DownloadError> {
    let mut response = agent()
        .get(url)
        .call()
        .map_err(|error| DownloadError::Request {
            url: url.to_owned(),
            cause: error.to_string(),
        })?;
    let status = response.status();
    if status != 200 {
        let mut body = String::new();
        let _ = response
            .body_mut()
            .as_reader()
            .take(SHOWN_BODY)
            .read_to_string(&mut body); // the status says enough when the body is unreadable
        return Err(DownloadError::Status {
            url: url.to_owned(),
            status: format!(
                "{} {}",
                status.as_u16(),
                status.canonical_reason().unwrap_or_default()
            ),
            body: body.split_whitespace().collect::<Vec<_>>().join(" "),
        });
    }
    let last_modified = header(&response, "last-modified").and_then(|d| parse_http_date(&d));
    let suggested_name = header(&response, "content-disposition").and_then(|d| disposition(&d));
    let failed = |action: &str| {
        let action = action.to_owned();
        move |source| IoError {
            action,
            path: Some(path.into()),
            source,
        }
    };
    let mut file = {
        use std::os::unix::fs::OpenOptionsExt;
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path)
            .map_err(failed("create"))?
    };
    // From here on the file is removed if anything fails: `Download` owns it.
    let mut download = Download {
        path: path.to_owned(),
        digest: String::new(),
        last_modified,
        suggested_name,
    };
    let mut hasher = Sha256::new();
    let mut reader = response.body_mut().as_reader();
    let mut buffer = vec![0; 64 * 1024];
    loop {
        let read = reader
            .read(&mut buffer)
            .map_err(|error| DownloadError::Body {
                url: url.to_owned(),
                cause: error.to_string(),
            })?;
        if read == 0 {
            break;
        }
        hasher.update(&buffer[..read]);
        file.write_all(&buffer[..read]).map_err(failed("write"))?;
    }
    file.sync_all().map_err(failed("flush"))?;
    download.digest = format!("sha256:{:x}", hasher.finalize());
    Ok(download)
}

/// An agent set up as chapter 04's registry client's: the platform's TLS roots, no overall
/// timeout (see the module's comment), redirects followed.
fn agent() -> Agent {
    let config = Agent::config_builder()
        .tls_config(ch04_images::registry::client::tls_config())
        .http_status_as_error(false)
        .timeout_connect(Some(CONNECT_TIMEOUT))
        .timeout_recv_response(Some(RESPONSE_TIMEOUT))
        .timeout_per_read(Some(READ_TIMEOUT))
        .user_agent(concat!("dockyard/", env!("CARGO_PKG_VERSION")))
        .build();
    Agent::new_with_config(config)
}

fn header<B>(response: &Response<B>, name: &str) -> Option<String> {
    response
        .headers()
        .get(name)
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned)
}

/// The `filename` of a `Content-Disposition: attachment; filename="x.tar.gz"`: its last path
/// element, as docker takes it (never a path).
fn disposition(value: &str) -> Option<String> {
    let parameter = value
        .split(';')
        .filter_map(|part| part.trim().split_once('='))
        .find(|(name, _)| name.trim().eq_ignore_ascii_case("filename"))?
        .1
        .trim();
    let name = parameter
        .strip_prefix('"')
        .and_then(|rest| rest.strip_suffix('"'))
        .unwrap_or(parameter);
    if name.ends_with('/') {
        return None;
    }
    let name = name.rsplit('/').next().unwrap_or_default();
    (!name.is_empty() && name != "." && name != "..").then(|| name.to_owned())
}

/// Seconds since the epoch of an HTTP date, in any of the three forms HTTP allows: `Sun, 06
/// Nov 1994 08:49:37 GMT` (the one servers send), `Sunday, 06-Nov-94 08:49:37 GMT` and
/// `Sun Nov  6 08:49:37 1994`. `None` if it is none of them (docker then uses the epoch).
///
/// ```
/// use ch05_dockerfile::build::download::parse_http_date;
///
/// assert_eq!(parse_http_date("Thu, 02 Jan 2020 03:04:05 GMT"), Some(1_577_934_245));
/// assert_eq!(parse_http_date("Thursday, 02-Jan-20 03:04:05 GMT"), Some(1_577_934_245));
/// assert_eq!(parse_http_date("Thu Jan  2 03:04:05 2020"), Some(1_577_934_245));
/// assert_eq!(parse_http_date("yesterday"), None);
/// ```
pub fn parse_http_date(text: &str) -> Option<i64> {
    const MONTHS: [&str; 12] = [
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ];
    let tokens = text
        .split([' ', ',', '-'])
        .filter(|token| !token.is_empty());
    let (mut month, mut clock, mut numbers) = (None, None, Vec::new());
    for token in tokens {
        if token.contains(':') {
            clock = Some(token);
        } else if let Ok(number) = token.parse::<i64>() {
            numbers.push(number);
        } else if let Some(index) = MONTHS
            .iter()
            .position(|name| token.eq_ignore_ascii_case(name))
        {
            month = Some(index + 1);
        }
    }
    let (month, clock) = (month?, clock?);
    let [day, year] = numbers[..] else {
        return None;
    };
    // A two-digit year (the old form) is read as Go reads it: 69–99 are 1900s, the rest 2000s.
    let year = match year {
        0..=68 => year + 2000,
        69..=99 => year + 1900,
        _ => year,
    };
    dockyard_support::clock::parse_rfc3339(&format!("{year:04}-{month:02}-{day:02}T{clock}Z"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_disposition_names_a_file_never_a_path() {
        assert_eq!(
            disposition(r#"attachment; filename="tool.tar.gz""#).as_deref(),
            Some("tool.tar.gz")
        );
        assert_eq!(
            disposition("attachment; FileName=../../etc/passwd").as_deref(),
            Some("passwd")
        );
        assert_eq!(disposition("attachment; filename=\"dir/\""), None);
        assert_eq!(disposition("inline"), None);
    }
}
