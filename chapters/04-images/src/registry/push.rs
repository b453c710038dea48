//! `push REF`: an image of the store into a registry.
//!
//! ```text
//! HEAD /v2/<name>/blobs/<digest>             for each layer and the config: there already?
//! POST /v2/<name>/blobs/uploads/             no: start an upload; the answer's Location says where
//! PUT  <location>?digest=<digest>            the blob, whole, and its digest to check it by
//! PUT  /v2/<name>/manifests/<tag>            last, the manifest: the registry refuses one that
//!                                            names blobs it does not have
//! ```

use std::sync::Arc;

use ch01_namespaces::Narrator;

use super::client::{Client, Payload, header};
use super::endpoint::Endpoint;
use crate::credentials;
use crate::digest::Digest;
use crate::error::{Error, Result};
use crate::oci::media_type;
use crate::reference::Reference;
use crate::store::ImageStore;

// ANCHOR: push
/// Pushes the image `reference` names, printing docker's progress lines on stdout.
pub fn push(
    store: &ImageStore,
    reference: &Reference,
    insecure: &[String],
    n: &Narrator,
) -> Result<Digest> {
    let image = store.find_image(&reference.to_string())?;
    let endpoint = Endpoint::new(&reference.registry, insecure);
    let credentials = credentials::lookup(&reference.registry)?;
    let client = Arc::new(Client::new(
        endpoint,
        &reference.repository,
        "pull,push",
        credentials,
        n,
    ));
    println!("The push refers to repository [{}]", reference.name());
    client.ping()?;
    for layer in image.manifest.layers.iter().rev() {
        let state = push_blob(store, &client, &layer.digest)?;
        println!("{}: {state}", &layer.digest.encoded()[..12]);
    }
    push_blob(store, &client, &image.id)?;

    let manifest = store.read_blob(&image.entry.manifest)?;
    let content_type = image
        .manifest
        .media_type
        .clone()
        .unwrap_or_else(|| media_type::IMAGE_MANIFEST.to_string());
    let tag = reference
        .tag
        .clone()
        .unwrap_or_else(|| crate::reference::DEFAULT_TAG.to_string());
    let path = client.path(&format!("manifests/{tag}"));
    let response = client.send(
        "PUT",
        &path,
        &[("Content-Type", content_type)],
        &Payload::Bytes(manifest.clone()),
    )?;
    if response.status() != 201 {
        return Err(client.failure(&format!("PUT {path}"), response));
    }
    println!(
        "{tag}: digest: {} size: {}",
        image.entry.manifest,
        manifest.len()
    );
    Ok(image.entry.manifest.clone())
}
// ANCHOR_END: push

/// Uploads one blob unless the registry has it; what docker says about it.
fn push_blob(store: &ImageStore, client: &Client, digest: &Digest) -> Result<&'static str> {
    let path = client.path(&format!("blobs/{digest}"));
    let response = client.send("HEAD", &path, &[], &Payload::Empty)?;
    match response.status().as_u16() {
        200 => return Ok("Layer already exists"),
        404 => {}
        _ => return Err(client.failure(&format!("HEAD {path}"), response)),
    }
    let uploads = client.path("blobs/uploads/");
    let response = client.send("POST", &uploads, &[], &Payload::Empty)?;
    if response.status() != 202 {
        return Err(client.failure(&format!("POST {uploads}"), response));
    }
    let location = header(&response, "location").ok_or_else(|| {
        Error::Registry(format!(
            "{}: an upload without a Location",
            client.registry()
        ))
    })?;
    let separator = if location.contains('?') { '&' } else { '?' };
    let target = format!("{location}{separator}digest={digest}");
    let blob = store.blob_path(digest);
    let headers = [("Content-Type", "application/octet-stream".to_string())];
    let response = client.send("PUT", &target, &headers, &Payload::File(blob))?;
    if response.status() != 201 {
        return Err(client.failure("PUT the blob", response));
    }
    Ok("Pushed")
}
