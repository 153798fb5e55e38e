"""The torch_py_* and torch_cc_extension macros (loading time); @rules_torch//torch:defs.bzl
re-exports them, with the rules and providers a user meets."""

load("@rules_python//python:defs.bzl", "py_binary", "py_library")
load("//torch/private/contracts:labels.bzl", "GPU_TAG")
load("//torch/private/rules:cc.bzl", "torch_cc_extension_rule")
load("//torch/private/rules:image_layers.bzl", "torch_py_image_layers_rule")
load("//torch/private/rules:runtime.bzl", "torch_executable", "torch_gpu_test", "torch_test")
load("//torch/private/rules:venv.bzl", "torch_py_venv")

# Attributes that belong to the outer (launcher) target rather than the inner py_binary.
_OUTER_ATTRS = ["args", "env", "visibility", "tags", "testonly", "compatible_with", "target_compatible_with", "exec_compatible_with", "exec_properties"]
_TEST_ATTRS = ["size", "timeout", "flaky", "shard_count", "local"]

def _main(name, srcs, main):
    if main:
        return main
    if name + ".py" in srcs:
        return name + ".py"
    if len(srcs) == 1:
        return srcs[0]
    fail("torch_py_binary/torch_py_test {}: set main (none of srcs is {}.py)".format(name, name))

def torch_py_library(name, **kwargs):
    """A py_library of torch code: `py_library(name, **kwargs)`, under a name that says so.

    Takes every attribute of py_library and returns what py_library returns (PyInfo and every
    other provider). A torch_py_binary or torch_py_test finds the shared-library directories of
    its transitive deps through any py_library, this one or a plain one (torch_runtime_aspect).
    `<name>.venv` is its venv (torch_py_venv): `bazel run //pkg:<name>.venv`.

    Args:
      name: the target's name.
      **kwargs: py_library attributes (srcs, deps, data, imports, visibility, ...).
    """
    py_library(name = name, **kwargs)
    _venv(name, name, kwargs.get("testonly", False), kwargs)

def _venv(name, actual, testonly, kwargs):
    """Declares `<name>.venv`, the venv of target `actual` (same package)."""
    torch_py_venv(
        name = name + ".venv",
        deps = [":" + actual],
        tags = ["manual"],
        testonly = testonly,
        **{k: kwargs[k] for k in ["compatible_with", "target_compatible_with"] if k in kwargs}
    )

def _executable(rule, name, is_test, kwargs):
    srcs = kwargs.get("srcs", [])
    main = _main(name, srcs, kwargs.pop("main", None))
    outer = {k: kwargs.pop(k) for k in _OUTER_ATTRS + (_TEST_ATTRS if is_test else []) if k in kwargs}
    if is_test and GPU_TAG in (outer.get("tags") or []):
        # Its test action routed to the GPU platform with --@rules_torch//torch:route_gpu_tests.
        rule = torch_gpu_test
    py_binary(
        name = name + ".py_binary",
        main = main,
        visibility = ["//visibility:private"],
        tags = (outer.get("tags") or []) + ["manual"],
        testonly = outer.get("testonly", is_test),
        **kwargs
    )
    rule(
        name = name,
        binary = ":" + name + ".py_binary",
        deps = kwargs.get("deps", []),
        main = main,
        **outer
    )
    _venv(name, name + ".py_binary", outer.get("testonly", is_test), outer)

def torch_py_binary(name, **kwargs):
    """A py_binary behind rules_torch's launcher, so torch's shared libraries load at runtime.

    Takes every attribute of py_binary (srcs, deps, data, main, args, env, ...). The program is
    `<name>`; `<name>.py_binary` is the plain py_binary it wraps; `<name>.venv` its venv
    (torch_py_venv): `bazel run //pkg:<name>.venv`.

    Args:
      name: the target's name.
      **kwargs: py_binary attributes.
    """
    _executable(torch_executable, name, False, kwargs)

