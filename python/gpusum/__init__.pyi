from typing import Any

__version__: str

class BackendUnavailable(RuntimeError): ...
class MismatchError(ArithmeticError): ...

class Result:
    sum: int | float
    expected: int | float
    error_bound: float
    check: str
    verified: bool
    backend: str
    reason: str
    notes: list[str]
    elements: int
    seconds: dict[str, float]
    elements_per_second: float

def run(
    obj: range | Any,
    *,
    backend: str = "auto",
    workers: int | None = None,
    chunks: int | None = None,
    device: int | None = None,
) -> Result: ...
def sum(
    obj: range | Any,
    *,
    backend: str = "auto",
    workers: int | None = None,
    chunks: int | None = None,
    device: int | None = None,
) -> int | float: ...
