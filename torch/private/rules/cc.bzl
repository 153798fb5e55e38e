"""libtorch for C++: `@<hub>//:libtorch` (torch_libtorch) and torch_cc_extension.

Both come from the same installed cell tree as `@<hub>//:torch` (cell_tree.bzl), so the C++ and
the Python sides of a program never disagree on the torch build.

What the cell's libtorch repository reads from the torch wheel: libtorch_facts.bzl.

At build time torch_libtorch's action hard-links (else copies) the headers into one directory
output and each library into a file of its own, from the installed tree: the libraries are
LibraryToLinks, so Bazel's own runfiles and RUNPATH logic (`_solib_<cpu>/`) makes them load
under `bazel run`, `bazel test` and direct execution, without LD_LIBRARY_PATH.
"""

load("@rules_cc//cc:find_cc_toolchain.bzl", "CC_TOOLCHAIN_TYPE", "find_cc_toolchain", "use_cc_toolchain")
load("@rules_cc//cc/common:cc_common.bzl", "cc_common")
load("@rules_cc//cc/common:cc_info.bzl", "CcInfo")
load(":cell_tree.bzl", "TorchCellInfo")
load(":layer.bzl", "toolchain_interpreter")

_PYTHON_TOOLCHAIN = "@bazel_tools//tools/python:toolchain_type"

TorchCcInfo = provider(
    doc = "The compile settings a torch wheel requires of C++ code built against its libtorch.",
    fields = {
        "cell": "string: the lock cell key (cpu_linux_x86_64_cp311), for messages",
        "cuda": "bool: whether the cell is a CUDA build (its .cu sources can compile)",
        "cxx_standard": "string: the -std value, e.g. \"c++20\"",
        "site_packages": "File: the cell's installed tree (a directory), where a CUDA cell's nvcc and CUDA headers are",
    },
)

def _features(ctx, cc_toolchain):
    return cc_common.configure_features(
        ctx = ctx,
        cc_toolchain = cc_toolchain,
        requested_features = ctx.features,
        unsupported_features = ctx.disabled_features,
    )

def _libtorch_impl(ctx):
    if ctx.attr.error:
        fail(ctx.attr.error)
    cell = ctx.attr.tree[TorchCellInfo]
    include = [ctx.actions.declare_directory(ctx.label.name + "/include")] if ctx.attr.include else []
    outputs = {path: ctx.actions.declare_file("{}/lib/{}".format(ctx.label.name, path.rpartition("/")[2])) for path in ctx.attr.libraries}
    interpreter, tools = toolchain_interpreter(ctx)
    args = ctx.actions.args()
    args.add(ctx.file._layout)
    args.add("--site-packages", cell.site_packages.path)
    if include:
        args.add("--include", ctx.attr.include)
        args.add("--include-out", include[0].path)
    args.add("--what", "cell {} (lock {})".format(cell.cell, ctx.attr.lock))
    args.add_all(["{}={}".format(path, outputs[path].path) for path in ctx.attr.libraries])
    ctx.actions.run(
        executable = interpreter,
        arguments = [args],
        inputs = [ctx.file._layout, cell.site_packages],
        tools = tools,
        outputs = include + outputs.values(),
        mnemonic = "TorchLibtorch",
        progress_message = "Laying out libtorch of cell " + cell.cell,
        # The interpreter is the Python toolchain's (automatic exec groups, Bazel 9).
        toolchain = _PYTHON_TOOLCHAIN,
    )

    cc_toolchain = find_cc_toolchain(ctx)
    features = _features(ctx, cc_toolchain)
    compilation_context = cc_common.create_compilation_context(
        headers = depset(include),
        system_includes = depset([d for i in include for d in [i.path, i.path + "/torch/csrc/api/include"]]),
        defines = depset(ctx.attr.defines),
    )
    libraries = [
        cc_common.create_library_to_link(
            actions = ctx.actions,
            feature_configuration = features,
            cc_toolchain = cc_toolchain,
            dynamic_library = outputs[path],
        )
        for path in ctx.attr.libraries
    ]
    linker_input = cc_common.create_linker_input(owner = ctx.label, libraries = depset(libraries))
    cc_info = CcInfo(
        compilation_context = compilation_context,
        linking_context = cc_common.create_linking_context(linker_inputs = depset([linker_input])),
    )
    return [
        DefaultInfo(files = depset(include + outputs.values())),
        cc_common.merge_cc_infos(direct_cc_infos = [cc_info], cc_infos = [d[CcInfo] for d in ctx.attr.deps]),
        TorchCcInfo(cell = cell.cell, cuda = ctx.attr.cuda, cxx_standard = ctx.attr.cxx_standard, site_packages = cell.site_packages),
    ]

