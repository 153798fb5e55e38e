#!/usr/bin/env python3
"""Fake torch wheels and PEP 503 indexes, for tests that must not touch the internet.

The wheels are tiny but real: valid zip files with a ``.dist-info`` (METADATA, WHEEL,
RECORD), named with the quirks of PyTorch's own index (``+cpu``/``+cu118``/``+rocm6.2``
local labels, unlabelled macOS and aarch64 CPU builds, ``linux_x86_64``-tagged wheels,
compound manylinux tags), and with the dependency shapes that make locking hard: CUDA
wheels that depend on ``nvidia-*`` wheels behind platform markers, a ``setuptools``
dependency behind a ``python_version`` marker, ``cuda-toolkit[cublas,...]`` extras of a
transitive dependency, and a package present on both the variant index and "PyPI" at
different versions (the first-index strategy must pick the variant index's).

Layout under ``--out DIR`` (every directory is a PEP 503 index usable through
``file://`` or over HTTP):

- ``whl/<variant>/<project>/``: per-variant index, like https://download.pytorch.org/whl/cu118,
  with ``#sha256=`` fragments and PEP 658 metadata files.
- ``whl/<project>/``: the root listing of every variant, like https://download.pytorch.org/whl.
- ``whl-nohash/<variant>/<project>/``: the same files without hashes or metadata (like
  PyTorch's index before 2024: pip must download a wheel to read its metadata).
- ``whl-metadata-nohash/<variant>/<project>/``: PEP 658 metadata but no hashes (pip never
  downloads the wheels, so their hashes must be computed separately).
- ``pypi/simple/<project>/``: the pure-Python dependencies, triton and the NVIDIA wheels.
- ``cu130-nolabel/simple/<project>/``: a cu130 build without local version labels (like
  PyPI's Linux torch, which is a CUDA build).

Fake ``torch`` records what it is: ``torch.__version__``, ``torch.__variant__``,
``torch.__platform__`` and ``torch.__python__``. NVIDIA wheels ship
``nvidia/<pkg>/lib/lib<x>.so.N`` files (arbitrary bytes).

Use from Python::

    indexes = build_indexes(Path("/tmp/idx"))
    with IndexServer(indexes.root) as server:
        url = indexes.urls(server.url).pytorch
        ...
        server.count("torch-2.5.1+cpu-cp311-cp311-linux_x86_64.whl")

or from a shell: ``python3 tests/support/fake_wheels.py --out /tmp/idx [--serve 8000]``.
"""

from __future__ import annotations

import argparse
import base64
import collections
import dataclasses
import hashlib
import html
import http.server
import io
import json
import shutil
import sys
import threading
import urllib.parse
import zipfile
from collections.abc import Iterable, Iterator
from pathlib import Path

# Fixed zip timestamps make rebuilt indexes byte-identical, so hashes in tests are stable.
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)

PYTHONS = ("3.11", "3.12")
VARIANTS = ("cpu", "cu118", "cu121", "cu130", "rocm6.2")
PLATFORMS = ("linux_x86_64", "linux_aarch64", "macos_arm64", "windows_amd64")

