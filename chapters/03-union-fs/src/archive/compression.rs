//! Layer archives come plain, gzip- or zstd-compressed; the first bytes say which.

use std::io::{self, BufRead, Read};

/// How a layer archive is compressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    /// A plain tar.
    None,
    /// gzip (`application/vnd.oci.image.layer.v1.tar+gzip`).
    Gzip,
    /// zstd (`application/vnd.oci.image.layer.v1.tar+zstd`).
    Zstd,
}

impl Compression {
    /// Recognizes the format by its magic number, without consuming anything.
    pub fn detect(input: &mut impl BufRead) -> io::Result<Compression> {
        let head = input.fill_buf()?;
        Ok(if head.starts_with(&[0x1f, 0x8b]) {
            Compression::Gzip
        } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
            Compression::Zstd
        } else {
            Compression::None
        })
    }

    /// A reader of the decompressed bytes of `input`.
    pub fn decoder<'a>(self, input: &'a mut (impl BufRead + 'a)) -> io::Result<Box<dyn Read + 'a>> {
        Ok(match self {
            Compression::None => Box::new(input),
            // Multi-member: `cat a.gz b.gz` is one valid gzip stream, as gzip -d reads it.
            Compression::Gzip => Box::new(flate2::bufread::MultiGzDecoder::new(input)),
            Compression::Zstd => Box::new(zstd::Decoder::with_buffer(input)?),
        })
    }
}
