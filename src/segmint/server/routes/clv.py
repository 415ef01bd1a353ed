"""``/api/clv/fit``: lifetime-value models fitted on the store's purchases (``segmint clv fit``)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query

from segmint.insights.clv import fit
from segmint.segments.evaluate import now_utc
from segmint.server.deps import CanRead, Conn
from segmint.server.schemas import timestamp_param

router = APIRouter(prefix="/api/clv", tags=["lifetime value"])


@router.get("/fit")
def clv_fit(
    store: Conn,
    _: CanRead,
    model: Annotated[
        Literal["bgnbd", "pareto_nbd", "gamma_gamma"],
        Query(description="bgnbd (BG/NBD), pareto_nbd (Pareto/NBD) or gamma_gamma (Gamma-Gamma)."),
    ] = "bgnbd",
    as_of: Annotated[
        str | None, Query(max_length=64, description="End of the calibration period (ISO 8601). Default: now.")
    ] = None,
    unit: Annotated[Literal["day", "week"], Query(description="Time unit of the parameters.")] = "week",
) -> dict[str, Any]:
    """Fit the model by maximum likelihood on the purchase events up to ``as_of``: parameters and log-likelihood.

    The keys are those of ``segmint clv fit --json``: ``r``, ``alpha``, ``a``, ``b`` (BG/NBD); ``r``,
    ``alpha``, ``s``, ``beta`` (Pareto/NBD); ``p``, ``q``, ``gamma`` (Gamma-Gamma); ``log_likelihood``.
    Too few purchases to fit is a 422 with the reason.
    """
    when = timestamp_param(as_of, "as_of") or now_utc()
    return {"ok": True, **fit(store, model=model, as_of=when, unit=unit).to_dict()}