# Per-variant wheel tags as PyTorch named them (2.5-era: linux_x86_64-tagged Linux wheels,
# unlabelled macOS/aarch64 CPU builds; newer CUDA builds use manylinux_2_28).
_TORCH_PLATFORM_TAG = {
    ("cpu", "linux_x86_64"): "linux_x86_64",
    ("cpu", "linux_aarch64"): "manylinux_2_17_aarch64.manylinux2014_aarch64",
    ("cpu", "macos_arm64"): "macosx_11_0_arm64",
    ("cpu", "windows_amd64"): "win_amd64",
    ("cu118", "linux_x86_64"): "linux_x86_64",
    ("cu118", "windows_amd64"): "win_amd64",
    ("cu121", "linux_x86_64"): "linux_x86_64",
    ("cu121", "linux_aarch64"): "manylinux_2_28_aarch64",
    ("cu121", "windows_amd64"): "win_amd64",
    ("cu130", "linux_x86_64"): "manylinux_2_28_x86_64",
    ("cu130", "linux_aarch64"): "manylinux_2_28_aarch64",
    ("rocm6.2", "linux_x86_64"): "linux_x86_64",
}
# Which torch versions exist for which variant: 2.6.0 was "never built" for cu118,
# cu121 and rocm6.2, which is what the missing-variant diagnostics are tested with.
_TORCH_VERSIONS = {
    "2.5.1": ("cpu", "cu118", "cu121", "cu130", "rocm6.2"),
    "2.6.0": ("cpu", "cu130"),
}
_VISION_FOR = {"2.5.1": "0.20.1", "2.6.0": "0.21.0"}
_AUDIO_FOR = {"2.5.1": "2.5.1", "2.6.0": "2.6.0"}

_GENERIC_PLATFORM_TAG = {
    "linux_x86_64": "manylinux_2_17_x86_64.manylinux2014_x86_64",
    "linux_aarch64": "manylinux_2_17_aarch64.manylinux2014_aarch64",
    "macos_arm64": "macosx_11_0_arm64",
    "windows_amd64": "win_amd64",
}
_CUDA_ONLY_LINUX_X86 = 'platform_system == "Linux" and platform_machine == "x86_64"'

# CUDA 11/12 builds depend on these directly (x86_64 Linux only, as PyTorch's do).
_NVIDIA_DIRECT = {
    "cu118": {
        "nvidia-cuda-runtime-cu11": ("11.8.89", "cuda_runtime", "libcudart.so.11.0"),
        "nvidia-cublas-cu11": ("11.11.3.6", "cublas", "libcublas.so.11"),
        "nvidia-cudnn-cu11": ("9.1.0.70", "cudnn", "libcudnn.so.9"),
        "nvidia-nccl-cu11": ("2.21.5", "nccl", "libnccl.so.2"),
    },
    "cu121": {
        "nvidia-cuda-runtime-cu12": ("12.1.105", "cuda_runtime", "libcudart.so.12"),
        "nvidia-cublas-cu12": ("12.1.3.1", "cublas", "libcublas.so.12"),
        "nvidia-cudnn-cu12": ("9.1.0.70", "cudnn", "libcudnn.so.9"),
        "nvidia-nccl-cu12": ("2.21.5", "nccl", "libnccl.so.2"),
    },
}
# nvidia-cudnn depends on the matching cublas, so cublas is also a transitive dependency.
_CUDNN_NEEDS = {"nvidia-cudnn-cu11": "nvidia-cublas-cu11", "nvidia-cudnn-cu12": "nvidia-cublas-cu12"}

# CUDA 13 builds reach their libraries through cuda-toolkit's extras, like torch 2.14.
_CUDA_TOOLKIT_VERSION = "13.0.3"
_CUDA_TOOLKIT_EXTRAS = {
    "cublas": ("nvidia-cublas", "13.0.0.19", "libcublas.so.13"),
    "cudart": ("nvidia-cuda-runtime", "13.0.96", "libcudart.so.13"),
    "nvrtc": ("nvidia-cuda-nvrtc", "13.0.88", "libnvrtc.so.13"),
    "cufft": ("nvidia-cufft", "12.0.0.61", "libcufft.so.12"),
}
CU130_TOOLKIT_EXTRAS = ("cublas", "cudart", "nvrtc")

# Pure-ish dependencies: (version, platform-specific). The variant indexes mirror some
# of them at older versions, like download.pytorch.org does.
_PYPI_DEPS = {
    "filelock": (("3.13.1", "3.16.1"), False),
    "typing-extensions": (("4.12.2",), False),
    "sympy": (("1.13.1",), False),
    "mpmath": (("1.3.0",), False),
    "jinja2": (("3.1.4",), False),
    "markupsafe": (("2.1.5",), True),
    "setuptools": (("70.2.0",), False),
    "numpy": (("2.1.2",), True),
    "pillow": (("11.0.0",), True),
}
MIRRORED_ON_VARIANT_INDEX = {"filelock": "3.13.1", "typing-extensions": "4.12.2", "sympy": "1.13.1"}
_DEP_REQUIRES = {
    "sympy": ["mpmath<1.4,>=1.1.0"],
    "jinja2": ["MarkupSafe>=2.0"],
}


