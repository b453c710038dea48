//! The image commands, as docker names them: `load`, `images`, `tag`, `rmi`, `inspect`,
//! `history`. They live in the library so later chapters' CLIs carry them over.

use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};

use ch01_namespaces::Narrator;
use ch03_union_fs::format::{ellipsis, human_duration, human_size, table};
use ch03_union_fs::lifecycle;
use ch03_union_fs::store::{State, now};
use clap::Args;
use serde_json::json;

use crate::digest::Digest;
use crate::error::{Error, Result};
use crate::image::Image;
use crate::load;
use crate::reference::Reference;
use crate::store::{Access, ImageStore};
use crate::time::parse_rfc3339;

/// Writes to stdout, as every command's output goes.
fn out(text: impl std::fmt::Display) -> Result<()> {
    write!(std::io::stdout().lock(), "{text}").map_err(Error::io("write", "stdout"))
}

/// `load -i FILE`: prints `Loaded image: NAME` for each name, or `Loaded image ID: ID` for
/// an image without one, as docker does.
pub fn load(store: &ImageStore, input: &Path, n: &Narrator) -> Result<i32> {
    for loaded in load::load(store, input, n)? {
        if loaded.tags.is_empty() {
            out(format!("Loaded image ID: {}\n", loaded.id))?;
        }
        for tag in &loaded.tags {
            out(format!("Loaded image: {}\n", tag.familiar()))?;
        }
    }
    Ok(0)
}

/// `images`'s options.
#[derive(Debug, Clone, Args)]
pub struct ImagesArgs {
    /// Only show image ids
    #[arg(short, long)]
    pub quiet: bool,
    /// Show digests
    #[arg(long)]
    pub digests: bool,
    /// Show full ids
    #[arg(long)]
    pub no_trunc: bool,
    /// Format each image with a Go-template-like string: {{.Repository}}, {{.Tag}}, {{.ID}},
    /// {{.Digest}}, {{.CreatedSince}}, {{.CreatedAt}}, {{.Size}}; "table ..." adds a header
    #[arg(long, value_name = "TEMPLATE")]
    pub format: Option<String>,
    /// Only images of this repository (and tag)
    pub reference: Option<String>,
}

/// One row of `images`.
#[derive(Debug, Clone)]
struct Row {
    repository: String,
    tag: String,
    id: Digest,
    digest: String,
    created: Option<i64>,
    size: u64,
}

/// `images`: one row per name (and one for each image without a name), newest first.
pub fn images(store: &ImageStore, args: &ImagesArgs) -> Result<i32> {
    let index = store.index()?;
    let filter = args.reference.as_deref().map(parse_filter).transpose()?;
    let mut rows = Vec::new();
    for (id, entry) in &index.images {
        let image = store.read_image(id.clone(), entry.clone())?;
        let created = image.config.created.as_deref().and_then(parse_rfc3339);
        let digest = entry
            .repo_digests
            .first()
            .and_then(|d| d.split_once('@'))
            .map_or("<none>".to_string(), |(_, d)| d.to_string());
        let mut names: Vec<(String, String)> = index
            .tags_of(id)
            .into_iter()
            .filter_map(|t| t.parse::<Reference>().ok())
            .filter(|r| filter.as_ref().is_none_or(|f| f.matches(r)))
            .map(|r| (r.familiar_name(), r.tag.unwrap_or_default()))
            .collect();
        if names.is_empty() {
            if filter.is_some() {
                continue;
            }
            // Untagged, but pulled by digest: docker shows the repository it came from.
            let repository = entry
                .repo_digests
                .first()
                .and_then(|d| d.split_once('@'))
                .and_then(|(name, _)| {
                    format!("{name}:{}", crate::reference::DEFAULT_TAG)
                        .parse::<Reference>()
                        .ok()
                })
                .map_or("<none>".to_string(), |r| r.familiar_name());
            names.push((repository, "<none>".into()));
        }
        for (repository, tag) in names {
            rows.push(Row {
                repository,
                tag,
                id: id.clone(),
                digest: digest.clone(),
                created,
                size: entry.size,
            });
        }
    }
    rows.sort_by(|a, b| {
        b.created
            .cmp(&a.created)
            .then_with(|| (&a.repository, &a.tag).cmp(&(&b.repository, &b.tag)))
    });
    if args.quiet {
        let ids: BTreeSet<String> = BTreeSet::new();
        let mut seen = ids;
        for row in &rows {
            let id = short_or_full(&row.id, args.no_trunc);
            if seen.insert(id.clone()) {
                out(format!("{id}\n"))?;
            }
        }
        return Ok(0);
    }
    if let Some(template) = &args.format {
        return print_template(template, &rows, args.no_trunc);
    }
    let mut header = vec!["REPOSITORY", "TAG"];
    if args.digests {
        header.push("DIGEST");
    }
    header.extend(["IMAGE ID", "CREATED", "SIZE"]);
    let table_rows: Vec<Vec<String>> = rows
        .iter()
        .map(|row| {
            let mut cells = vec![row.repository.clone(), row.tag.clone()];
            if args.digests {
                cells.push(row.digest.clone());
            }
            cells.extend([
                short_or_full(&row.id, args.no_trunc),
                created_since(row.created),
                human_size(row.size),
            ]);
            cells
        })
        .collect();
    out(table(&header, &table_rows))?;
    Ok(0)
}

