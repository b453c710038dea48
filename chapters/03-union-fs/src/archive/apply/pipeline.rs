//! Reading a layer archive on a thread of its own: read, hash, decompress, hash again, and hand
//! the tar over in large chunks to the thread that creates the files.
//!
//! When the archive cannot be unpacked (the decompressor or the tar reader fails part-way),
//! the reading thread can go on hashing what is left of the input without decompressing it:
//! the digest of the whole input then tells a blob damaged on its way (its digest is not the
//! one it was named by) from an archive that was broken when it was made.

use std::io::{self, BufReader, Read};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread::JoinHandle;

use sha2::{Digest, Sha256};

use crate::archive::compression::Compression;

/// How much tar travels between the threads at once, and how many chunks may wait.
const CHUNK: usize = 1 << 20;
const QUEUE: usize = 8;

/// What the reading thread does once the archive turned out not to unpack.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterFailure {
    /// Stop reading at once.
    Stop,
    /// Read (and hash) the input to its end, so that its digest is known.
    ReadToEnd,
}

/// What the reading thread measured.
#[derive(Debug, Clone)]
pub struct Digests {
    /// `sha256:` of the bytes as read (the blob's digest).
    pub digest: String,
    /// `sha256:` of the tar (the layer's diff id).
    pub diff_id: String,
    /// Bytes read.
    pub compressed_size: u64,
    /// Bytes of tar.
    pub size: u64,
    /// The compression found.
    pub compression: Compression,
}

/// An archive whose reading failed.
#[derive(Debug)]
pub struct ReadFailure {
    /// What failed.
    pub error: io::Error,
    /// `sha256:` of the whole input and its size, if it was read to its end anyway.
    pub whole: Option<(String, u64)>,
}

// ANCHOR: pipeline
/// The tar stream of an archive being read and decompressed on another thread. Reading it
/// yields the tar; [`TarStream::finish`] returns both digests once everything was read.
///
/// The work is split to keep both threads busy: the reading thread decompresses (the heaviest
/// part) and hashes the compressed bytes; the tar's own hash is computed here, as the tar is
/// consumed, on the thread that otherwise waits for the kernel to create files. An archive
/// that is not compressed is its own tar: it is hashed once. Chunks go back to the reading
/// thread once consumed, so the same few megabytes carry the whole archive.
#[derive(Debug)]
pub struct TarStream {
    chunks: Receiver<Message>,
    spares: SyncSender<Vec<u8>>,
    current: Vec<u8>,
    position: usize,
    /// `None` once the archive turned out to be a plain tar, whose digest is the diff id.
    tar_hash: Option<Sha256>,
    tar_size: u64,
    reader: JoinHandle<Outcome>,
}
// ANCHOR_END: pipeline

impl TarStream {
    /// Starts reading `input` on a new thread.
    pub fn start(
        input: impl Read + Send + 'static,
        after_failure: AfterFailure,
    ) -> io::Result<TarStream> {
        let (send, chunks) = sync_channel(QUEUE);
        let (spares, spare) = sync_channel(QUEUE + 2);
        let reader = std::thread::Builder::new()
            .name("layer-reader".into())
            .spawn(move || read_and_decompress(input, &send, &spare, after_failure))?;
        Ok(TarStream {
            chunks,
            spares,
            current: Vec::new(),
            position: 0,
            tar_hash: Some(Sha256::new()),
            tar_size: 0,
            reader,
        })
    }

    /// Reads what is left of the tar (the padding after its end), then waits for the reading
    /// thread and returns what it measured.
    pub fn finish(mut self) -> Result<Digests, ReadFailure> {
        let rest = io::copy(&mut self, &mut io::sink());
        let tar_hash = self.tar_hash.take();
        let tar_size = self.tar_size;
        let outcome = self.stop();
        let whole = outcome.whole;
        let (digest, compressed_size) = match (rest, outcome.error) {
            (Err(error), _) | (Ok(_), Some(error)) => return Err(ReadFailure { error, whole }),
            (Ok(_), None) => whole.ok_or_else(|| ReadFailure {
                error: io::Error::other("the archive was not read to its end"),
                whole: None,
            })?,
        };
        let diff_id = match tar_hash {
            Some(hash) => hex_digest(hash),
            None => digest.clone(),
        };
        Ok(Digests {
            digest,
            diff_id,
            compressed_size,
            size: tar_size,
            compression: outcome.compression,
        })
    }

    /// Gives up on the tar (its entries could not be unpacked) and waits for the reading
    /// thread: returns the digest and size of the whole input if it was told to read it to
    /// its end.
    pub fn abandon(self) -> Option<(String, u64)> {
        self.stop().whole
    }

    /// Hangs up on the reading thread (its next chunk finds no one to take it) and waits for
    /// it to end.
    fn stop(self) -> Outcome {
        let TarStream { chunks, reader, .. } = self;
        drop(chunks);
        reader.join().unwrap_or_else(|_| Outcome {
            compression: Compression::None,
            whole: None,
            error: Some(io::Error::other("the archive reading thread panicked")),
        })
    }
}

/// What the reading thread hands over: first the compression it found, then the tar.
#[derive(Debug)]
enum Message {
    Compression(Compression),
    Chunk(Vec<u8>),
    Failed(io::Error),
}

