"""flake8-ddp-unused: find PyTorch parameters that DistributedDataParallel will wait for forever."""
__version__ = "0.1.0"
