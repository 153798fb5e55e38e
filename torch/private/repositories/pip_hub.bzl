"""The hub of torch.from_pip: one @<hub> over the user's per-variant rules_python pip hubs."""

load("//torch/private/contracts:labels.bzl", "pip_hub_source", "selection_key")
load("//torch/private/contracts:no_match.bzl", "fix_table", "no_match")
load("//torch/private/lock:variants.bzl", "config_name")
load(":hub.bzl", "hub_build_file", "requirements_bzl")

def pip_package_dir(name):
    """The package of a project in a rules_python pip hub: `@pypi//typing_extensions`.

    Args:
      name: a project name (typing-extensions, Jinja2).

    Returns:
      The hub's package name (typing_extensions, jinja2).
    """
    return name.lower().replace("-", "_").replace(".", "_")

def pip_hub_fixes(hub, default_variant):
    """The fix lines of a torch.from_pip hub's no-match target: map the variant asked for.

    Args:
      hub: the hub's name.
      default_variant: its default_variant ("" for none: then no variant may be asked).

    Returns:
      contracts/no_match.bzl's fix_table.
    """

    def render(variant, _platform):
        shown = variant or "<variant>"
        return "to build it, map the variant to a pip hub: torch.from_pip(hub = \"{}\", variants = {{..., \"{}\": \"@pypi_{}\"}})".format(hub, shown, shown)

    return fix_table(render, variants = [] if default_variant else [""], platforms = [])

def _check_pip_hub(rctx, variant, repo, shown, packages):
    """Fails unless repo is a rules_python pip hub that has every package."""
    requirements = rctx.path(Label("@@{}//:requirements.bzl".format(repo)))
    if not requirements.exists:
        fail((
            "rules_torch: torch.from_pip(hub = \"{hub}\") maps variant '{variant}' to {shown}, which is not a " +
            "rules_python pip hub (it has no requirements.bzl). Map each variant to the hub_name (name on " +
            "rules_python < 0.24) of a pip.parse call: variants = {{\"{variant}\": \"@pypi_{variant}\"}}."
        ).format(hub = rctx.attr.hub, variant = variant, shown = shown))
    listing = rctx.read(requirements)
    for package in packages:
        directory = pip_package_dir(package)

        # A package directory (generated aliases, rules_python >= 0.22 with
        # incompatible_generate_aliases) or a mention in requirements.bzl (older layouts).
        if not requirements.dirname.get_child(directory).get_child("BUILD.bazel").exists and ("_{}//".format(directory) not in listing):
            fail((
                "rules_torch: torch.from_pip(hub = \"{hub}\"): pip hub {shown} (variant '{variant}') has no package " +
                "'{package}'. Add it to that pip.parse call's requirements (the lock tool writes them: bazel run " +
                "@rules_torch//python:lock -- ... --variants {variant} --requirements-dir <dir>), or drop it from packages."
            ).format(hub = rctx.attr.hub, shown = shown, variant = variant, package = package))

def _pip_hub_impl(rctx):
    spokes = {}
    for variant, repo in rctx.attr.variants.items():
        _check_pip_hub(rctx, variant, repo, rctx.attr.shown[variant], rctx.attr.packages)
        spokes[selection_key(variant, "")] = pip_hub_source(repo)
    variants = sorted(rctx.attr.variants)
    example = rctx.attr.default_variant or variants[0]
    rctx.file("BUILD.bazel", hub_build_file(
        hub = rctx.attr.hub,
        spokes = spokes,
        default_variant = rctx.attr.default_variant,
        packages = [pip_package_dir(p) for p in rctx.attr.packages],
        no_match = no_match(
            hub = rctx.attr.hub,
            lock = "torch.from_pip(hub = \"{}\")".format(rctx.attr.hub),
            cells = variants,
            example_config = config_name(example),
            example_variant = example,
        ),
        fixes = {"": pip_hub_fixes(rctx.attr.hub, rctx.attr.default_variant)},
    ))
    rctx.file("requirements.bzl", requirements_bzl(rctx.attr.hub, {pip_package_dir(p).replace("_", "-"): pip_package_dir(p) for p in rctx.attr.packages}))

pip_hub = repository_rule(
    implementation = _pip_hub_impl,
    doc = "Aliases @<hub>//<package> to the user's pip hub of the selected variant, after checking those hubs.",
    attrs = {
        "default_variant": attr.string(),
        "hub": attr.string(mandatory = True),
        "packages": attr.string_list(mandatory = True),
        "shown": attr.string_dict(doc = "variant -> the label as the user wrote it, for messages"),
        "variants": attr.string_dict(mandatory = True, doc = "variant -> canonical name of a pip hub repository"),
    },
)