@dataclasses.dataclass(frozen=True)
class Wheel:
    """One fake wheel: its name, version, tags, dependencies and files."""

    name: str
    version: str
    tag: str  # "<python>-<abi>-<platform>", e.g. "cp311-cp311-linux_x86_64"
    requires: tuple[str, ...] = ()
    extras: tuple[str, ...] = ()
    files: tuple[tuple[str, bytes, bool], ...] = ()  # (path, content, executable)

    @property
    def filename(self) -> str:
        return f"{self.name.replace('-', '_')}-{self.version}-{self.tag}.whl"

    @property
    def dist_info(self) -> str:
        return f"{self.name.replace('-', '_')}-{self.version}.dist-info"

    def metadata(self) -> bytes:
        lines = ["Metadata-Version: 2.1", f"Name: {self.name}", f"Version: {self.version}"]
        lines += [f"Provides-Extra: {extra}" for extra in self.extras]
        lines += [f"Requires-Dist: {req}" for req in self.requires]
        return ("\n".join(lines) + "\n\n").encode()

    def build(self) -> bytes:
        py, abi, plat = self.tag.split("-")
        wheel_tags = [f"Tag: {p}-{a}-{t}" for p in py.split(".") for a in abi.split(".") for t in plat.split(".")]
        wheel_file = "\n".join(["Wheel-Version: 1.0", "Generator: fake_wheels", "Root-Is-Purelib: false", *wheel_tags])
        entries = [(path, content, executable) for path, content, executable in self.files]
        entries.append((f"{self.dist_info}/METADATA", self.metadata(), False))
        entries.append((f"{self.dist_info}/WHEEL", (wheel_file + "\n").encode(), False))
        record = io.StringIO()
        for path, content, _ in entries:
            digest = base64.urlsafe_b64encode(hashlib.sha256(content).digest()).rstrip(b"=").decode()
            record.write(f"{path},sha256={digest},{len(content)}\n")
        record.write(f"{self.dist_info}/RECORD,,\n")
        entries.append((f"{self.dist_info}/RECORD", record.getvalue().encode(), False))
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for path, content, executable in entries:
                info = zipfile.ZipInfo(path, date_time=_ZIP_DATE)
                info.compress_type = zipfile.ZIP_DEFLATED
                info.external_attr = (0o100755 if executable else 0o100644) << 16
                archive.writestr(info, content)
        return buffer.getvalue()


def _cp(python: str) -> str:
    return "cp" + python.replace(".", "")


def _package_init(name: str, fields: dict[str, str]) -> tuple[str, bytes, bool]:
    body = "".join(f"__{key}__ = {value!r}\n" for key, value in fields.items())
    return (f"{name}/__init__.py", body.encode(), False)


def _torch_platform_tag(variant: str, platform: str, full_matrix: bool) -> str | None:
    tag = _TORCH_PLATFORM_TAG.get((variant, platform))
    if tag is None and full_matrix:
        tag = _GENERIC_PLATFORM_TAG[platform]
    return tag


def _local(variant: str, platform: str) -> str:
    # PyTorch publishes its macOS and aarch64 CPU builds without a local label.
    if variant == "cpu" and platform in ("macos_arm64", "linux_aarch64"):
        return ""
    return "+" + variant


