from typing import Callable, Dict, List, Optional

_MODELS: Dict[str, Callable] = {}


def register_model(name: Optional[str] = None) -> Callable[[Callable], Callable]:
    def wrapper(fn: Callable) -> Callable:
        _MODELS[name or fn.__name__] = fn
        return fn

    return wrapper


def list_models() -> List[str]:
    return sorted(_MODELS)
