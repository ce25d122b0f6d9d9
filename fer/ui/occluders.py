"""The occluder controls: which kinds the picker lists and what "placement" means for each.

`fer.occlusion` occluders take their own parameters; the demo exposes the one that places the
occluder: `side` (hands, objects: left / right / random) or `region` (a block in one of the
model's four regions).
"""

from __future__ import annotations

from fer.regions import REGION_CODES

NO_OCCLUDER = "none"
RANDOM = "random"
PLACEMENT_PARAMS: dict[str, tuple[str, ...]] = {
    "side": (RANDOM, "left", "right"),
    "region": (*REGION_CODES, RANDOM),
}
HIDDEN_KINDS = ("user",)  # the user occluder is the brush, not a menu entry


def occluder_kinds() -> list[str]:
    from fer.occlusion import list_occluders

    return [NO_OCCLUDER, *(k for k in list_occluders() if k not in HIDDEN_KINDS)]


def _placement_param(kind: str | None) -> str | None:
    if not kind or kind == NO_OCCLUDER:
        return None
    from fer.occlusion import occluder_info

    params = occluder_info(kind).params
    return next((p for p in PLACEMENT_PARAMS if p in params), None)


def placement_choices(kind: str | None) -> list[str]:
    """The placement choices of an occluder ([] when it has none)."""
    param = _placement_param(kind)
    return list(PLACEMENT_PARAMS[param]) if param else []


def placement_params(kind: str | None, placement: str | None) -> dict:
    """Keyword arguments for `fer.occlusion.apply` from the placement picker's value."""
    param = _placement_param(kind)
    if not param or not placement or placement not in PLACEMENT_PARAMS[param]:
        return {}
    if param == "region" and placement == RANDOM:
        return {"region": None}
    return {param: placement}
