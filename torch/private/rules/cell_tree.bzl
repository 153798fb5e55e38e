"""A cell's installed tree as a build output: one directory artifact, made by an action.

The spoke repository only downloads the wheels of its cell. This rule's action installs them
into `site-packages/` with the Python toolchain's interpreter (pycs for the cell's Python), so
that:
- a test's runfiles hold the tree as ONE entry (a directory), whatever the number of files;
- the tree is an action output, kept by the action cache, `--disk_cache` and a remote cache: a
  fresh output base gets it without extracting again, and under remote execution with
  `--remote_download_minimal` it need never come to the local disk;
- fetching runs no interpreter of the host's.
"""

load(":layer.bzl", "write_layer")
load(":python_toolchain.bzl", "PYTHON_TOOLCHAIN", "toolchain_interpreter")

# The stamp's name inside the tree (extract_wheels.py's STAMP_NAME).
STAMP_NAME = ".rules_torch_stamp"

TorchCellInfo = provider(
    doc = """The installed tree of one lock cell.

A torch_py_test does not stage `site_packages` (a sandbox or a remote worker would stage it file
by file): it stages `ready`, `lib_dirs` and the installer (`wheels`, `extractor`), reads the tree
where the install action left it, and installs the wheels itself where that tree is not on the
disk (remote execution: the worker has only what the test stages).""",
    fields = {
        "cell": "string: the lock cell key (cpu_linux_x86_64_cp311), for messages",
        "extractor": "File: the program that installs `wheels` into a tree (extract_wheels.py)",
        "identity": "struct(stamp: File, lib_dirs: File): `stamp` and `lib_dirs` again, computed from the wheels alone (their zip directories) by an action that installs nothing: what a test with a machine's tree cache (//torch:tree_cache) stages, so that the install action need not run or be fetched from a cache for it",
        "interpreter": "File or None: the cell's `python_interpreter_target`, which installs the tree and runs its venv (None: the Python toolchain's interpreter)",
        "layers": "struct(cuda: File or None, torch: File): the tree as container image layers, built only when an image asks for them (torch_py_image_layers): its nvidia/ directory (CUDA cells; None otherwise) and the rest, at /opt/rules_torch/<cell>-<stamp>/ in the image. One copy per cell, shared by every image on it.",
        "lib_dirs": "File: the directories of site_packages that hold shared libraries, one per line, relative to it",
        "python": "string: the Python (major.minor) the cell is locked for; its interpreter must be that one",
        "ready": "File: the stamp again, written by an action that takes `site_packages` as its input and runs wherever its test runs: what a test stages instead of the tree. Bazel makes the tree whole on that machine's disk before the action, so a test that stages `ready` never starts before the tree beside it is written, whatever the download mode or cache it came from.",
        "site_packages": "File: the site-packages directory (a tree artifact)",
        "stamp": "File: the tree's identity (one line), written beside it and inside it by the same action",
        "wheels": "depset of File: the cell's wheels, in install order",
    },
)

def _interpreter(ctx):
    """(executable: File or path string, tools: depset) that runs the extractor."""
    if ctx.attr.interpreter:
        return ctx.executable.interpreter, depset()
    return toolchain_interpreter(ctx)

def _cell_tree_impl(ctx):
    site_packages = ctx.actions.declare_directory("site-packages")
    data = ctx.actions.declare_directory("data")
    lib_dirs = ctx.actions.declare_file("lib_dirs.txt")
    stamp = ctx.actions.declare_file("site-packages.stamp")
    interpreter, tools = _interpreter(ctx)
    what = "the wheels of cell {} (lock {})".format(ctx.attr.cell, ctx.attr.lock)
    args = ctx.actions.args()
    args.add(ctx.file._extractor)
    args.add("--dest", site_packages.path)
    args.add("--data-dir", data.path)
    args.add("--lib-dirs", lib_dirs)
    args.add("--stamp", stamp)
    args.add("--what", what)
    if ctx.attr.compile_pyc:
        args.add("--compile", ctx.attr.python)
    args.add_all(ctx.files.wheels)
    ctx.actions.run(
        executable = interpreter,
        arguments = [args],
        inputs = depset([ctx.file._extractor] + ctx.files.wheels),
        tools = tools,
        outputs = [site_packages, data, lib_dirs, stamp],
        mnemonic = "TorchInstallCell",
        progress_message = "Installing {} wheels of cell {}".format(len(ctx.files.wheels), ctx.attr.cell),
        # The interpreter is the Python toolchain's (automatic exec groups, Bazel 9).
        toolchain = PYTHON_TOOLCHAIN,
    )
    ready = _ready(ctx, site_packages, stamp)
    identity = _identity(ctx, interpreter, tools)
    return [
        DefaultInfo(files = depset([site_packages]), runfiles = ctx.runfiles(files = [site_packages, lib_dirs, stamp])),
        TorchCellInfo(
            cell = ctx.attr.cell,
            extractor = ctx.file._extractor,
            interpreter = ctx.executable.interpreter if ctx.attr.interpreter else None,
            layers = _layers(ctx, site_packages, lib_dirs, stamp, (interpreter, tools)),
            lib_dirs = lib_dirs,
            python = ctx.attr.python,
            ready = ready,
            identity = identity,
            site_packages = site_packages,
            stamp = stamp,
            wheels = depset(ctx.files.wheels, order = "preorder"),
        ),
    ]

