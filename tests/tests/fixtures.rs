//! The image fixtures are what they claim: a three-layer OCI layout whose index, manifest and
//! config parse and agree with the blobs, a whiteout in the third layer, the config umoci was
//! told to write, archives in the `docker save` and OCI formats, and digests that do not change
//! from one build to the next.

use std::collections::BTreeSet;
use std::fs;
use std::io::Read;
use std::path::Path;

use dockyard_tests::images::{
    CMD, ENV, EXPOSED_PORT, FIXED_EPOCH, FIXED_TIME, ImageFixture, LABEL, LAYERS, USER, VOLUME,
    WORKING_DIR, busybox_docker_archive, busybox_oci_archive, busybox_oci_layout,
    busybox_oci_layout_with,
};
use dockyard_tests::require_image_tools;
use serde_json::Value;
use sha2::{Digest, Sha256};

const MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
const CONFIG: &str = "application/vnd.oci.image.config.v1+json";

fn sha256(bytes: &[u8]) -> String {
    let hash = Sha256::digest(bytes);
    let hex: String = hash.iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256:{hex}")
}

fn json(bytes: &[u8]) -> Value {
    serde_json::from_slice(bytes).expect("valid JSON")
}

/// A blob of the layout, checked against its descriptor's digest and size.
fn blob(layout: &Path, descriptor: &Value) -> Vec<u8> {
    let digest = descriptor["digest"].as_str().expect("a digest");
    let hex = digest.strip_prefix("sha256:").expect("a sha256 digest");
    let bytes = fs::read(layout.join("blobs/sha256").join(hex)).expect("read a blob");
    assert_eq!(sha256(&bytes), digest, "blob content matches its digest");
    assert_eq!(Some(bytes.len() as u64), descriptor["size"].as_u64());
    bytes
}

/// The index's one manifest descriptor, the manifest and the config.
fn read_image(fixture: &ImageFixture) -> (Value, Value, Value) {
    let index = json(&fs::read(fixture.layout.join("index.json")).expect("read index.json"));
    assert_eq!(index["schemaVersion"], 2);
    let manifests = index["manifests"].as_array().expect("manifests");
    assert_eq!(manifests.len(), 1, "one image in the layout");
    let descriptor = manifests[0].clone();
    assert_eq!(descriptor["mediaType"], MANIFEST);
    assert_eq!(
        descriptor["annotations"]["org.opencontainers.image.ref.name"],
        fixture.tag.as_str()
    );
    let manifest = json(&blob(&fixture.layout, &descriptor));
    assert_eq!(manifest["schemaVersion"], 2);
    assert_eq!(manifest["config"]["mediaType"], CONFIG);
    let config = json(&blob(&fixture.layout, &manifest["config"]));
    (descriptor, manifest, config)
}

/// The uncompressed tar of each layer of the image, checked against the config's diff ids.
fn layer_tars(
    fixture: &ImageFixture,
    manifest: &Value,
    config: &Value,
    media: &str,
) -> Vec<Vec<u8>> {
    let layers = manifest["layers"].as_array().expect("layers");
    let diff_ids = config["rootfs"]["diff_ids"].as_array().expect("diff_ids");
    assert_eq!(layers.len(), LAYERS);
    assert_eq!(diff_ids.len(), layers.len(), "one diff id per layer");
    layers
        .iter()
        .zip(diff_ids)
        .map(|(layer, diff_id)| {
            assert_eq!(layer["mediaType"], media);
            let compressed = blob(&fixture.layout, layer);
            let mut tar = Vec::new();
            if media.ends_with("+gzip") {
                flate2::read::GzDecoder::new(&compressed[..])
                    .read_to_end(&mut tar)
                    .expect("gunzip a layer");
            } else {
                assert!(
                    compressed.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]),
                    "zstd magic"
                );
                tar = zstd::decode_all(&compressed[..]).expect("unzstd a layer");
            }
            assert_eq!(diff_id.as_str(), Some(sha256(&tar).as_str()));
            tar
        })
        .collect()
}

/// The paths in a tar, without a trailing `/`.
fn entries(tar: &[u8]) -> BTreeSet<String> {
    let mut archive = tar::Archive::new(tar);
    archive
        .entries()
        .expect("read a tar")
        .map(|entry| {
            let entry = entry.expect("read a tar entry");
            let path = entry
                .path()
                .expect("an entry path")
                .to_string_lossy()
                .into_owned();
            path.trim_end_matches('/').to_string()
        })
        .collect()
}