def _torch_requires(variant: str, python: str) -> list[str]:
    requires = [
        "filelock",
        "typing-extensions>=4.8.0",
        "jinja2",
        'sympy==1.13.1; python_version >= "3.9"',
        'setuptools; python_version >= "3.12"',
    ]
    if variant in _NVIDIA_DIRECT:
        requires += [f"{name}=={spec[0]}; {_CUDA_ONLY_LINUX_X86}" for name, spec in _NVIDIA_DIRECT[variant].items()]
    if variant == "cu130":
        extras = ",".join(CU130_TOOLKIT_EXTRAS)
        requires.append(f'cuda-toolkit[{extras}]=={_CUDA_TOOLKIT_VERSION}; platform_system == "Linux"')
    if variant.startswith("cu"):
        requires.append(f'triton==3.1.0; {_CUDA_ONLY_LINUX_X86} and python_version < "3.13"')
    if variant.startswith("rocm"):
        requires.append(f"pytorch-triton-rocm==3.1.0; {_CUDA_ONLY_LINUX_X86}")
    return requires


def torch_family(full_matrix: bool = False, label: bool = True) -> Iterator[tuple[str, Wheel]]:
    """Yields (variant, wheel) for every torch, torchvision and torchaudio wheel."""
    for torch_version, variants in _TORCH_VERSIONS.items():
        for variant in variants:
            for platform in PLATFORMS:
                plat_tag = _torch_platform_tag(variant, platform, full_matrix)
                if plat_tag is None:
                    continue
                local = _local(variant, platform) if label else ""
                for python in PYTHONS:
                    cp = _cp(python)
                    # PyTorch's macOS wheels carry the "none" ABI, as they really do.
                    abi = "none" if platform == "macos_arm64" else cp
                    tag = f"{cp}-{abi}-{plat_tag}"
                    fields = {
                        "version": torch_version + local,
                        "variant": variant,
                        "platform": platform,
                        "python": python,
                    }
                    libs = [("torch/lib/libtorch_cpu.so", b"fake", False)]
                    if variant != "cpu":
                        libs.append((f"torch/lib/libtorch_{variant[:2]}.so", b"fake", False))
                    yield (
                        variant,
                        Wheel(
                            "torch",
                            torch_version + local,
                            tag,
                            requires=tuple(_torch_requires(variant, python)),
                            files=(_package_init("torch", fields), *libs),
                        ),
                    )
                    vision = _VISION_FOR[torch_version] + local
                    yield (
                        variant,
                        Wheel(
                            "torchvision",
                            vision,
                            tag,
                            requires=("numpy", f"torch=={torch_version}{local}", "pillow!=8.3.*,>=5.3.0"),
                            files=(_package_init("torchvision", {"version": vision, "variant": variant}),),
                        ),
                    )
                    audio = _AUDIO_FOR[torch_version] + local
                    yield (
                        variant,
                        Wheel(
                            "torchaudio",
                            audio,
                            tag,
                            requires=(f"torch=={torch_version}{local}",),
                            files=(_package_init("torchaudio", {"version": audio, "variant": variant}),),
                        ),
                    )


def _nvidia_wheel(name: str, version: str, libdir: str, lib: str, plat_tag: str, requires: Iterable[str] = ()) -> Wheel:
    files = (
        ("nvidia/__init__.py", b"", False),
        (f"nvidia/{libdir}/__init__.py", b"", False),
        (f"nvidia/{libdir}/lib/{lib}", b"\x7fELF fake " + lib.encode(), False),
    )
    return Wheel(name, version, f"py3-none-{plat_tag}", requires=tuple(requires), files=files)


