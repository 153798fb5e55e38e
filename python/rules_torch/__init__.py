"""rules_torch's Python side: the lock tool (``python3 -m rules_torch.lock``) and its schema."""

__version__ = "0.1.0"