/// Each entry's path and modification time (seconds since the epoch).
fn mtimes(tar: &[u8]) -> Vec<(String, u64)> {
    let mut archive = tar::Archive::new(tar);
    archive
        .entries()
        .expect("read a tar")
        .map(|entry| {
            let entry = entry.expect("read a tar entry");
            let path = entry
                .path()
                .expect("an entry path")
                .to_string_lossy()
                .into_owned();
            (path, entry.header().mtime().expect("an mtime"))
        })
        .collect()
}

/// A file's content in a tar.
fn tar_file(tar: &[u8], wanted: &str) -> Option<Vec<u8>> {
    let mut archive = tar::Archive::new(tar);
    for entry in archive.entries().expect("read a tar") {
        let mut entry = entry.expect("read a tar entry");
        if entry.path().expect("an entry path") == Path::new(wanted) {
            let mut content = Vec::new();
            entry.read_to_end(&mut content).expect("read a tar file");
            return Some(content);
        }
    }
    None
}

#[test]
fn oci_layout_parses_and_has_the_config() {
    require_image_tools!();
    let fixture = busybox_oci_layout("latest");
    assert!(fixture.layout.join("oci-layout").is_file());
    let (_, manifest, config) = read_image(&fixture);
    layer_tars(
        &fixture,
        &manifest,
        &config,
        "application/vnd.oci.image.layer.v1.tar+gzip",
    );

    assert_eq!(config["architecture"], "amd64");
    assert_eq!(config["os"], "linux");
    assert_eq!(config["created"], FIXED_TIME);
    let c = &config["config"];
    assert_eq!(c["Env"], serde_json::json!(ENV));
    assert_eq!(c["Cmd"], serde_json::json!(CMD));
    assert!(c.get("Entrypoint").is_none_or(Value::is_null));
    assert_eq!(c["WorkingDir"], WORKING_DIR);
    assert_eq!(c["User"], USER);
    assert_eq!(c["Labels"][LABEL.0], LABEL.1);
    assert_eq!(c["ExposedPorts"], serde_json::json!({ EXPOSED_PORT: {} }));
    assert_eq!(c["Volumes"], serde_json::json!({ VOLUME: {} }));

    let history = config["history"].as_array().expect("history");
    assert!(history.iter().all(|h| h["created"] == FIXED_TIME));
    let with_layers = history.iter().filter(|h| h["empty_layer"] != true).count();
    assert_eq!(
        with_layers, LAYERS,
        "one history entry per layer: {history:#?}"
    );
}

#[test]
fn layers_hold_the_rootfs_the_probe_and_a_whiteout() {
    require_image_tools!();
    let fixture = busybox_oci_layout("latest");
    let (_, manifest, config) = read_image(&fixture);
    let tars = layer_tars(
        &fixture,
        &manifest,
        &config,
        "application/vnd.oci.image.layer.v1.tar+gzip",
    );

    let first = entries(&tars[0]);
    for path in [
        "bin/busybox",
        "bin/sh",
        "etc/passwd",
        "etc/group",
        "etc/fixture-deleted",
        "tmp",
    ] {
        assert!(first.contains(path), "layer 1 has {path}: {first:?}");
    }
    assert!(!first.contains("probe"), "the probe is in layer 2 only");
    assert_eq!(
        tar_file(&tars[0], "bin/busybox").expect("busybox in layer 1"),
        fs::read("/bin/busybox").expect("read /bin/busybox")
    );

    let second = entries(&tars[1]);
    let expected: BTreeSet<String> = ["etc/fixture-layer-2", "probe"].map(String::from).into();
    assert_eq!(second, expected);
    assert_eq!(
        tar_file(&tars[1], "probe").expect("the probe in layer 2"),
        fs::read(dockyard_tests::probe()).expect("read the probe")
    );

    for tar in &tars {
        for (path, mtime) in mtimes(tar) {
            // umoci writes whiteouts with time 0.
            let expected = if path.contains(".wh.") {
                0
            } else {
                FIXED_EPOCH as u64
            };
            assert_eq!(mtime, expected, "time of {path}");
        }
    }

    let third = entries(&tars[2]);
    assert!(
        third.contains("etc/.wh.fixture-deleted"),
        "a whiteout: {third:?}"
    );
    assert!(
        third.contains("data/hello.txt"),
        "layer 3 adds /data/hello.txt: {third:?}"
    );
    assert!(!third.contains("etc/fixture-deleted"));
}

