import functools
from typing import Any, Callable, Dict, Tuple


def handle_legacy_interface(**renames: Tuple[str, Any]) -> Callable[[Callable], Callable]:
    """Accepts the old spelling of a keyword (pretrained=True) and maps it onto the new one."""

    def outer(builder: Callable) -> Callable:
        @functools.wraps(builder)
        def inner(*args: Any, **kwargs: Any) -> Any:
            for new, (old, default) in renames.items():
                if old in kwargs:
                    kwargs[new] = default if kwargs.pop(old) else None
            return builder(*args, **kwargs)

        return inner

    return outer


def _overwrite(kwargs: Dict[str, Any], name: str, value: Any) -> None:
    kwargs[name] = value
