"""Prints the torch build: a second program whose image shares main's torch layer."""

import torch

print(f"torch {torch.__version__}")
