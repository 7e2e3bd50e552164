#!/usr/bin/env python3
"""Writes the seed inputs of the image_archive and image_oci fuzz targets (small, deterministic).

Run from fuzz/seeds/: python3 make_image_seeds.py. The outputs are committed.
"""
import gzip
import hashlib
import io
import json
import os
import tarfile


def tar(entries):
    """entries: (name, kind, data-or-target). Deterministic: fixed mtime, uid, gid."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        for name, kind, data in entries:
            i = tarfile.TarInfo(name)
            i.mtime = 1700000000
            if kind == "file":
                i.size = len(data)
                i.mode = 0o755 if name.endswith(".sh") else 0o644
                t.addfile(i, io.BytesIO(data))
            elif kind == "dir":
                i.type = tarfile.DIRTYPE
                i.mode = 0o755
                t.addfile(i)
            elif kind == "symlink":
                i.type = tarfile.SYMTYPE
                i.linkname = data
                t.addfile(i)
            elif kind == "hardlink":
                i.type = tarfile.LNKTYPE
                i.linkname = data
                t.addfile(i)
    return buf.getvalue()


def sha(b):
    return hashlib.sha256(b).hexdigest()


ROOTFS = tar([
    ("etc/", "dir", None),
    ("etc/passwd", "file", b"root:x:0:0:root:/root:/bin/sh\n"),
    ("etc/shadow", "file", b"root:*:19000:0:99999:7:::\n"),
    ("bin/", "dir", None),
    ("bin/sh", "symlink", "busybox"),
    ("bin/busybox", "file", b"\x7fELF fake"),
    ("bin/ls", "hardlink", "bin/busybox"),
    ("tmp/", "dir", None),
    ("tmp/run.sh", "file", b"#!/bin/sh\necho hi\n"),
])
UPPER = tar([
    ("etc/", "dir", None),
    ("etc/.wh.shadow", "file", b""),
    ("tmp/", "dir", None),
    ("tmp/.wh..wh..opq", "file", b""),
    ("tmp/new", "file", b"new\n"),
])


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


def oci_archive(layers):
    blobs = {}
    diff_ids = []
    descs = []
    for layer in layers:
        blobs[sha(layer)] = layer
        diff_ids.append("sha256:" + sha(layer))
        descs.append({"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": "sha256:" + sha(layer),
                      "size": len(layer)})
    config = json.dumps({"architecture": "amd64", "os": "linux",
                         "rootfs": {"type": "layers", "diff_ids": diff_ids}}).encode()
    blobs[sha(config)] = config
    manifest = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                           "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                                      "digest": "sha256:" + sha(config), "size": len(config)},
                           "layers": descs}).encode()
    blobs[sha(manifest)] = manifest
    index = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
                        "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json",
                                       "digest": "sha256:" + sha(manifest), "size": len(manifest)}]}).encode()
    entries = [("oci-layout", "file", b'{"imageLayoutVersion":"1.0.0"}'), ("index.json", "file", index),
               ("blobs/", "dir", None), ("blobs/sha256/", "dir", None)]
    entries += [("blobs/sha256/" + d, "file", b) for d, b in sorted(blobs.items())]
    return tar(entries), config


def docker_archive(layers):
    entries = []
    names = []
    diff_ids = []
    for i, layer in enumerate(layers):
        names.append(f"{sha(layer)}/layer.tar")
        diff_ids.append("sha256:" + sha(layer))
        entries.append((f"{sha(layer)}/", "dir", None))
        entries.append((names[-1], "file", layer))
    config = json.dumps({"architecture": "amd64", "os": "linux",
                         "rootfs": {"type": "layers", "diff_ids": diff_ids}}).encode()
    entries.append((sha(config) + ".json", "file", config))
    manifest = json.dumps([{"Config": sha(config) + ".json", "RepoTags": ["seed:latest"], "Layers": names}]).encode()
    entries.append(("manifest.json", "file", manifest))
    return tar(entries)


def gz(b):
    return gzip.compress(b, mtime=0)


write("image_archive/rootfs.tar", ROOTFS)
write("image_archive/rootfs.tar.gz", gz(ROOTFS))
write("image_archive/oci-archive.tar", oci_archive([ROOTFS, UPPER])[0])
write("image_archive/docker-archive.tar", docker_archive([ROOTFS, UPPER]))

CUT = b"\n--8<--\n"
oci_index = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
                        "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json",
                                       "digest": "sha256:MANIFEST_DIGEST", "size": 1,
                                       "platform": {"os": "linux", "architecture": "amd64"}}]}).encode()
oci_manifest = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                           "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                                      "digest": "sha256:CONFIG_DIGEST", "size": 1},
                           "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar",
                                       "digest": "sha256:LAYER_DIGEST", "size": 1}]}).encode()
oci_config = json.dumps({"architecture": "amd64", "os": "linux",
                         "rootfs": {"type": "layers", "diff_ids": ["sha256:LAYER_DIGEST"]}}).encode()
write("image_oci/one-layer", CUT.join([oci_index, oci_manifest, oci_config, ROOTFS]))
write("image_oci/whiteouts", CUT.join([oci_index, oci_manifest, oci_config, UPPER]))
