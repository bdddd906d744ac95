from .auxnet import *
from .twohead import *
from .distilled import *
from . import segmentation
from ._api import list_models