def accelerator_wheels() -> Iterator[tuple[str, Wheel]]:
    """Yields (variant or "", wheel) for NVIDIA/triton/ROCm wheels; "" means PyPI only."""
    linux = {"linux_x86_64": "manylinux2014_x86_64", "linux_aarch64": "manylinux2014_aarch64"}
    for variant, packages in _NVIDIA_DIRECT.items():
        for name, (version, libdir, lib) in packages.items():
            requires = [f"{_CUDNN_NEEDS[name]}"] if name in _CUDNN_NEEDS else []
            yield variant, _nvidia_wheel(name, version, libdir, lib, linux["linux_x86_64"], requires)
    for plat_tag in linux.values():
        for name, version, lib in _CUDA_TOOLKIT_EXTRAS.values():
            yield "", _nvidia_wheel(name, version, "cu13", lib, plat_tag)
    toolkit_requires = [
        f'{name}=={version}; extra == "{extra}"' for extra, (name, version, _) in _CUDA_TOOLKIT_EXTRAS.items()
    ]
    yield (
        "",
        Wheel(
            "cuda-toolkit",
            _CUDA_TOOLKIT_VERSION,
            "py2.py3-none-any",
            requires=tuple(toolkit_requires),
            extras=tuple(_CUDA_TOOLKIT_EXTRAS),
            files=(("cuda_toolkit_fake/__init__.py", b"", False),),
        ),
    )
    for python in PYTHONS:
        cp = _cp(python)
        triton_files = (
            _package_init("triton", {"version": "3.1.0"}),
            ("triton/backends/nvidia/bin/ptxas", b"#!/bin/sh\necho fake ptxas\n", True),
        )
        tag = f"{cp}-{cp}-manylinux_2_17_x86_64.manylinux2014_x86_64"
        yield "cuda", Wheel("triton", "3.1.0", tag, files=triton_files)
        rocm_files = (_package_init("triton", {"version": "3.1.0", "flavor": "rocm"}),)
        yield "rocm6.2", Wheel("pytorch-triton-rocm", "3.1.0", f"{cp}-{cp}-linux_x86_64", files=rocm_files)


def pure_wheels() -> Iterator[Wheel]:
    """Yields the non-accelerator dependencies, one wheel per platform and Python where needed."""
    for name, (versions, platform_specific) in _PYPI_DEPS.items():
        for version in versions:
            requires = tuple(_DEP_REQUIRES.get(name, ()))
            files = (_package_init(name.replace("-", "_"), {"version": version}),)
            if not platform_specific:
                yield Wheel(name, version, "py3-none-any", requires=requires, files=files)
                continue
            for plat_tag in _GENERIC_PLATFORM_TAG.values():
                for python in PYTHONS:
                    cp = _cp(python)
                    # pillow ships abi3 wheels here so that the abi3 tags get exercised.
                    tag = f"cp39-abi3-{plat_tag}" if name == "pillow" else f"{cp}-{cp}-{plat_tag}"
                    yield Wheel(name, version, tag, requires=requires, files=files)


@dataclasses.dataclass(frozen=True)
class IndexUrls:
    """The index URLs of one build, under one base (``file://`` directory or HTTP server)."""

    pytorch: str  # template with {variant}, hashes and PEP 658 metadata
    pytorch_nohash: str  # template with {variant}, neither hashes nor metadata
    pytorch_metadata_nohash: str  # template with {variant}, metadata but no hashes
    pytorch_root: str  # every variant in one listing
    pypi: str
    cu130_nolabel: str


@dataclasses.dataclass(frozen=True)
class FakeIndexes:
    """A built set of fake indexes under ``root``."""

    root: Path
    wheels: dict[str, Path]  # filename -> path

    def urls(self, base: str | None = None) -> IndexUrls:
        base = (base or self.root.resolve().as_uri()).rstrip("/")
        return IndexUrls(
            pytorch=f"{base}/whl/{{variant}}",
            pytorch_nohash=f"{base}/whl-nohash/{{variant}}",
            pytorch_metadata_nohash=f"{base}/whl-metadata-nohash/{{variant}}",
            pytorch_root=f"{base}/whl",
            pypi=f"{base}/pypi/simple",
            cu130_nolabel=f"{base}/cu130-nolabel/simple",
        )

    def sha256(self, filename: str) -> str:
        return hashlib.sha256(self.wheels[filename].read_bytes()).hexdigest()


