"""The Python toolchain as the rules use it: its type, and its interpreter for a tool's action."""

PYTHON_TOOLCHAIN = "@bazel_tools//tools/python:toolchain_type"

def toolchain_interpreter(ctx):
    """The Python toolchain's interpreter, to run a tool in an action.

    Args:
      ctx: the context of a rule that has the Python toolchain.

    Returns:
      (executable: File or path string, its files: depset).
    """
    runtime = ctx.toolchains[PYTHON_TOOLCHAIN].py3_runtime
    if runtime.interpreter:
        return runtime.interpreter, runtime.files
    return runtime.interpreter_path, depset()