/// `images busybox` lists every tag of busybox; `images busybox:1.36` that one.
struct Filter {
    name: String,
    tag: Option<String>,
}

impl Filter {
    fn matches(&self, reference: &Reference) -> bool {
        reference.name() == self.name
            && self
                .tag
                .as_ref()
                .is_none_or(|t| reference.tag.as_ref() == Some(t))
    }
}

fn parse_filter(text: &str) -> Result<Filter> {
    let reference: Reference = text.parse()?;
    let tagged = text
        .rsplit('/')
        .next()
        .is_some_and(|last| last.contains(':'));
    Ok(Filter {
        name: reference.name(),
        tag: if tagged { reference.tag } else { None },
    })
}

fn short_or_full(id: &Digest, full: bool) -> String {
    if full {
        id.to_string()
    } else {
        id.encoded()[..12].to_string()
    }
}

/// docker's CREATED column: "2 days ago", or "N/A" without a date.
fn created_since(created: Option<i64>) -> String {
    match created {
        Some(created) => {
            let ago = u64::try_from(now() as i64 - created).unwrap_or(0);
            format!("{} ago", human_duration(ago))
        }
        None => "N/A".into(),
    }
}

/// `--format`: the fields docker's templates name most, and `table` for a header row.
fn print_template(template: &str, rows: &[Row], no_trunc: bool) -> Result<i32> {
    let template = template.replace("\\t", "\t").replace("\\n", "\n");
    let (template, with_header) = match template.strip_prefix("table") {
        Some(rest) => (rest.trim_start().to_string(), true),
        None => (template, false),
    };
    let fields = [
        ("{{.Repository}}", "REPOSITORY"),
        ("{{.Tag}}", "TAG"),
        ("{{.ID}}", "IMAGE ID"),
        ("{{.Digest}}", "DIGEST"),
        ("{{.CreatedSince}}", "CREATED"),
        ("{{.CreatedAt}}", "CREATED AT"),
        ("{{.Size}}", "SIZE"),
    ];
    let render = |values: &dyn Fn(&str) -> String| {
        let mut line = template.clone();
        for (field, _) in fields {
            line = line.replace(field, &values(field));
        }
        line
    };
    let mut lines = Vec::new();
    if with_header {
        lines.push(render(&|field| {
            fields
                .iter()
                .find(|(f, _)| *f == field)
                .map_or(String::new(), |(_, h)| h.to_string())
        }));
    }
    for row in rows {
        lines.push(render(&|field| match field {
            "{{.Repository}}" => row.repository.clone(),
            "{{.Tag}}" => row.tag.clone(),
            "{{.ID}}" => short_or_full(&row.id, no_trunc),
            "{{.Digest}}" => row.digest.clone(),
            "{{.CreatedSince}}" => created_since(row.created),
            "{{.CreatedAt}}" => row
                .created
                .map_or("N/A".into(), crate::time::format_rfc3339),
            "{{.Size}}" => human_size(row.size),
            _ => String::new(),
        }));
    }
    if let Some(unknown) = lines.iter().find_map(|l| l.find("{{").map(|at| &l[at..])) {
        return Err(Error::Invalid(format!(
            "unsupported --format field in {unknown:?} (supported: {})",
            fields.map(|(f, _)| f).join(" ")
        )));
    }
    // With tabs, docker aligns columns; a table of the cells does the same here.
    if template.contains('\t') {
        let cells: Vec<Vec<String>> = lines
            .iter()
            .map(|l| l.split('\t').map(str::to_string).collect())
            .collect();
        let (head, body) = cells
            .split_first()
            .map_or((Vec::new(), &[][..]), |(h, b)| (h.clone(), b));
        let head: Vec<&str> = head.iter().map(String::as_str).collect();
        out(table(&head, body))?;
    } else {
        for line in lines {
            out(format!("{line}\n"))?;
        }
    }
    Ok(0)
}