class _IndexWriter:
    """Collects (index dir, project) -> links and writes PEP 503 pages."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.pages: dict[tuple[str, str], dict[str, tuple[Path, bool, bool]]] = collections.defaultdict(dict)
        self.wheels: dict[str, Path] = {}

    def store(self, wheel: Wheel, directory: str) -> Path:
        path = self.root / directory / wheel.filename
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            data = wheel.build()
            path.write_bytes(data)
            # PEP 658: the metadata next to the wheel lets pip resolve without downloading it.
            Path(str(path) + ".metadata").write_bytes(wheel.metadata())
        self.wheels.setdefault(wheel.filename, path)
        return path

    def link(self, index: str, project: str, path: Path, hashes: bool = True, metadata: bool | None = None) -> None:
        self.pages[(index, project)][path.name] = (path, hashes, hashes if metadata is None else metadata)

    def link_flavours(self, variant: str, project: str, path: Path) -> None:
        """Links a file from the variant's index in all three flavours (hashes, none, metadata only)."""
        self.link(f"whl/{variant}", project, path)
        self.link(f"whl-nohash/{variant}", project, path, hashes=False)
        self.link(f"whl-metadata-nohash/{variant}", project, path, hashes=False, metadata=True)

    def write(self) -> None:
        projects_by_index: dict[str, set[str]] = collections.defaultdict(set)
        for (index, project), links in sorted(self.pages.items()):
            projects_by_index[index].add(project)
            page_dir = self.root / index / project
            page_dir.mkdir(parents=True, exist_ok=True)
            anchors = []
            for filename, (path, hashes, metadata) in sorted(links.items()):
                href = urllib.parse.quote(_relative(path, page_dir))
                attrs = ""
                if hashes:
                    href += "#sha256=" + hashlib.sha256(path.read_bytes()).hexdigest()
                if metadata:
                    meta = hashlib.sha256(Path(str(path) + ".metadata").read_bytes()).hexdigest()
                    attrs = f' data-dist-info-metadata="sha256={meta}" data-core-metadata="sha256={meta}"'
                anchors.append(f'<a href="{html.escape(href)}"{attrs}>{html.escape(filename)}</a><br/>')
            _write_page(page_dir / "index.html", project, anchors)
        for index, projects in projects_by_index.items():
            anchors = [f'<a href="{p}/">{p}</a><br/>' for p in sorted(projects)]
            _write_page(self.root / index / "index.html", "Simple index", anchors)


def _relative(path: Path, start: Path) -> str:
    import os.path

    return os.path.relpath(path, start).replace("\\", "/")


def _write_page(path: Path, title: str, anchors: list[str]) -> None:
    body = "\n".join(anchors)
    path.write_text(f"<!DOCTYPE html>\n<html><head><title>{title}</title></head><body>\n{body}\n</body></html>\n")


def build_indexes(out: Path, full_matrix: bool = False) -> FakeIndexes:
    """Builds every fake index under ``out`` (replacing what is there) and returns them.

    ``full_matrix`` also builds torch for the (variant, platform) pairs PyTorch never
    published (CUDA on macOS, ...), so that every cell of a benchmark exists.
    """
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    writer = _IndexWriter(out)
    variants_seen: set[str] = set()

    for variant, wheel in torch_family(full_matrix):
        variants_seen.add(variant)
        path = writer.store(wheel, f"whl/{variant}")
        writer.link("whl", wheel.name, path)
        writer.link_flavours(variant, wheel.name, path)

    for variant, wheel in torch_family(full_matrix, label=False):
        if variant == "cu130":
            path = writer.store(wheel, "cu130-nolabel/files")
            writer.link("cu130-nolabel/simple", wheel.name, path)

    def on_variant_indexes(wheel: Wheel, variants: Iterable[str]) -> None:
        path = writer.store(wheel, "whl")
        writer.link("whl", wheel.name, path)
        for variant in variants:
            writer.link_flavours(variant, wheel.name, path)

    cuda_variants = sorted(v for v in variants_seen if v.startswith("cu"))
    for where, wheel in accelerator_wheels():
        if where.startswith("rocm"):
            # pytorch-triton-rocm lives on PyTorch's index only.
            on_variant_indexes(wheel, [where])
            continue
        pypi_path = writer.store(wheel, "pypi/files")
        writer.link("pypi/simple", wheel.name, pypi_path)
        if where == "cuda":
            on_variant_indexes(wheel, cuda_variants)
            writer.link("cu130-nolabel/simple", wheel.name, pypi_path)
        elif where:
            on_variant_indexes(wheel, [where])

    for wheel in pure_wheels():
        writer.link("pypi/simple", wheel.name, writer.store(wheel, "pypi/files"))
        if MIRRORED_ON_VARIANT_INDEX.get(wheel.name) == wheel.version:
            on_variant_indexes(wheel, sorted(variants_seen))
    writer.write()
    return FakeIndexes(out, dict(writer.wheels))


