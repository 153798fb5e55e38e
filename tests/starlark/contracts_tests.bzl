"""Unit tests of what passes between the phases (torch/private/contracts/): a hub's fix table, made
at generation and read at analysis (no_match.bzl), and the shell words of commands and launchers
(shell.bzl)."""

load("@bazel_skylib//lib:unittest.bzl", "asserts", "unittest")

# buildifier: disable=bzl-visibility
load("//torch/private/contracts:no_match.bzl", "fix_line", "fix_table")

# buildifier: disable=bzl-visibility
load("//torch/private/contracts:shell.bzl", "shell_word")

# buildifier: disable=bzl-visibility
load("//torch/private/repositories:pip_hub.bzl", "pip_hub_fixes")

def _add(items, item):
    return items + ([item] if item and item not in items else [])

def _render(variant, platform):
    """A line as a lock command writes it: the request's lists, plus what was asked."""
    return "lock --index {{x}}/{} --variants {} --platforms {}".format(
        variant or "none",
        ",".join(_add(["cpu", "cu121"], variant)),
        ",".join(_add(["linux_x86_64"], platform)),
    )

def _fix_table_test(ctx):
    """fix_line gives render's line for any request, from a table of the lines it cannot make."""
    env = unittest.begin(ctx)
    table = fix_table(_render, variants = ["", "cpu", "cu121"], platforms = ["", "linux_x86_64"], locked = [("cpu", "linux_x86_64")])
    for variant in ["", "cpu", "cu121", "cu130", "a{b}c"]:
        for platform in ["", "linux_x86_64", "linux_aarch64", "windows_aarch64"]:
            if (variant, platform) != ("cpu", "linux_x86_64"):
                asserts.equals(env, _render(variant, platform), fix_line(table, variant, platform), (variant, platform))

    # Kept: the template of any value, and the lines of values a list has; literal braces doubled.
    asserts.equals(env, "lock --index {{x}}/{variant} --variants cpu,cu121,{variant} --platforms linux_x86_64,{platform}", table["*|*"])
    asserts.equals(env, ["*|", "*|*", "*|linux_x86_64", "cpu|", "cpu|*", "cu121|", "cu121|*", "cu121|linux_x86_64", "|", "|*", "|linux_x86_64"], table.keys())

    # A locked request is never asked: the table has no line made for it.
    asserts.equals(env, "lock --index {x}/cpu --variants cpu,cu121 --platforms linux_x86_64,linux_x86_64", fix_line(table, "cpu", "linux_x86_64"))
    return unittest.end(env)

def _pip_hub_fixes_test(ctx):
    """A torch.from_pip hub's fix maps the variant asked for, whatever the platform."""
    env = unittest.begin(ctx)
    fixes = pip_hub_fixes("torch", "cpu")
    asserts.equals(env, {"*|*": 'to build it, map the variant to a pip hub: torch.from_pip(hub = "torch", variants = {{..., "{variant}": "@pypi_{variant}"}})'}, fixes)
    asserts.equals(env, 'to build it, map the variant to a pip hub: torch.from_pip(hub = "torch", variants = {..., "cu118": "@pypi_cu118"})', fix_line(fixes, "cu118", "linux_x86_64"))

    # No default variant: a build may ask for none.
    asserts.equals(env, 'to build it, map the variant to a pip hub: torch.from_pip(hub = "torch", variants = {..., "<variant>": "@pypi_<variant>"})', fix_line(pip_hub_fixes("torch", ""), "", ""))
    return unittest.end(env)

def _shell_word_test(ctx):
    env = unittest.begin(ctx)
    asserts.equals(env, "third_party/torch.lock.json", shell_word("third_party/torch.lock.json"))
    asserts.equals(env, "'my locks/t.json'", shell_word("my locks/t.json"))
    asserts.equals(env, "'it'\"'\"'s'", shell_word("it's"))
    asserts.equals(env, "''", shell_word(""))
    asserts.equals(env, "'rules_torch~~torch~x/a.launch'", shell_word("rules_torch~~torch~x/a.launch"))
    return unittest.end(env)

fix_table_test = unittest.make(_fix_table_test)
pip_hub_fixes_test = unittest.make(_pip_hub_fixes_test)
shell_word_test = unittest.make(_shell_word_test)

def contracts_test_suite(name):
    unittest.suite(name, fix_table_test, pip_hub_fixes_test, shell_word_test)