def torch_py_test(name, **kwargs):
    """A py_test behind rules_torch's launcher, so torch's shared libraries load at runtime.

    Takes every attribute of py_test (srcs, deps, data, main, args, env, size, timeout, ...).
    A test tagged `requires-gpu` runs its test action on an execution platform with
    `@rules_torch//torch/platforms:gpu` when `--@rules_torch//torch:route_gpu_tests` is set, so
    remote execution runs it on the GPU workers that platform's `exec_properties` name (its own
    `exec_properties` win on a shared key); without the flag it runs where the other tests run.
    The constraint is on its `test` exec group (the same on Bazel 7, 8 and 9); its own
    `exec_compatible_with` applies to its build actions.
    Routed, it fails before its program runs when the worker has no usable CUDA device, naming
    the worker's NVIDIA driver (or its absence), the cell's CUDA and the minimum driver it needs:
    a GPU test that skips on a GPU worker would report PASSED having run no GPU op. Unrouted (a
    laptop without a GPU), what it does without a device is the test's own choice (skip visibly).
    `<name>.venv` is its venv (torch_py_venv).

    Args:
      name: the target's name.
      **kwargs: py_test attributes.
    """
    _executable(torch_test, name, True, kwargs)

def torch_py_image_layers(name, binary, warn_mb = 200, **kwargs):
    """A torch_py_binary as ordered, deterministic container image layers (tars), one per tier.

    Each layer is a separate output, in the order an image stacks them:

    | output | what it holds | rebuilt when |
    | --- | --- | --- |
    | `<name>.cuda.tar` | the cell's NVIDIA libraries (`nvidia/`); only for CUDA cells | the cell changes |
    | `<name>.torch.tar` | the rest of the cell's installed tree: torch, triton, numpy, ... | the cell changes |
    | `<name>.deps.tar` | other repositories' files: `pip.parse` hubs (`pip_deps`) | those change |
    | `<name>.interpreter.tar` | the Python toolchain's interpreter; only when it is hermetic | the toolchain changes |
    | `<name>.app.tar` | first-party code, the launcher, the entrypoint `/app/bin/<binary>` | the application changes |

    The target's files are the tars, in that order; `<name>.layers.txt` (output group `listing`)
    lists them too, and output groups `cuda`, `torch`, ... name each. The cuda and torch layers
    are the cell's own outputs (linked here): every binary on one cell gets the same file (one
    copy, one digest, pulled once), and an edit of the application rebuilds the app layer only.
    With `torch.from_pip` (no cell tree) torch's packages are in the deps layer. Every tar is deterministic (entries sorted,
    mtime 0, uid/gid 0, no user names, no host paths); a file is stored once (hardlinks and
    symlinks as links). A layer over `warn_mb` MB prints a warning.

    In the image, the cell's tree is `/opt/rules_torch/<cell>-<stamp>/site-packages` and the
    program `/app/bin/<binary>`, with its runfiles in `/app/bin/<binary>.runfiles`: run it with no
    Bazel and no `LD_LIBRARY_PATH` of yours (the launcher sets it; torch's RUNPATHs find the
    NVIDIA libraries). Without a hermetic Python toolchain (Bazel's autodetecting one, rules_python
    0.2x) there is no interpreter layer: the base image must have the cell's Python as `python3`
    on PATH (e.g. Debian bookworm's python3, 3.11, for cp311 cells); the launcher says so if not.

    ```starlark
    load("@rules_torch//torch:defs.bzl", "torch_py_binary", "torch_py_image_layers")

    torch_py_binary(name = "main", srcs = ["main.py"], deps = ["@torch"])

    torch_py_image_layers(name = "main_layers", binary = ":main")

    # With rules_oci: the layers on a base that has python3.
    oci_image(name = "image", base = "@debian_python", tars = [":main_layers"], entrypoint = ["/app/bin/main"])
    ```

    The variant flag chooses the image's CUDA: `bazel build --@rules_torch//torch:variant=cu130
    //:main_layers` builds a cu130 cuda layer (`--platforms` a platform of the lock's, e.g. an
    aarch64 image built on x86_64).

    Args:
      name: the target; its outputs are `<name>.<layer>.tar` and `<name>.layers.txt`.
      binary: the torch_py_binary to put in the image.
      warn_mb: warn about a layer larger than this, in MB (remote caches and registries slow
        down on large blobs); 0: never.
      **kwargs: common attributes (visibility, tags, target_compatible_with, ...).
    """
    torch_py_image_layers_rule(name = name, binary = binary, warn_mb = warn_mb, **kwargs)

