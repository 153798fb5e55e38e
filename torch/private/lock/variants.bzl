"""Variant names: .bazelrc config names and the `auto` default variant."""

# The oldest Linux driver each CUDA major release runs on (minor-version compatibility), from
# NVIDIA's CUDA compatibility tables. A driver at least this new runs any wheel of that major.
_CUDA_MAJOR_MIN_DRIVER = {
    "11": [450, 80, 2],
    "12": [525, 60, 13],
    "13": [580, 65, 6],
}

def config_name(variant):
    """The .bazelrc config that selects a variant: cu118 -> cuda118, cpu -> cpu, rocm6.2 -> rocm6.2.

    Args:
      variant: a variant name.

    Returns:
      The config name.
    """
    if variant.startswith("cu") and variant[2:].isdigit():
        return "cuda" + variant[2:]
    return variant

def cuda_needs(variant):
    """The CUDA release a variant is built for and the oldest driver that runs it.

    Args:
      variant: a variant name (cu130, cpu, rocm6.2, ...).

    Returns:
      struct(cuda = "13.0", min_driver = "580.65.06"), or None for a variant that is not CUDA.
    """
    if not (variant.startswith("cu") and variant[2:].isdigit() and len(variant) >= 5):
        return None
    minimum = _CUDA_MAJOR_MIN_DRIVER.get(variant[2:-1])
    return struct(
        cuda = "{}.{}".format(variant[2:-1], variant[-1]),
        # NVIDIA writes the third part with two digits: 580.65.06.
        min_driver = "{}.{}.{}".format(minimum[0], minimum[1], ("0" if minimum[2] < 10 else "") + str(minimum[2])) if minimum else "",
    )

def _version_tuple(text):
    parts = []
    for part in text.split("."):
        if not part.isdigit():
            return None
        parts.append(int(part))
    return parts

def pick_auto_variant(driver_version, locked_variants):
    """The variant `default_variant = "auto"` resolves to.

    Args:
      driver_version: the NVIDIA driver version ("580.65.06"), or "" when there is none.
      locked_variants: the variants in the lock.

    Returns:
      The newest locked CUDA variant the driver supports; else "cpu" when locked; else the
      first locked variant.
    """
    driver = _version_tuple(driver_version) if driver_version else None
    best = None
    if driver:
        for variant in locked_variants:
            if not (variant.startswith("cu") and variant[2:].isdigit() and len(variant) >= 5):
                continue
            major = variant[2:-1]
            minimum = _CUDA_MAJOR_MIN_DRIVER.get(major)
            if minimum == None or driver < minimum:
                continue
            if best == None or int(variant[2:]) > int(best[2:]):
                best = variant
    if best:
        return best
    if "cpu" in locked_variants:
        return "cpu"
    return locked_variants[0]