torch_libtorch = rule(
    implementation = _libtorch_impl,
    doc = "libtorch of one cell: its headers, shared libraries and required defines, as CcInfo (`@<hub>//:libtorch`).",
    attrs = {
        "cuda": attr.bool(doc = "Whether the cell is a CUDA build."),
        "cxx_standard": attr.string(default = "c++17", doc = "The C++ standard torch requires, e.g. \"c++20\" (TorchCcInfo)."),
        "defines": attr.string_list(doc = "Defines the wheel was built with, for every dependent's compilation."),
        "deps": attr.label_list(providers = [CcInfo], doc = "Other CcInfo to merge in (libtorch_python's libtorch)."),
        "error": attr.string(doc = "When set: the cell has no libtorch, and analysis fails with this message."),
        "include": attr.string(default = "torch/include", doc = "The headers' directory in the tree; \"\": no headers (libtorch_python: libtorch's)."),
        "libraries": attr.string_list(doc = "The shared libraries to link, relative to site-packages."),
        "lock": attr.string(doc = "The lock's label, for messages."),
        "tree": attr.label(providers = [TorchCellInfo], doc = "The cell's installed tree (cell_tree)."),
        "_layout": attr.label(default = "//torch/private/tools:libtorch.py", allow_single_file = True),
    },
    fragments = ["cpp"],
    toolchains = use_cc_toolchain() + [_PYTHON_TOOLCHAIN],
)

def _extension_impl(ctx):
    torch = ctx.attr.libtorch[TorchCcInfo]
    cu = [f for f in ctx.files.srcs if f.extension == "cu"]
    if cu and not torch.cuda:
        fail("rules_torch: torch_cc_extension {}: {} {} CUDA source{} but @torch//:libtorch is cell {}, a CPU build. Build it with a CUDA variant (e.g. --config=cuda130), or move the CUDA code to a target that only CUDA configurations build (target_compatible_with, select).".format(
            ctx.label,
            ", ".join([f.short_path for f in cu]),
            "is a" if len(cu) == 1 else "are",
            "" if len(cu) == 1 else "s",
            torch.cell,
        ))
    cc_toolchain = find_cc_toolchain(ctx)
    features = _features(ctx, cc_toolchain)
    deps = [ctx.attr.libtorch[CcInfo]] + [d[CcInfo] for d in ctx.attr.deps]
    headers = [f for f in ctx.files.srcs if f.extension in ("h", "hpp", "cuh")]
    cu_objects = [_nvcc(ctx, torch, cc_toolchain, src, headers, deps) for src in cu]
    _, cc_outputs = cc_common.compile(
        name = ctx.label.name,
        actions = ctx.actions,
        feature_configuration = features,
        cc_toolchain = cc_toolchain,
        srcs = [f for f in ctx.files.srcs if f.extension not in ("h", "hpp", "cuh", "cu")],
        private_hdrs = headers,
        compilation_contexts = [d.compilation_context for d in deps],
        user_compile_flags = ["-std=" + torch.cxx_standard] + ctx.attr.copts,
        defines = ["TORCH_EXTENSION_NAME=" + ctx.label.name],
    )
    compilation_outputs = cc_common.merge_compilation_outputs(compilation_outputs = [
        cc_outputs,
        cc_common.create_compilation_outputs(objects = depset(cu_objects), pic_objects = depset(cu_objects)),
    ]) if cu_objects else cc_outputs
    linking_outputs = cc_common.link(
        name = ctx.label.name,
        actions = ctx.actions,
        feature_configuration = features,
        cc_toolchain = cc_toolchain,
        compilation_outputs = compilation_outputs,
        linking_contexts = [d.linking_context for d in deps],
        output_type = "dynamic_library",
        user_link_flags = ctx.attr.linkopts,
    )
    library = linking_outputs.library_to_link.resolved_symlink_dynamic_library or linking_outputs.library_to_link.dynamic_library

    # Python imports `<name>.so`; cc_common.link names it lib<name>.so.
    output = ctx.actions.declare_file(ctx.label.name + ".so")
    ctx.actions.symlink(output = output, target_file = library)
    solibs = [
        lib.dynamic_library
        for linker_input in depset(transitive = [d.linking_context.linker_inputs for d in deps]).to_list()
        for lib in linker_input.libraries
        if lib.dynamic_library
    ]
    runfiles = ctx.runfiles(files = [output, library] + solibs)
    for dep in ctx.attr.deps:
        runfiles = runfiles.merge(dep[DefaultInfo].default_runfiles)
    return [DefaultInfo(files = depset([output]), runfiles = runfiles)]