def torch_cc_extension(name, srcs, deps = [], copts = [], linkopts = [], nvcc_opts = [], libtorch = "@torch//:libtorch", **kwargs):
    """A shared object of C++ code built against the locked torch's libtorch, for Python to load.

    Compiles `srcs` against `libtorch` (default `@torch//:libtorch`: the cell the variant flag and
    target platform select, the same wheel `@torch//:torch` gives Python) with the C++ standard
    the wheel requires (`-std=c++20` for torch 2.13) and its ABI define, and links `<name>.so`
    against libtorch's shared libraries with a RUNPATH that finds them in runfiles, under
    `bazel run`, `bazel test` and direct execution. `TORCH_EXTENSION_NAME` is defined to `name`,
    as torch.utils.cpp_extension does.

    A custom operator registered with `TORCH_LIBRARY`, loaded by path:

    ```starlark
    load("@rules_torch//torch:defs.bzl", "torch_cc_extension", "torch_py_test")

    torch_cc_extension(name = "my_ops", srcs = ["my_ops.cc"])

    torch_py_test(name = "my_ops_test", srcs = ["my_ops_test.py"], data = [":my_ops"], deps = ["@torch//:torch"])
    ```

    ```python
    torch.ops.load_library(os.path.join(os.path.dirname(__file__), "my_ops.so"))
    torch.ops.my_ops.scaled_add(a, b, 2.0)
    ```

    A pybind11 module (`PYBIND11_MODULE(TORCH_EXTENSION_NAME, m)`; torch's wheel ships pybind11
    under torch/include) that passes tensors to Python: add `@torch//:libtorch_python` (torch's
    Python binding) and Python's headers to `deps`, e.g. rules_python's
    `@rules_python//python/cc:current_py_cc_headers` where your rules_python has it (0.22.1 does
    not: then a cc_library of the interpreter's headers). Put it in a torch_py_library's `data`
    and `import <name>` after `import torch`:

    ```starlark
    torch_cc_extension(name = "pyext", srcs = ["pyext.cc"], deps = ["@torch//:libtorch_python", "@rules_python//python/cc:current_py_cc_headers"])

    torch_py_library(name = "pyext_lib", data = [":pyext"])
    ```

    CUDA: in a CUDA variant, `.cu` sources compile with the nvcc of the cell's own NVIDIA wheels
    (no system CUDA): lock them into the cell with the lock tool's `--with`, e.g.
    `--with 'nvidia-cuda-nvcc==13.*' --with 'nvidia-cuda-crt==13.*' --with 'nvidia-nvvm==13.*'`
    for cu130 (nvcc, its CUDA headers and cicc); the host compiler is the C++ toolchain's. In a
    CPU variant a `.cu` source is an error that says so.

    Args:
      name: the target; the shared object is `<name>.so`.
      srcs: C++ and CUDA sources and private headers (.cc, .cpp, .cxx, .cu, .h, .hpp, .cuh).
      deps: cc_library targets to compile and link with.
      copts: extra compiler flags.
      linkopts: extra linker flags.
      nvcc_opts: extra nvcc flags for the .cu sources (e.g. `["-arch=sm_90"]`).
      libtorch: the libtorch target: `@<hub>//:libtorch` of a hub named other than `torch`.
      **kwargs: common attributes (visibility, tags, testonly, target_compatible_with, ...).
    """
    torch_cc_extension_rule(
        name = name,
        srcs = srcs,
        deps = deps,
        copts = copts,
        linkopts = linkopts,
        nvcc_opts = nvcc_opts,
        libtorch = libtorch,
        **kwargs
    )
