//! Reading a layer archive on a thread of its own: read, hash, decompress, hash again, and hand
//! the tar over in large chunks to the thread that creates the files.

use std::io::{self, BufReader, Read};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread::JoinHandle;

use sha2::{Digest, Sha256};

use crate::archive::compression::Compression;

/// How much tar travels between the threads at once, and how many chunks may wait.
const CHUNK: usize = 1 << 20;
const QUEUE: usize = 8;

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

// ANCHOR: pipeline
/// The tar stream of an archive being read and decompressed on another thread. Reading it
/// yields the tar; [`TarStream::finish`] returns both digests once everything was read.
///
/// The work is split to keep both threads busy: the reading thread decompresses (the heaviest
/// part) and hashes the compressed bytes; the tar's own hash is computed here, as the tar is
/// consumed, on the thread that otherwise waits for the kernel to create files. An archive
/// that is not compressed is its own tar: it is hashed once.
#[derive(Debug)]
pub struct TarStream {
    chunks: Receiver<Message>,
    current: Vec<u8>,
    position: usize,
    /// `None` once the archive turned out to be a plain tar, whose digest is the diff id.
    tar_hash: Option<Sha256>,
    tar_size: u64,
    reader: Option<JoinHandle<io::Result<Digests>>>,
}

impl TarStream {
    /// Starts reading `input` on a new thread.
    pub fn start(input: impl Read + Send + 'static) -> io::Result<TarStream> {
        let (send, chunks) = sync_channel(QUEUE);
        let reader = std::thread::Builder::new()
            .name("layer-reader".into())
            .spawn(move || read_and_decompress(input, &send))?;
        Ok(TarStream {
            chunks,
            current: Vec::new(),
            position: 0,
            tar_hash: Some(Sha256::new()),
            tar_size: 0,
            reader: Some(reader),
        })
    }

    /// Reads what is left of the tar (the padding after its end), then waits for the reading
    /// thread and returns what it measured.
    pub fn finish(mut self) -> io::Result<Digests> {
        io::copy(&mut self, &mut io::sink())?;
        let reader = self.reader.take().expect("finish is called once");
        let mut digests = reader
            .join()
            .map_err(|_| io::Error::other("the archive reading thread panicked"))??;
        digests.diff_id = match self.tar_hash.take() {
            Some(hash) => hex_digest(hash),
            None => digests.digest.clone(),
        };
        digests.size = self.tar_size;
        Ok(digests)
    }
}

/// What the reading thread hands over: first the compression it found, then the tar.
#[derive(Debug)]
enum Message {
    Compression(Compression),
    Chunk(Vec<u8>),
    Failed(io::Error),
}

/// The reading thread: one pass over the input, hashing on both sides of the decompression.
fn read_and_decompress(input: impl Read, send: &SyncSender<Message>) -> io::Result<Digests> {
    let mut raw = BufReader::with_capacity(CHUNK, Hashing::new(input));
    let result = (|| -> io::Result<Compression> {
        let compression = Compression::detect(&mut raw)?;
        if send.send(Message::Compression(compression)).is_err() {
            return Ok(compression);
        }
        let mut tar = compression.decoder(&mut raw)?;
        loop {
            let mut chunk = vec![0u8; CHUNK];
            let mut filled = 0;
            while filled < CHUNK {
                match tar.read(&mut chunk[filled..])? {
                    0 => break,
                    n => filled += n,
                }
            }
            if filled == 0 {
                break;
            }
            chunk.truncate(filled);
            if send.send(Message::Chunk(chunk)).is_err() {
                // The writer stopped (it failed on an entry): nothing more to do.
                break;
            }
        }
        Ok(compression)
    })();
    match result {
        Ok(compression) => {
            // Bytes after the compressed stream's end are part of the blob too.
            io::copy(&mut raw, &mut io::sink())?;
            let (digest, compressed_size) = raw.into_inner().finish();
            Ok(Digests {
                digest,
                diff_id: String::new(), // the consuming side hashes the tar
                compressed_size,
                size: 0,
                compression,
            })
        }
        Err(error) => {
            let message = error.to_string();
            let _ = send.send(Message::Failed(error));
            Err(io::Error::other(message))
        }
    }
}
// ANCHOR_END: pipeline

impl Read for TarStream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.position == self.current.len() {
            match self.chunks.recv() {
                Ok(Message::Compression(Compression::None)) => self.tar_hash = None,
                Ok(Message::Compression(_)) => {}
                Ok(Message::Chunk(chunk)) => {
                    self.current = chunk;
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

/// A reader that hashes and counts what passes through it.
struct Hashing<R> {
    inner: R,
    hash: Sha256,
    count: u64,
}

impl<R: Read> Hashing<R> {
    fn new(inner: R) -> Self {
        Hashing {
            inner,
            hash: Sha256::new(),
            count: 0,
        }
    }

    fn finish(self) -> (String, u64) {
        (hex_digest(self.hash), self.count)
    }
}

impl<R: Read> Read for Hashing<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
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
