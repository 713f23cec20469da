# The compiled core; the gpusum package (__init__.py, annotated inline) is the API.
from typing import Any

version: str
has_cuda: bool

class BackendUnavailable(RuntimeError): ...
class MismatchError(ArithmeticError): ...

def sum_range(
    start: int, stop: int, step: int, backend: str, workers: int, chunks: int, device: int
) -> dict[str, Any]: ...
def sum_array(
    array: Any, backend: str, workers: int, chunks: int, device: int
) -> dict[str, Any]: ...
def sum_array_value(
    array: Any, backend: str, workers: int, chunks: int, device: int
) -> int | float: ...
def range_warning(
    start: int, stop: int, step: int, backend: str, workers: int, chunks: int, device: int
) -> str: ...
