from .seg import *
