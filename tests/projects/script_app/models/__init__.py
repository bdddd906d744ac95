from .net import TwoHeads, build