def _identity(ctx, interpreter, tools):
    """The tree's stamp and lib_dirs.txt, made without installing the tree.

    extract_wheels.py --stamp-only, with the install's interpreter and arguments, writes the same
    bytes: a test reading a machine's tree cache needs no install action, not even its cache entry
    (a 20,000-file tree's metadata).
    """
    stamp = ctx.actions.declare_file("site-packages.id")
    lib_dirs = ctx.actions.declare_file("lib_dirs.id.txt")
    args = ctx.actions.args()
    args.add(ctx.file._extractor)
    args.add("--stamp-only")
    args.add("--stamp", stamp)
    args.add("--lib-dirs", lib_dirs)
    if ctx.attr.compile_pyc:
        args.add("--compile", ctx.attr.python)
    args.add_all(ctx.files.wheels)
    ctx.actions.run(
        executable = interpreter,
        arguments = [args],
        inputs = depset([ctx.file._extractor] + ctx.files.wheels),
        tools = tools,
        outputs = [stamp, lib_dirs],
        mnemonic = "TorchCellStamp",
        progress_message = "Reading the wheels of cell {}".format(ctx.attr.cell),
        toolchain = PYTHON_TOOLCHAIN,
    )
    return struct(stamp = stamp, lib_dirs = lib_dirs)

def _ready(ctx, site_packages, stamp):
    """The tree's ticket: the stamp, copied by an action whose input is the tree.

    A test that read the tree without declaring it would find it missing where the install
    action's result came from a disk or remote cache (Bazel downloads only what an action executed
    here, or a top-level target, needs), or half-written while Bazel downloads it for another
    target. Taking the tree as an input makes Bazel write the whole tree before this action, once
    for every test of the cell; the action itself copies 65 bytes. It is never taken from a cache
    (a cache hit would skip the download it exists for) and runs unsandboxed (a sandbox would link
    every file of the tree). Under remote execution it runs on the worker like its tests, so a
    client that builds without the bytes still downloads no tree.
    """
    ready = ctx.actions.declare_file("site-packages.ready")
    ctx.actions.run_shell(
        command = 'cmp -s "$1" "$2/{stamp_name}" || {{ echo "rules_torch: the tree $2 does not hold the stamp $1: it was changed after it was installed; run the build again to reinstall it" >&2; exit 1; }}; cp "$1" "$3"'.format(stamp_name = STAMP_NAME),
        arguments = [stamp.path, site_packages.path, ready.path],
        inputs = [stamp, site_packages],
        outputs = [ready],
        mnemonic = "TorchCellReady",
        progress_message = "Checking the tree of cell {}".format(ctx.attr.cell),
        execution_requirements = {"no-cache": "1", "no-sandbox": "1"},
    )
    return ready

def _layers(ctx, site_packages, lib_dirs, stamp, interpreter):
    """The cell's image layers: declared here, so that every image on the cell shares one copy."""
    home = "{}\t{}".format(ctx.attr.cell, stamp.path)
    cuda = None
    if ctx.attr.cell.partition("_")[0].startswith("cu"):
        cuda = ctx.actions.declare_file("image_layers/cuda.tar")
        write_layer(
            ctx,
            cuda,
            ["tree\t{}\t{}\tcuda".format(home, site_packages.path)],
            depset([site_packages, stamp]),
            "the cuda layer of cell {}".format(ctx.attr.cell),
            ctx.file._layer_tool,
            interpreter,
        )
    torch = ctx.actions.declare_file("image_layers/torch.tar")
    write_layer(
        ctx,
        torch,
        [
            "tree\t{}\t{}\ttorch".format(home, site_packages.path),
            "beside\t{}\t{}".format(home, stamp.path),
            "beside\t{}\t{}".format(home, lib_dirs.path),
        ],
        depset([site_packages, stamp, lib_dirs]),
        "the torch layer of cell {}".format(ctx.attr.cell),
        ctx.file._layer_tool,
        interpreter,
    )
    return struct(cuda = cuda, torch = torch)

def _tree_transition_impl(_settings, _attr):
    return {"//command_line_option:compilation_mode": "fastbuild"}

# The tree is the same bytes whatever the build's C++ or optimization flags: build it in one
# configuration, so that `-c opt` (or dbg) reuses the tree instead of installing a second copy.
_tree_transition = transition(
    implementation = _tree_transition_impl,
    inputs = [],
    outputs = ["//command_line_option:compilation_mode"],
)

cell_tree = rule(
    cfg = _tree_transition,
    implementation = _cell_tree_impl,
    doc = "Installs a cell's wheels into one site-packages directory (a tree artifact).",
    attrs = {
        "cell": attr.string(mandatory = True, doc = "The lock cell key, for messages."),
        "compile_pyc": attr.bool(default = True, doc = "Byte-compile when the interpreter's version is `python`."),
        "interpreter": attr.label(
            allow_single_file = True,
            executable = True,
            cfg = "exec",
            doc = "Runs the extractor instead of the Python toolchain's interpreter.",
        ),
        "lock": attr.string(mandatory = True, doc = "The lock's label, for messages."),
        "python": attr.string(mandatory = True, doc = "The cell's Python version, major.minor."),
        "wheels": attr.label_list(allow_files = [".whl"], mandatory = True, doc = "The cell's wheels."),
        "_extractor": attr.label(default = "//torch/private/tools:extract_wheels.py", allow_single_file = True),
        "_layer_tool": attr.label(default = "//torch/private/tools:image_layers.py", allow_single_file = True),
    },
    toolchains = [PYTHON_TOOLCHAIN],
    provides = [TorchCellInfo],
)