#[test]
fn zstd_layout_has_the_same_diff_ids() {
    require_image_tools!();
    let gzip = busybox_oci_layout("v1");
    let zstd = busybox_oci_layout_with("v1", "zstd");
    let (_, gzip_manifest, gzip_config) = read_image(&gzip);
    let (_, zstd_manifest, zstd_config) = read_image(&zstd);
    let media = "application/vnd.oci.image.layer.v1.tar+zstd";
    let tars = layer_tars(&zstd, &zstd_manifest, &zstd_config, media);
    assert_eq!(
        zstd_config, gzip_config,
        "recompressing leaves the config alone"
    );
    assert_ne!(zstd_manifest["layers"], gzip_manifest["layers"]);
    assert!(entries(&tars[2]).contains("etc/.wh.fixture-deleted"));
}

#[test]
fn docker_archive_is_in_the_docker_save_format() {
    require_image_tools!();
    let fixture = busybox_oci_layout("latest");
    let (_, _, config) = read_image(&fixture);
    let archive = fs::read(busybox_docker_archive(&fixture, "busybox:latest")).expect("read");

    let manifest = json(&tar_file(&archive, "manifest.json").expect("manifest.json"));
    let manifest = manifest.as_array().expect("a list of images");
    assert_eq!(manifest.len(), 1);
    let image = &manifest[0];
    // skopeo writes the fully qualified name where `docker save` writes "busybox:latest".
    assert_eq!(
        image["RepoTags"],
        serde_json::json!(["docker.io/library/busybox:latest"])
    );

    let config_file = image["Config"].as_str().expect("Config");
    let config_bytes = tar_file(&archive, config_file).expect("the config in the archive");
    assert_eq!(json(&config_bytes), config);
    let layers = image["Layers"].as_array().expect("Layers");
    let diff_ids = config["rootfs"]["diff_ids"].as_array().expect("diff_ids");
    assert_eq!(layers.len(), LAYERS);
    for (layer, diff_id) in layers.iter().zip(diff_ids) {
        // skopeo stores the layers uncompressed: the file's digest is the diff id.
        let tar = tar_file(&archive, layer.as_str().expect("a layer path")).expect("a layer");
        assert_eq!(diff_id.as_str(), Some(sha256(&tar).as_str()));
    }
    let last = tar_file(&archive, layers[2].as_str().unwrap()).unwrap();
    assert!(entries(&last).contains("etc/.wh.fixture-deleted"));
    assert!(
        tar_file(&archive, "repositories").is_some(),
        "the legacy tag file"
    );
}

#[test]
fn oci_archive_packs_the_layout() {
    require_image_tools!();
    let fixture = busybox_oci_layout("latest");
    let (descriptor, _, _) = read_image(&fixture);
    let archive = fs::read(busybox_oci_archive(&fixture)).expect("read the OCI archive");
    let names = entries(&archive);
    assert!(names.contains("oci-layout"), "{names:?}");
    let index = json(&tar_file(&archive, "index.json").expect("index.json"));
    assert_eq!(index["manifests"], serde_json::json!([descriptor]));
    for name in fs::read_dir(fixture.layout.join("blobs/sha256")).expect("list blobs") {
        let name = name.expect("a blob").file_name();
        let path = format!("blobs/sha256/{}", name.to_string_lossy());
        assert!(names.contains(&path), "the archive has {path}");
    }
}

#[test]
fn building_twice_gives_the_same_digests() {
    require_image_tools!();
    let first = busybox_oci_layout("latest");
    let second = busybox_oci_layout("latest");
    let (first_descriptor, first_manifest, _) = read_image(&first);
    let (second_descriptor, second_manifest, _) = read_image(&second);
    assert_eq!(first_manifest, second_manifest);
    assert_eq!(first_descriptor["digest"], second_descriptor["digest"]);
    let first_archive = fs::read(busybox_docker_archive(&first, "busybox:latest")).unwrap();
    let second_archive = fs::read(busybox_docker_archive(&second, "busybox:latest")).unwrap();
    assert!(
        first_archive == second_archive,
        "docker archives are byte for byte the same"
    );
    assert_ne!(first.dir(), second.dir());
}
