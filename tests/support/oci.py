"""OCI images from layer tars, with the standard tools (umoci, runc), for the image tests.

A base image: a Debian bookworm root filesystem (debootstrap, minbase, with python3: bookworm's
is 3.11, what the cp311 cells need), built once and cached under
~/.cache/rules_torch-test/oci-base/<BASE_VERSION>/rootfs.tar. An image: `umoci init`, the base
and each layer added with `umoci raw add-layer`, the entrypoint set with `umoci config`. A run:
`umoci unpack` into a runtime bundle, config.json edited for this sandbox (no rlimits, no
resource limits, no network or cgroup namespace: runc 1.1.5 cannot set them up here), `runc run`.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

import pytest

BASE_VERSION = "bookworm-minbase-python3-v1"
CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "rules_torch-test" / "oci-base"
TOOLS = ("umoci", "runc", "skopeo")


def require_oci_tools() -> None:
    """Skips the test, loudly, where images cannot be built and run here (debootstrap is needed
    only while the base is not cached)."""
    cached = (CACHE / BASE_VERSION / "rootfs.tar").is_file()
    missing = [tool for tool in TOOLS + (() if cached else ("debootstrap",)) if shutil.which(tool) is None]
    if missing:
        pytest.skip(f"NOT TESTED: the image is not built or run: {', '.join(missing)} missing (Debian: apt-get install umoci runc skopeo debootstrap)")
    if os.geteuid() != 0:
        pytest.skip("NOT TESTED: the image is not built or run: runc, umoci unpack and debootstrap need root here")


def host_mirror() -> str:
    """The Debian mirror this machine's apt uses (as tools/offline_bazel/setup.sh finds it)."""
    sources = [Path("/etc/apt/sources.list"), *Path("/etc/apt/sources.list.d").glob("*.list"), *Path("/etc/apt/sources.list.d").glob("*.sources")]
    for source in sources:
        if not source.is_file():
            continue
        for line in source.read_text().splitlines():
            if line.lstrip().startswith("#"):
                continue
            found = re.search(r"https?://\S+/debian/?(?=\s|$)", line)
            if found:
                return found.group(0)
    return "http://deb.debian.org/debian"


