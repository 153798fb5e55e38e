"""bazel run //:main -- prints the torch build and a model fitted on the CPU (or GPU)."""

import sys

import torch

from model import fit


def main() -> int:
    device = "cuda" if torch.cuda.is_available() else "cpu"
    print(f"torch {torch.__version__} on {device} (CUDA available: {torch.cuda.is_available()})")
    layer = fit()
    weight, bias = layer.weight.item(), layer.bias.item()
    print(f"fitted y = {weight:.3f} * x + {bias:.3f} (expected y = 2 * x + 1)")
    return 0 if abs(weight - 2) < 1e-2 and abs(bias - 1) < 1e-2 else 1


if __name__ == "__main__":
    sys.exit(main())
