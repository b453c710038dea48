//! Media types: what a blob is, said by the descriptor that points at it.
//!
//! A digest tells *which* bytes a descriptor means; its `mediaType` tells *what* they are, so a
//! reader knows how to parse them before it has them. The OCI image spec defines the types below
//! (`application/vnd.oci.…`). Docker's older "image manifest v2, schema 2" format has the same
//! shapes under its own names (`application/vnd.docker.…`), and registries still serve it, so
//! this crate accepts both.

/// An OCI image manifest: one image, its config and its layers.
pub const IMAGE_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
/// An OCI image index: a list of manifests, typically one per platform.
pub const IMAGE_INDEX: &str = "application/vnd.oci.image.index.v1+json";
/// An OCI image config: how to run the image, and the digests of its unpacked layers.
pub const IMAGE_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
/// A content descriptor on its own (the spec's schema for [`Descriptor`](super::Descriptor)).
pub const DESCRIPTOR: &str = "application/vnd.oci.descriptor.v1+json";
/// The `oci-layout` file at the root of an OCI image layout directory.
pub const LAYOUT_HEADER: &str = "application/vnd.oci.layout.header.v1+json";
/// The empty JSON document `{}`, used as the config of artifacts that need none.
pub const EMPTY_JSON: &str = "application/vnd.oci.empty.v1+json";

/// A layer: an uncompressed tar archive of a filesystem change set.
pub const LAYER_TAR: &str = "application/vnd.oci.image.layer.v1.tar";
/// A layer compressed with gzip.
pub const LAYER_TAR_GZIP: &str = "application/vnd.oci.image.layer.v1.tar+gzip";
/// A layer compressed with zstd.
pub const LAYER_TAR_ZSTD: &str = "application/vnd.oci.image.layer.v1.tar+zstd";
/// A layer that must not be pushed to other registries (deprecated by the spec).
pub const LAYER_NONDISTRIBUTABLE_TAR: &str =
    "application/vnd.oci.image.layer.nondistributable.v1.tar";
/// A non-distributable gzip layer (deprecated by the spec).
pub const LAYER_NONDISTRIBUTABLE_TAR_GZIP: &str =
    "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip";
/// A non-distributable zstd layer (deprecated by the spec).
pub const LAYER_NONDISTRIBUTABLE_TAR_ZSTD: &str =
    "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd";

/// Docker's image manifest (schema 2): the same shape as [`IMAGE_MANIFEST`].
pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
/// Docker's manifest list: the same shape as [`IMAGE_INDEX`].
pub const DOCKER_MANIFEST_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
/// Docker's image config: the same shape as [`IMAGE_CONFIG`], with more fields.
pub const DOCKER_CONFIG: &str = "application/vnd.docker.container.image.v1+json";
/// Docker's layer: a gzip-compressed tar archive.
pub const DOCKER_LAYER_GZIP: &str = "application/vnd.docker.image.rootfs.diff.tar.gzip";
/// Docker's "foreign" layer, fetched from its `urls` rather than the registry (gzip tar).
pub const DOCKER_FOREIGN_LAYER_GZIP: &str =
    "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip";

/// How a layer's tar archive is compressed: chapter 03's, which unpacks all three.
pub use ch03_union_fs::archive::Compression;

/// Whether `media_type` names an image manifest, OCI's or Docker's.
pub fn is_manifest(media_type: &str) -> bool {
    media_type == IMAGE_MANIFEST || media_type == DOCKER_MANIFEST
}

/// Whether `media_type` names an image index, OCI's or Docker's manifest list.
pub fn is_index(media_type: &str) -> bool {
    media_type == IMAGE_INDEX || media_type == DOCKER_MANIFEST_LIST
}

/// How a layer of this media type is compressed, or `None` if it is no layer type we know, so
/// that the caller can refuse to unpack it rather than guess.
pub fn layer_compression(media_type: &str) -> Option<Compression> {
    match media_type {
        LAYER_TAR | LAYER_NONDISTRIBUTABLE_TAR => Some(Compression::None),
        LAYER_TAR_GZIP
        | LAYER_NONDISTRIBUTABLE_TAR_GZIP
        | DOCKER_LAYER_GZIP
        | DOCKER_FOREIGN_LAYER_GZIP => Some(Compression::Gzip),
        LAYER_TAR_ZSTD | LAYER_NONDISTRIBUTABLE_TAR_ZSTD => Some(Compression::Zstd),
        _ => None,
    }
}

/// The OCI media type of a layer compressed with `compression`.
pub fn of_layer(compression: Compression) -> &'static str {
    match compression {
        Compression::None => LAYER_TAR,
        Compression::Gzip => LAYER_TAR_GZIP,
        Compression::Zstd => LAYER_TAR_ZSTD,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifests_and_indexes_of_both_formats() {
        assert!(is_manifest(IMAGE_MANIFEST) && is_manifest(DOCKER_MANIFEST));
        assert!(is_index(IMAGE_INDEX) && is_index(DOCKER_MANIFEST_LIST));
        assert!(!is_manifest(IMAGE_INDEX) && !is_index(IMAGE_MANIFEST));
        assert!(!is_manifest(IMAGE_CONFIG) && !is_index(DOCKER_CONFIG));
    }

    #[test]
    fn layer_compression_by_media_type() {
        assert_eq!(layer_compression(LAYER_TAR), Some(Compression::None));
        assert_eq!(
            layer_compression(LAYER_NONDISTRIBUTABLE_TAR),
            Some(Compression::None)
        );
        assert_eq!(layer_compression(LAYER_TAR_GZIP), Some(Compression::Gzip));
        assert_eq!(
            layer_compression(DOCKER_LAYER_GZIP),
            Some(Compression::Gzip)
        );
        assert_eq!(
            layer_compression(DOCKER_FOREIGN_LAYER_GZIP),
            Some(Compression::Gzip)
        );
        assert_eq!(
            layer_compression(LAYER_NONDISTRIBUTABLE_TAR_ZSTD),
            Some(Compression::Zstd)
        );
        assert_eq!(layer_compression(LAYER_TAR_ZSTD), Some(Compression::Zstd));
        assert_eq!(layer_compression(IMAGE_CONFIG), None);
        assert_eq!(layer_compression("application/vnd.example.data+type"), None);
    }
}