/// `tag SOURCE TARGET`: another name for an image.
pub fn tag(store: &ImageStore, source: &str, target: &str) -> Result<i32> {
    let image = store.find_image(source)?;
    let target: Reference = target.parse()?;
    if target.digest.is_some() {
        return Err(Error::InvalidReference {
            reference: target.familiar(),
            reason: "a tag cannot name a digest".into(),
        });
    }
    store.update_index(|index| {
        index.tags.insert(target.to_string(), image.id.clone());
        Ok(())
    })?;
    Ok(0)
}

/// `rmi [-f] IMAGE...`: removes names; an image left without a name (or named by id) is
/// deleted, with every blob and layer no other image or container uses. Like docker, it
/// refuses an image a container uses, unless forced.
pub fn rmi(program: &str, store: &ImageStore, references: &[String], force: bool) -> Result<i32> {
    let mut failed = false;
    for reference in references {
        match remove_image(store, reference, force) {
            Ok(lines) => {
                for line in lines {
                    out(format!("{line}\n"))?;
                }
            }
            Err(error) => {
                ch01_namespaces::cli::report(program, &error);
                failed = true;
            }
        }
    }
    Ok(i32::from(failed))
}

// ANCHOR: remove_image
/// Removes one name, and the image with its last name, as docker does: an image that a
/// container uses stays unless forced (and one that a running container uses, even then); an
/// image named by id that has several names stays unless forced.
fn remove_image(store: &ImageStore, reference: &str, force: bool) -> Result<Vec<String>> {
    let image = store.find_image(reference)?;
    let index = store.index()?;
    let names: Vec<String> = index
        .tags_of(&image.id)
        .into_iter()
        .map(str::to_string)
        .collect();
    let by_name = reference
        .parse::<Reference>()
        .ok()
        .map(|r| r.to_string())
        .filter(|r| names.contains(r));
    if let Some(name) = &by_name
        && names.len() > 1
    {
        // Another name remains: only this one goes.
        untag(store, &image.id, std::slice::from_ref(name))?;
        return Ok(vec![format!("Untagged: {}", familiar(name))]);
    }
    if by_name.is_none() && names.len() > 1 && !force {
        return Err(Error::ImageHasNames {
            image: image.short_id().to_string(),
            names: names.len(),
        });
    }
    // The last name, or the image itself: it goes, unless a container stands on its layers.
    let layers: Vec<PathBuf> = image
        .chain_ids()
        .iter()
        .map(|c| store.layer_dir(c))
        .collect();
    let users: Vec<(String, bool)> = store
        .containers()
        .list()?
        .into_iter()
        .filter(|c| c.layers == layers)
        .map(|c| {
            let running = matches!(lifecycle::effective_state(&c), State::Running { .. });
            (c.short_id().to_string(), running)
        })
        .collect();
    if let Some((container, running)) = users.iter().find(|(_, running)| *running || !force) {
        return Err(Error::ImageInUse {
            reference: reference.to_string(),
            container: container.clone(),
            image: image.short_id().to_string(),
            running: *running,
        });
    }
    untag(store, &image.id, &names)?;
    store.update_index(|index| {
        index.images.remove(&image.id);
        Ok(())
    })?;
    // What a stopped container stands on stays until it is removed: collection keeps the
    // layers of every container.
    collect_garbage(store)?;
    let mut lines: Vec<String> = names
        .iter()
        .map(|n| format!("Untagged: {}", familiar(n)))
        .collect();
    lines.push(format!("Deleted: {}", image.id));
    Ok(lines)
}
// ANCHOR_END: remove_image

/// Removes the names `names` of the image `id` (if they still point at it).
fn untag(store: &ImageStore, id: &Digest, names: &[String]) -> Result<()> {
    store.update_index(|index| {
        for name in names {
            if index.tags.get(name) == Some(id) {
                index.tags.remove(name);
            }
        }
        Ok(())
    })
}

/// A stored name as docker shows it.
fn familiar(name: &str) -> String {
    name.parse::<Reference>()
        .map_or(name.to_string(), |r| r.familiar())
}

