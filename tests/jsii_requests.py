"""Record the requests Python sends to jsii's Node kernel (each a round trip), as bench/roundtrips.py counts them."""

from collections.abc import Iterator
from contextlib import contextmanager

from jsii._kernel.providers.process import _NodeProcess


def describe(request: object) -> str:
    """`Create`, `Get id`, `StaticInvoke of`, `Invoke overrideLogicalId`... (the request kind and what it names)."""
    kind = type(request).__name__.removesuffix("Request").lstrip("_")
    detail = getattr(request, "property", None) or getattr(request, "method", None) or ""
    return f"{kind} {detail}".strip()


@contextmanager
def recorded_requests() -> Iterator[list[object]]:
    """Every kernel request sent inside the block, in order (the list fills as they are sent)."""
    requests: list[object] = []
    real_send = _NodeProcess.send

    def send(self, request, response_type):  # type: ignore[no-untyped-def]
        requests.append(request)
        return real_send(self, request, response_type)

    _NodeProcess.send = send  # type: ignore[method-assign]
    try:
        yield requests
    finally:
        _NodeProcess.send = real_send  # type: ignore[method-assign]


def repeated_reads(requests: list[object]) -> list[str]:
    """`<object ref>.<property>` of each attribute read more than once (a token that could have been passed on)."""
    reads = [f"{r.objref.ref}.{r.property}" for r in requests if type(r).__name__ == "GetRequest"]  # type: ignore[attr-defined]
    return sorted({read for read in reads if reads.count(read) > 1})
