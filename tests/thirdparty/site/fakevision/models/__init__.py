from .auxnet import *
from .twohead import *
from . import segmentation
from ._api import list_models
