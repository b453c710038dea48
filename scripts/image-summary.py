#!/usr/bin/env python3
"""Summarizes a docker-save archive as JSON, the fields an image builder decides and nothing
else, so that two builders' images of the same Dockerfile can be compared with `diff`:

    scripts/image-summary.py IMAGE.tar [--base BASE.tar]

- `config`: Env, Cmd, Entrypoint, WorkingDir, User, ExposedPorts, Volumes, Labels, StopSignal,
  Healthcheck, Shell, OnBuild (a field the config lacks is null), with the image's `author`,
  `os` and `architecture`;
- `history`: each entry's `created_by` (the content hash of a `COPY file:<hex> in /x`, `dir:`
  or `multi:` source written `<hash>`), `empty_layer` and, when present, `author` and `comment`;
- `layers`: how many layers the image has;
- `files`: the file tree after applying every layer in order (whiteouts and opaque
  directories included), as path -> {type, mode, uid, gid, size, sha256, link}; and `deleted`.

With `--base`, the base image's history entries and layers (a prefix of the image's) are left
out, and `files` holds only what differs from the base's tree (`deleted`: what the image
removed from it). The base is the same bytes on both sides, and its tree holds the busybox and
probe binaries of the machine that built it, which differ from machine to machine: leaving it
out keeps the recorded summaries valid everywhere. Mtimes are never shown.
"""

import argparse
import hashlib
import json
import re
import sys
import tarfile

CONFIG_FIELDS = ["Env", "Cmd", "Entrypoint", "WorkingDir", "User", "ExposedPorts", "Volumes",
                 "Labels", "StopSignal", "Healthcheck", "Shell", "OnBuild"]
HASHED_SOURCE = re.compile(r"(file|dir|multi):[0-9a-f]{64}")
WHITEOUT = ".wh."
OPAQUE = ".wh..wh..opq"


def read_archive(path):
    """The image's config and its layers' tar members, in order, from a docker-save tar."""
    archive = tarfile.open(path)
    manifest = json.load(archive.extractfile("manifest.json"))
    if len(manifest) != 1:
        sys.exit(f"{path}: expected one image in manifest.json, found {len(manifest)}")
    config = json.load(archive.extractfile(manifest[0]["Config"]))
    return archive, config, manifest[0]["Layers"]


def member_path(name):
    """A tar member's name as an absolute path: `./etc/`, `etc` and `/etc` are `/etc`."""
    parts = [part for part in name.split("/") if part not in ("", ".")]
    return "/" + "/".join(parts)


def apply_layer(tree, archive, layer):
    """Applies one layer to `tree` (path -> entry), as an overlay of it would look."""
    fileobj = archive.extractfile(layer)
    layer_tar = tarfile.open(fileobj=fileobj)
    links = []
    for member in layer_tar:
        path = member_path(member.name)
        parent, _, base = path.rpartition("/")
        parent = parent or "/"
        if base == OPAQUE:
            for old in [p for p in tree if p.startswith(parent.rstrip("/") + "/")]:
                del tree[old]
            continue
        if base.startswith(WHITEOUT):
            gone = parent.rstrip("/") + "/" + base[len(WHITEOUT):]
            for old in [p for p in tree if p == gone or p.startswith(gone + "/")]:
                del tree[old]
            continue
        if path in tree and tree[path]["type"] == "dir" and not member.isdir():
            for old in [p for p in tree if p.startswith(path + "/")]:
                del tree[old]
        entry = {"mode": f"{member.mode & 0o7777:04o}", "uid": member.uid, "gid": member.gid}
        if member.isdir():
            entry["type"] = "dir"
        elif member.issym():
            entry["type"] = "symlink"
            entry["link"] = member.linkname
        elif member.islnk():
            links.append((path, member_path(member.linkname), entry))
            continue
        elif member.isfile():
            data = layer_tar.extractfile(member).read()
            entry.update(type="file", size=len(data), sha256=hashlib.sha256(data).hexdigest())
        elif member.ischr() or member.isblk():
            entry["type"] = "char" if member.ischr() else "block"
            entry["device"] = f"{member.devmajor}:{member.devminor}"
        elif member.isfifo():
            entry["type"] = "fifo"
        else:
            entry["type"] = f"tar type {member.type!r}"
        tree[path] = entry
    # A hard link is its target's content under another name (and the same inode: its own
    # owner and mode are the target's).
    for path, target, entry in links:
        linked = dict(tree.get(target, {"type": f"hardlink to missing {target}"}))
        linked["hardlink"] = target
        tree[path] = linked


def file_tree(archive, layers):
    tree = {}
    for layer in layers:
        apply_layer(tree, archive, layer)
    return tree


def history(config):
    entries = []
    for item in config.get("history", []):
        entry = {"created_by": HASHED_SOURCE.sub(r"\1:<hash>", item.get("created_by", "")),
                 "empty_layer": item.get("empty_layer", False)}
        for key in ("author", "comment"):
            if key in item:
                entry[key] = item[key]
        entries.append(entry)
    return entries


def summarize(path, base_path):
    archive, config, layers = read_archive(path)
    hist = history(config)
    files = file_tree(archive, layers)
    deleted = []
    diff_ids = config.get("rootfs", {}).get("diff_ids", [])
    if base_path:
        base_archive, base_config, base_layers = read_archive(base_path)
        base_ids = base_config.get("rootfs", {}).get("diff_ids", [])
        base_hist = history(base_config)
        if diff_ids[:len(base_ids)] == base_ids and hist[:len(base_hist)] == base_hist:
            hist = hist[len(base_hist):]
            diff_ids = diff_ids[len(base_ids):]
            base_tree = file_tree(base_archive, base_layers)
            deleted = sorted(p for p in base_tree if p not in files)
            files = {p: e for p, e in files.items() if base_tree.get(p) != e}
    image_config = config.get("config") or {}
    return {
        "config": {field: image_config.get(field) for field in CONFIG_FIELDS},
        "author": config.get("author"),
        "os": config.get("os"),
        "architecture": config.get("architecture"),
        "history": hist,
        "layers": len(diff_ids),
        "files": dict(sorted(files.items())),
        "deleted": deleted,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("image", help="a docker-save archive")
    parser.add_argument("--base", help="the base image's docker-save archive")
    args = parser.parse_args()
    sys.stdout.write(render(summarize(args.image, args.base)))


def ordered(entry):
    """An entry with its type first, the way one reads it."""
    return {"type": entry["type"], **{k: v for k, v in entry.items() if k != "type"}}


def render(summary):
    """JSON with one line per file and per history entry, so a diff names what differs."""
    def one_per_line(items, opening, closing):
        if not items:
            return opening + closing
        return opening + "\n" + ",\n".join("    " + item for item in items) + "\n  " + closing

    parts = []
    for key, value in summary.items():
        if key == "files":
            text = one_per_line([f"{json.dumps(p)}: {json.dumps(ordered(e))}"
                                 for p, e in value.items()],
                                "{", "}")
        elif key == "history":
            text = one_per_line([json.dumps(e) for e in value], "[", "]")
        else:
            text = json.dumps(value, indent=2).replace("\n", "\n  ")
        parts.append(f"  {json.dumps(key)}: {text}")
    return "{\n" + ",\n".join(parts) + "\n}\n"


if __name__ == "__main__":
    main()
