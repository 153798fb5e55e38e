"""bazel run //:train -- prints the torch build, the device it trained on, and the accuracy."""

import sys

import torch

from model import pick_device, train


def main() -> int:
    device = pick_device()
    build = f"CUDA {torch.version.cuda} build" if torch.version.cuda else "CPU build"
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "no CUDA device"
    print(f"torch {torch.__version__} ({build}); training on {device} ({name})")
    _, accuracy = train(device)
    print(f"training accuracy: {accuracy:.3f}")
    return 0 if accuracy > 0.95 else 1


if __name__ == "__main__":
    sys.exit(main())