class _CountingHandler(http.server.SimpleHTTPRequestHandler):
    server: IndexServer._Server

    def do_GET(self) -> None:
        self.server.record(self.path)
        super().do_GET()

    def do_HEAD(self) -> None:
        self.server.record(self.path)
        super().do_HEAD()

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 (signature of the base class)
        pass


class IndexServer:
    """Serves a directory over HTTP on 127.0.0.1 and counts the requests for each path.

    ``count("torch-2.5.1+cpu-...whl")`` tells how often a file was fetched; laziness tests
    use it to prove that a build did not download what it did not select.
    """

    class _Server(http.server.ThreadingHTTPServer):
        daemon_threads = True

        def __init__(self, address: tuple[str, int], handler: type, directory: Path) -> None:
            self.directory = directory
            self.counts: collections.Counter[str] = collections.Counter()
            self._lock = threading.Lock()
            super().__init__(address, handler)

        def finish_request(self, request, client_address) -> None:  # type: ignore[no-untyped-def]
            self.RequestHandlerClass(request, client_address, self, directory=str(self.directory))

        def record(self, path: str) -> None:
            with self._lock:
                self.counts[urllib.parse.unquote(urllib.parse.urlsplit(path).path)] += 1

    def __init__(self, directory: Path, port: int = 0) -> None:
        self._server = IndexServer._Server(("127.0.0.1", port), _CountingHandler, directory)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> IndexServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> IndexServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def count(self, name: str) -> int:
        """Requests so far for paths ending in ``name`` (a file name or a path suffix)."""
        with self._server._lock:
            return sum(n for path, n in self._server.counts.items() if path.endswith(name))

    def counts(self) -> dict[str, int]:
        with self._server._lock:
            return dict(self._server.counts)

    def reset(self) -> None:
        with self._server._lock:
            self._server.counts.clear()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Build fake torch wheels and PEP 503 indexes (and optionally serve them on 127.0.0.1).",
    )
    parser.add_argument("--out", type=Path, required=True, help="directory to (re)create")
    parser.add_argument("--serve", type=int, metavar="PORT", help="serve OUT over HTTP on 127.0.0.1:PORT (0 picks one)")
    parser.add_argument("--full-matrix", action="store_true", help="build torch for every variant on every platform")
    parser.add_argument("--json", action="store_true", help="print the URLs as JSON")
    args = parser.parse_args(argv)

    indexes = build_indexes(args.out, full_matrix=args.full_matrix)
    server = IndexServer(args.out, args.serve).start() if args.serve is not None else None
    urls = {"file": dataclasses.asdict(indexes.urls())}
    if server:
        urls["http"] = dataclasses.asdict(indexes.urls(server.url))
    if args.json:
        print(json.dumps(urls, indent=2, sort_keys=True), flush=True)
    else:
        print(f"{len(indexes.wheels)} wheels in {args.out}")
        for scheme, table in urls.items():
            for key, url in table.items():
                print(f"{scheme:5} {key:16} {url}")
        sys.stdout.flush()
    if server:
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
