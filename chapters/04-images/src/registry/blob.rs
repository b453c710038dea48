//! Reading a blob from a registry as a stream that survives a dropped connection: when the
//! connection fails part-way, the blob is asked for again from where it stopped, with a
//! `Range` request; a registry that ignores the range sends it all again, and the part
//! already read is skipped.

use std::io::{self, Read};
use std::sync::{Arc, Mutex};

use ureq::Body;
use ureq::http::Response;

use super::client::{Client, Payload};
use crate::error::{Error, Result};

/// How many times a blob's reading is resumed before the error is given up to the caller.
const RESUMES: u32 = 5;

/// A blob of `size` bytes being read from a registry.
pub struct BlobStream {
    client: Arc<Client>,
    /// Where a failure to reach the registry is kept: the reader of this stream sees only an
    /// I/O error, and tells it from corrupt data by looking here.
    failure: Option<Arc<Mutex<Option<Error>>>>,
    path: String,
    size: u64,
    read: u64,
    resumes: u32,
    body: Box<dyn Read + Send>,
}

impl std::fmt::Debug for BlobStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "BlobStream({}, {}/{} bytes)",
            self.path, self.read, self.size
        )
    }
}

impl BlobStream {
    /// Starts reading the blob at `path` (`/v2/<repository>/blobs/<digest>`).
    pub fn open(client: Arc<Client>, path: String, size: u64) -> Result<BlobStream> {
        let response = client.send("GET", &path, &[], &Payload::Empty)?;
        if response.status() != 200 {
            return Err(client.failure(&format!("GET {path}"), response));
        }
        Ok(BlobStream {
            body: body_reader(response),
            failure: None,
            client,
            path,
            size,
            read: 0,
            resumes: 0,
        })
    }

    // ANCHOR: resume
    /// Keeps a failure to reach the registry in `failure`, for the one who reads the stream.
    pub fn keep_failure_in(mut self, failure: Arc<Mutex<Option<Error>>>) -> BlobStream {
        self.failure = Some(failure);
        self
    }

    /// Asks for the rest of the blob, from byte `self.read`.
    fn resume(&mut self) -> io::Result<()> {
        self.resumes += 1;
        let range = [("Range", format!("bytes={}-", self.read))];
        let response = match self.client.send("GET", &self.path, &range, &Payload::Empty) {
            Ok(response) => response,
            Err(error) => {
                let message = error.to_string();
                if let Some(failure) = &self.failure {
                    *failure.lock().expect("not poisoned") = Some(error);
                }
                return Err(io::Error::other(message));
            }
        };
        match response.status().as_u16() {
            206 => self.body = body_reader(response),
            200 => {
                // The whole blob again: skip what was read.
                let mut body = body_reader(response);
                io::copy(&mut (&mut body).take(self.read), &mut io::sink())?;
                self.body = body;
            }
            status => {
                return Err(io::Error::other(format!(
                    "resuming {}: the registry answered {status}",
                    self.path
                )));
            }
        }
        Ok(())
    }
}

impl Read for BlobStream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            let result = self.body.read(buf);
            match result {
                Ok(0) if self.read < self.size && self.resumes < RESUMES => self.resume()?,
                Ok(n) => {
                    self.read += n as u64;
                    return Ok(n);
                }
                Err(_) if self.resumes < RESUMES => self.resume()?,
                Err(error) => return Err(error),
            }
        }
    }
}

// ANCHOR_END: resume

fn body_reader(response: Response<Body>) -> Box<dyn Read + Send> {
    Box::new(response.into_body().into_reader())
}
