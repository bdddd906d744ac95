import sys
from typing import Callable, Dict, List, Optional

_MODELS: Dict[str, Callable] = {}


def register_model(name: Optional[str] = None) -> Callable[[Callable], Callable]:
    def wrapper(fn: Callable) -> Callable:
        _MODELS[name or fn.__name__] = fn
        exported = getattr(sys.modules[fn.__module__], "__all__", None)
        if exported is not None:  # like timm: a registered factory is public
            exported.append(fn.__name__)
        return fn

    return wrapper


def list_models() -> List[str]:
    return sorted(_MODELS)
