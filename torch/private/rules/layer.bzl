"""The action that writes one container image layer (a deterministic tar) from a spec.

Shared by cell_tree.bzl (a cell's cuda and torch layers: one copy per cell, whatever the number of
images) and image_layers.bzl (a binary's deps, interpreter and app layers). The spec's format is
image_layers.py's. The interpreter that runs such a tool (toolchain_interpreter) is also cc.bzl's.
"""

_PYTHON_TOOLCHAIN = "@bazel_tools//tools/python:toolchain_type"

def toolchain_interpreter(ctx):
    """The Python toolchain's interpreter, to run a tool in an action.

    Args:
      ctx: the context of a rule that has the Python toolchain.

    Returns:
      (executable: File or path string, its files: depset).
    """
    runtime = ctx.toolchains[_PYTHON_TOOLCHAIN].py3_runtime
    if runtime.interpreter:
        return runtime.interpreter, runtime.files
    return runtime.interpreter_path, depset()

def write_layer(ctx, out, lines, inputs, what, tool, interpreter, warn_mb = 200):
    """Registers the action that writes layer `out` from spec `lines`.

    Args:
      ctx: the rule's context (its rule has the Python toolchain).
      out: the layer's tar (a declared File).
      lines: the spec's lines (see image_layers.py).
      inputs: depset of the files the spec names.
      what: the layer, for messages ("the torch layer of cell ...").
      tool: image_layers.py.
      interpreter: (executable: File or path string, its files: depset) that runs the tool.
      warn_mb: warn when the layer is larger (MB); 0: never.
    """
    spec = ctx.actions.declare_file(out.basename[:-len(".tar")] + ".spec", sibling = out)
    ctx.actions.write(spec, "".join([line + "\n" for line in lines]))
    executable, files = interpreter
    args = ctx.actions.args()
    args.add(tool)
    args.add("--spec", spec)
    args.add("--output", out)
    args.add("--what", what)
    args.add("--warn-mb", warn_mb)
    ctx.actions.run(
        executable = executable,
        arguments = [args],
        inputs = depset([spec, tool], transitive = [inputs]),
        tools = files,
        outputs = [out],
        mnemonic = "TorchImageLayer",
        progress_message = "Writing " + what,
        # A cell's tree is read where the install action left it (its symlinks and hardlinks are
        # the tree's own); a sandbox would stage it one symlink per file (20,000 for CUDA torch).
        execution_requirements = {"no-sandbox": "1"},
        # The interpreter is the Python toolchain's (automatic exec groups, Bazel 9).
        toolchain = _PYTHON_TOOLCHAIN,
    )