/// Removes every blob and layer that no image of the index and no container uses.
pub fn collect_garbage(store: &ImageStore) -> Result<()> {
    // Alone: an image being added has blobs and layers under their names before its name.
    let _alone = store.lock(Access::Collect)?;
    let index = store.index()?;
    let mut blobs = BTreeSet::new();
    let mut layers = BTreeSet::new();
    for (id, entry) in &index.images {
        let image = store.read_image(id.clone(), entry.clone())?;
        blobs.insert(id.clone());
        blobs.insert(entry.manifest.clone());
        blobs.extend(image.manifest.layers.iter().map(|l| l.digest.clone()));
        layers.extend(image.chain_ids());
    }
    let used_by_containers: BTreeSet<std::path::PathBuf> = store
        .containers()
        .list()?
        .into_iter()
        .flat_map(|c| c.layers)
        .collect();
    for chain in store.list_layers()? {
        if !layers.contains(&chain) && !used_by_containers.contains(&store.layer_dir(&chain)) {
            store.remove_layer(&chain)?;
        }
    }
    for blob in store.list_blobs()? {
        if !blobs.contains(&blob) {
            store.remove_blob(&blob)?;
        }
    }
    Ok(())
}

/// `inspect IMAGE...`: a JSON array, with docker's field names.
pub fn inspect(store: &ImageStore, references: &[String]) -> Result<i32> {
    let index = store.index()?;
    let mut documents = Vec::new();
    for reference in references {
        let image = store.find_image(reference)?;
        documents.push(inspect_json(store, &image, &index.tags_of(&image.id)));
    }
    let mut text = serde_json::to_string_pretty(&documents).expect("JSON values serialize");
    text.push('\n');
    out(text)?;
    Ok(0)
}

fn inspect_json(store: &ImageStore, image: &Image, tags: &[&str]) -> serde_json::Value {
    let config = &image.config;
    let tags: Vec<String> = tags
        .iter()
        .map(|t| {
            t.parse::<Reference>()
                .map_or(t.to_string(), |r| r.familiar())
        })
        .collect();
    let layers: Vec<String> = image
        .chain_ids()
        .iter()
        .map(|c| store.layer_dir(c).display().to_string())
        .collect();
    json!({
        "Id": image.id.to_string(),
        "RepoTags": tags,
        "RepoDigests": image.entry.repo_digests,
        "Created": config.created,
        "Author": config.author.clone().unwrap_or_default(),
        "Config": config.config,
        "Architecture": config.architecture,
        "Variant": config.variant,
        "Os": config.os,
        "Size": image.entry.size,
        "GraphDriver": {
            "Name": "overlay",
            "Data": { "LowerDirs": layers.iter().rev().cloned().collect::<Vec<_>>().join(":") },
        },
        "RootFS": {
            "Type": config.rootfs.type_,
            "Layers": config.rootfs.diff_ids,
        },
        "Manifest": {
            "Digest": image.entry.manifest.to_string(),
            "MediaType": image.manifest.media_type,
        },
    })
}

/// `history IMAGE`: the image's steps, newest first, as docker shows them.
pub fn history(store: &ImageStore, reference: &str, no_trunc: bool) -> Result<i32> {
    let image = store.find_image(reference)?;
    // Each step that made a layer takes the next layer's size; the newest step is the image.
    let mut sizes = image
        .chain_ids()
        .into_iter()
        .map(|c| store.layer_size(&c))
        .collect::<Vec<_>>()
        .into_iter();
    let mut rows: Vec<Vec<String>> = image
        .config
        .history
        .iter()
        .map(|step| {
            let size = if step.empty_layer {
                0
            } else {
                sizes.next().unwrap_or(0)
            };
            let created_by = step.created_by.clone().unwrap_or_default();
            vec![
                String::new(),
                created_since(step.created.as_deref().and_then(parse_rfc3339)),
                if no_trunc {
                    created_by
                } else {
                    ellipsis(&created_by, 45)
                },
                human_size(size),
                step.comment.clone().unwrap_or_default(),
            ]
        })
        .collect();
    rows.reverse();
    for (i, row) in rows.iter_mut().enumerate() {
        row[0] = if i == 0 {
            short_or_full(&image.id, no_trunc)
        } else {
            "<missing>".into()
        };
    }
    out(table(
        &["IMAGE", "CREATED", "CREATED BY", "SIZE", "COMMENT"],
        &rows,
    ))?;
    Ok(0)
}
