"""`GET/PUT /api/v1/sensors/{sensor}/calibration`: a sensor's entry in the calibration register. Every staff role
reads it; facilities (and admin) edit it. A refused body is one line naming each bad field, e.g.
`calibration_interval_days: Input should be greater than 0`."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute

from server.accounts.auth import Principal, StaffDep, require_user
from server.calibration.due import Register, overdue, problem, utc_date
from server.calibration.models import Calibration
from server.calibration.schemas import CalibrationIn, CalibrationOut
from server.calibration.service import entry, register_of, set_from_api
from server.series.models import Sensor
from server.series.sensors import find_sensor
from server.services import ServicesDep, SessionDep

FacilitiesDep = Annotated[Principal, Depends(require_user("facilities"))]


def _one_line(errors: list[Any]) -> str:
    out = []
    for err in errors:
        if err["type"] == "json_invalid":
            out.append("body: not valid JSON")
            continue
        where = ".".join(str(p) for p in err["loc"] if p != "body") or "body"
        msg = "unknown field (a typo?)" if err["type"] == "extra_forbidden" else err["msg"]
        out.append(f"{where}: {msg.removeprefix('Value error, ')}")
    return "; ".join(out)


class OneLineErrors(APIRoute):
    """Request validation errors as one line (`detail` a string), like the routes' own refusals."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            try:
                return await handler(request)
            except RequestValidationError as exc:
                raise HTTPException(422, _one_line(list(exc.errors()))) from None

        return route


router = APIRouter(tags=["monitoring"], route_class=OneLineErrors)
SiteQuery = Annotated[str | None, Query(max_length=64, description="the sensor's site, when two sites share names")]


def _out(sensor: Sensor, row: Calibration | None, *, now_ms: int) -> CalibrationOut:
    reg = register_of(row) if row is not None else Register()
    late = overdue(reg, utc_date(now_ms))
    return CalibrationOut(
        sensor=sensor.name, site=sensor.site, **dataclasses.asdict(reg),
        source=row.source if row is not None else None,
        updated_at_ms=row.updated_at_ms if row is not None else None,
        updated_by=row.updated_by if row is not None else None,
        calibration_overdue=any(o.check == "calibration" for o in late),
        bump_test_overdue=any(o.check == "bump test" for o in late),
        overdue=bool(late), overdue_reasons=[o.describe() for o in late],
    )


@router.get("/sensors/{sensor}/calibration", summary="A sensor's calibration and bump test: dates, due, certificate")
def get_calibration(sensor: str, services: ServicesDep, session: SessionDep, _: StaffDep,
                    site: SiteQuery = None) -> CalibrationOut:
    found = find_sensor(session, sensor, site)
    return _out(found, entry(session, found.id), now_ms=services.now_ms())


@router.put("/sensors/{sensor}/calibration", summary="Set a sensor's calibration register entry (audited)")
def put_calibration(sensor: str, body: CalibrationIn, services: ServicesDep, session: SessionDep,
                    user: FacilitiesDep, site: SiteQuery = None) -> CalibrationOut:
    now = services.now_ms()
    found = find_sensor(session, sensor, site)
    reg = body.register()
    why = problem(reg, utc_date(now))
    if why is not None:
        raise HTTPException(422, why)
    row = set_from_api(session, found, reg, actor=user.name, now_ms=now)
    session.commit()
    return _out(found, row, now_ms=now)