# nvcc from the cell's own NVIDIA wheels (nvidia-cuda-nvcc, locked with the lock tool's --with),
# found in the installed tree at build time: no system CUDA. The host compiler is the C++
# toolchain's.
_NVCC = """\
set -eu
tree=$1 cell=$2
shift 2
nvcc=
for candidate in "$tree"/nvidia/*/bin/nvcc; do
  if [ -x "$candidate" ]; then nvcc=$candidate; break; fi
done
if [ -z "$nvcc" ]; then
  echo "rules_torch: cell $cell has no nvcc: a torch_cc_extension with .cu sources compiles them with the nvcc of the cell's NVIDIA wheels. Lock them into the cell with the lock tool's --with, e.g. --with 'nvidia-cuda-nvcc==13.*' --with 'nvidia-cuda-crt==13.*' --with 'nvidia-nvvm==13.*' (the CUDA major of the variant)." >&2
  exit 1
fi
exec "$nvcc" "$@"
"""

def _nvcc(ctx, torch, cc_toolchain, src, headers, deps):
    """Compiles one .cu source with the cell's nvcc into a position-independent object."""
    obj = ctx.actions.declare_file("_objs/{}/{}.pic.o".format(ctx.label.name, src.basename[:-len(".cu")]))
    contexts = [d.compilation_context for d in deps]
    args = ctx.actions.args()
    args.add(_NVCC)
    args.add("nvcc")
    args.add(torch.site_packages.path)
    args.add(torch.cell)
    args.add_all(["-ccbin", cc_toolchain.compiler_executable])
    args.add("-std=" + torch.cxx_standard)
    args.add_all(["-Xcompiler", "-fPIC"])
    args.add_all(depset(transitive = [c.defines for c in contexts]), format_each = "-D%s")
    args.add("-DTORCH_EXTENSION_NAME=" + ctx.label.name)
    args.add_all(depset(transitive = [c.system_includes for c in contexts] + [c.includes for c in contexts]), format_each = "-I%s")
    args.add_all(depset(transitive = [c.quote_includes for c in contexts]), format_each = "-I%s")
    args.add_all(ctx.attr.nvcc_opts)
    args.add_all(["-c", src, "-o", obj])
    ctx.actions.run(
        executable = "/bin/sh",
        arguments = ["-c", args],
        inputs = depset([src, torch.site_packages] + headers, transitive = [c.headers for c in contexts] + [cc_toolchain.all_files]),
        outputs = [obj],
        mnemonic = "TorchNvcc",
        progress_message = "Compiling {} with the nvcc of cell {}".format(src.short_path, torch.cell),
        # nvcc runs the host compiler, and that its assembler, from PATH.
        use_default_shell_env = True,
        # nvcc drives the C++ toolchain's compiler (automatic exec groups, Bazel 9).
        toolchain = CC_TOOLCHAIN_TYPE,
    )
    return obj

torch_cc_extension_rule = rule(
    implementation = _extension_impl,
    doc = "The rule behind torch_cc_extension (torch/defs.bzl).",
    attrs = {
        "copts": attr.string_list(),
        "deps": attr.label_list(providers = [CcInfo]),
        "libtorch": attr.label(mandatory = True, providers = [CcInfo, TorchCcInfo]),
        "linkopts": attr.string_list(),
        "nvcc_opts": attr.string_list(),
        "srcs": attr.label_list(allow_files = [".cc", ".cpp", ".cxx", ".c", ".h", ".hpp", ".cu", ".cuh"]),
    },
    fragments = ["cpp"],
    toolchains = use_cc_toolchain(),
)