/// How the reading thread ended.
#[derive(Debug)]
struct Outcome {
    compression: Compression,
    /// `sha256:` and size of the whole input, if it was read to its end.
    whole: Option<(String, u64)>,
    /// The first error, from the input or the decompressor.
    error: Option<io::Error>,
}

// ANCHOR: reading_thread
/// The reading thread: one pass over the input, hashing on both sides of the decompression.
fn read_and_decompress(
    input: impl Read,
    send: &SyncSender<Message>,
    spares: &Receiver<Vec<u8>>,
    after_failure: AfterFailure,
) -> Outcome {
    let mut raw = BufReader::with_capacity(CHUNK, Hashing::new(input));
    let mut compression = Compression::None;
    let decompressed = (|| -> io::Result<Handed> {
        compression = Compression::detect(&mut raw)?;
        if send.send(Message::Compression(compression)).is_err() {
            return Ok(Handed::Refused);
        }
        let mut tar = compression.decoder(&mut raw)?;
        loop {
            let mut chunk = spares.try_recv().unwrap_or_default();
            chunk.resize(CHUNK, 0);
            let filled = fill(&mut tar, &mut chunk)?;
            if filled == 0 {
                return Ok(Handed::All);
            }
            chunk.truncate(filled);
            if send.send(Message::Chunk(chunk)).is_err() {
                // The writer stopped (it failed on an entry).
                return Ok(Handed::Refused);
            }
        }
    })();
    let error = match decompressed {
        Ok(Handed::All) => None,
        Ok(Handed::Refused) if after_failure == AfterFailure::Stop => {
            return Outcome {
                compression,
                whole: None,
                error: None,
            };
        }
        Ok(Handed::Refused) => None,
        Err(error) => {
            let kept = io::Error::new(error.kind(), error.to_string());
            let _gone_if_the_writer_failed_too = send.send(Message::Failed(error));
            if raw.get_ref().failed || after_failure == AfterFailure::Stop {
                // Nothing more can be read, or no one wants it.
                return Outcome {
                    compression,
                    whole: None,
                    error: Some(kept),
                };
            }
            Some(kept)
        }
    };
    // Bytes after the compressed stream's end are part of the blob too; after a failure,
    // the rest of the input is hashed without being decompressed.
    hash_the_rest(raw, compression, error)
}
// ANCHOR_END: reading_thread

/// Reads the rest of the input only to hash it, and says how the reading thread ended.
fn hash_the_rest<R: Read>(
    mut raw: BufReader<Hashing<R>>,
    compression: Compression,
    error: Option<io::Error>,
) -> Outcome {
    let whole = io::copy(&mut raw, &mut io::sink()).map(|_| raw.into_inner().finish());
    match whole {
        Ok(whole) => Outcome {
            compression,
            whole: Some(whole),
            error,
        },
        Err(read) => Outcome {
            compression,
            whole: None,
            error: error.or(Some(read)),
        },
    }
}

/// How far the tar got to the other thread.
enum Handed {
    /// All of it.
    All,
    /// Part of it: the other thread stopped taking it.
    Refused,
}

/// Fills `chunk` from `tar` as far as it goes; returns how much was filled (0 at the end).
fn fill(tar: &mut impl Read, chunk: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < chunk.len() {
        match tar.read(&mut chunk[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

impl Read for TarStream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.position == self.current.len() {
            match self.chunks.recv() {
                Ok(Message::Compression(Compression::None)) => self.tar_hash = None,
                Ok(Message::Compression(_)) => {}
                Ok(Message::Chunk(chunk)) => {
                    let used = std::mem::replace(&mut self.current, chunk);
                    if used.capacity() > 0 {
                        // The reading thread makes a new one if it has ended or has enough.
                        let _unneeded = self.spares.try_send(used);
                    }
                    self.position = 0;
                }
                Ok(Message::Failed(error)) => return Err(error),
                Err(_) => return Ok(0), // the reading thread is done
            }
        }
        let n = buf.len().min(self.current.len() - self.position);
        let bytes = &self.current[self.position..self.position + n];
        buf[..n].copy_from_slice(bytes);
        if let Some(hash) = &mut self.tar_hash {
            hash.update(bytes);
        }
        self.tar_size += n as u64;
        self.position += n;
        Ok(n)
    }
}

/// A reader that hashes and counts what passes through it, and remembers whether the input
/// itself failed (rather than what was made of its bytes).
struct Hashing<R> {
    inner: R,
    hash: Sha256,
    count: u64,
    failed: bool,
}

impl<R: Read> Hashing<R> {
    fn new(inner: R) -> Self {
        Hashing {
            inner,
            hash: Sha256::new(),
            count: 0,
            failed: false,
        }
    }

    fn finish(self) -> (String, u64) {
        (hex_digest(self.hash), self.count)
    }
}

impl<R: Read> Read for Hashing<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf).inspect_err(|e| {
            self.failed = e.kind() != io::ErrorKind::Interrupted;
        })?;
        self.hash.update(&buf[..n]);
        self.count += n as u64;
        Ok(n)
    }
}

/// `sha256:` and the digest in lowercase hex, as OCI writes digests.
fn hex_digest(hash: Sha256) -> String {
    let hex: String = hash.finalize().iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256:{hex}")
}