def base_rootfs_tar() -> Path:
    """The cached base layer: a bookworm minbase root filesystem with python3, as one tar."""
    out = CACHE / BASE_VERSION / "rootfs.tar"
    if out.is_file():
        return out
    out.parent.mkdir(parents=True, exist_ok=True)
    # One debootstrap at a time: tools/test.sh's two lanes both build images on a fresh machine.
    with open(out.parent / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return out if out.is_file() else _debootstrap_tar(out)


def _debootstrap_tar(out: Path) -> Path:
    with tempfile.TemporaryDirectory(dir=out.parent) as tmp:
        root = Path(tmp) / "rootfs"
        result = subprocess.run(
            ["debootstrap", "--variant=minbase", "--include=python3", "bookworm", str(root), host_mirror()],
            capture_output=True, text=True, timeout=1200, check=False,
        )
        if result.returncode != 0:
            pytest.skip(f"NOT TESTED: the base image could not be built (debootstrap failed): {result.stdout[-1500:]}{result.stderr[-1500:]}")
        partial = Path(tmp) / "rootfs.tar"
        subprocess.run(["tar", "-C", str(root), "--numeric-owner", "-cf", str(partial), "."], check=True)
        partial.rename(out)
    return out


def _umoci(*args: str) -> None:
    result = subprocess.run(["umoci", *args], capture_output=True, text=True, timeout=600, check=False)
    assert result.returncode == 0, f"umoci {' '.join(args)}: {result.stdout}{result.stderr}"


def build_image(layout: Path, layers: list[Path], entrypoint: str, tag: str = "app") -> None:
    """An OCI image layout at `layout`: the base, then `layers` in order, running `entrypoint`."""
    if layout.exists():
        shutil.rmtree(layout)
    _umoci("init", "--layout", str(layout))
    _umoci("new", "--image", f"{layout}:{tag}")
    for layer in [base_rootfs_tar(), *layers]:
        _umoci("raw", "add-layer", "--image", f"{layout}:{tag}", str(layer))
    _umoci("config", "--image", f"{layout}:{tag}", "--config.entrypoint", entrypoint, "--config.workingdir", "/")


def diff_ids(layout: Path, tag: str = "app") -> list[str]:
    """The image config's rootfs.diff_ids (sha256 of each uncompressed layer), base first."""
    blobs = layout / "blobs" / "sha256"
    index = json.loads((layout / "index.json").read_text())
    manifest_digest = next(m["digest"] for m in index["manifests"] if m.get("annotations", {}).get("org.opencontainers.image.ref.name") == tag)
    manifest = json.loads((blobs / manifest_digest.split(":")[1]).read_text())
    config = json.loads((blobs / manifest["config"]["digest"].split(":")[1]).read_text())
    return config["rootfs"]["diff_ids"]


def docker_archive(layout: Path, archive: Path, reference: str, tag: str = "app") -> dict:
    """The README's `skopeo copy oci:<layout>:<tag> docker-archive:<archive>:<reference>` (what
    `docker load` takes); returns the archive's image config, read back from the archive."""
    result = subprocess.run(
        ["skopeo", "copy", "--quiet", f"oci:{layout}:{tag}", f"docker-archive:{archive}:{reference}"],
        capture_output=True, text=True, timeout=600, check=False,
    )
    assert result.returncode == 0, f"skopeo copy: {result.stdout}{result.stderr}"
    with tarfile.open(archive) as tar:
        (entry,) = json.load(tar.extractfile("manifest.json"))
        # skopeo writes a short name in full (main:1 as docker.io/library/main:1), as docker does.
        assert entry["RepoTags"] in ([reference], [f"docker.io/library/{reference}"]), entry
        config = json.load(tar.extractfile(entry["Config"]))
        layers = [_sha256_of(tar.extractfile(name)) for name in entry["Layers"]]
    assert [f"sha256:{digest}" for digest in layers] == config["rootfs"]["diff_ids"], "a layer's bytes do not match the config"
    return config


def unpack(layout: Path, bundle: Path, tag: str = "app") -> None:
    """Unpacks the image into a runc bundle whose config.json this sandbox's runc accepts."""
    if bundle.exists():
        shutil.rmtree(bundle)
    _umoci("unpack", "--image", f"{layout}:{tag}", str(bundle))
    config_path = bundle / "config.json"
    config = json.loads(config_path.read_text())
    config["process"].pop("rlimits", None)
    config["process"]["terminal"] = False
    config["linux"].pop("resources", None)
    config["linux"]["namespaces"] = [ns for ns in config["linux"]["namespaces"] if ns["type"] not in ("network", "cgroup")]
    config_path.write_text(json.dumps(config))


def run_bundle(bundle: Path, name: str, command: str | None = None, args: tuple[str, ...] = (), timeout: int = 300) -> subprocess.CompletedProcess:
    """Runs the bundle's entrypoint (or `command`), with `args`, in a container named `name`."""
    config_path = bundle / "config.json"
    config = json.loads(config_path.read_text())
    entrypoint = config.setdefault("annotations", {}).setdefault("rules_torch.entrypoint", json.dumps(config["process"]["args"]))
    config["process"]["args"] = ([command] if command else json.loads(entrypoint)) + list(args)
    config_path.write_text(json.dumps(config))
    try:
        return subprocess.run(
            ["runc", "run", "--bundle", str(bundle), name], stdin=subprocess.DEVNULL, capture_output=True,
            text=True, timeout=timeout, check=False,
        )
    finally:
        subprocess.run(["runc", "delete", "--force", name], capture_output=True, check=False)


def _sha256_of(stream) -> str:
    """The sha256 of what a binary stream holds, read 1 MiB at a time (layers are GBs)."""
    digest = hashlib.sha256()
    for block in iter(lambda: stream.read(1 << 20), b""):
        digest.update(block)
    return digest.hexdigest()


def sha256(path: Path) -> str:
    with open(path, "rb") as f:
        return _sha256_of(f)


def tar_members(path: Path) -> dict[str, tarfile.TarInfo]:
    with tarfile.open(path) as tar:
        return {member.name: member for member in tar.getmembers()}
