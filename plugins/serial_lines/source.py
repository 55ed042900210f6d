"""The serial_lines source: an instrument that prints (or answers with) text lines."""

from __future__ import annotations

import re
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from agent.serial_port import SerialSource, SerialSourceConfig
from agent.sources import SourceConfig
from exposure import Reading
from exposure.quantities import canonical_unit, implausible, unit_for
from plugins.serial_lines.decode import Format, LineError, LineParser, LineSplitter, parse_number
from plugins.serial_lines.presets import PRESETS


class FieldMap(BaseModel):
    """How one named field of a line becomes a reading: value * scale + offset, in `unit`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    quantity: str
    unit: str
    scale: float = 1.0
    offset: float = 0.0
    interval_s: float | None = Field(default=None, gt=0, description="integration time (laeq), else unset")

    @model_validator(mode="after")
    def _known(self) -> FieldMap:
        unit_for(self.quantity, self.unit)
        return self


class SerialLinesConfig(SerialSourceConfig):
    type: Literal["serial_lines"] = "serial_lines"
    preset: Literal["nti_xl2_laeq", "rion_nl43_dod", "dba_line"] | None = Field(
        default=None, description="a documented meter format; options given here override it"
    )
    format: Format | None = None
    pattern: str | None = Field(default=None, description="regex format: named groups are the fields")
    delimiter: str = Field(default=",", min_length=1, description="kv and csv formats")
    kv_separator: str = Field(default="=", min_length=1)
    columns: list[str] = Field(default_factory=list, description="csv format: a name per column, '' skips")
    fields: dict[str, FieldMap] = Field(default_factory=dict, description="field name -> reading")
    command: str | None = Field(default=None, description="sent every interval_s (query); unset = the meter prints")
    skip_pattern: str | None = Field(default=None, description="lines matching this are ignored (headers, acks)")
    error_pattern: str | None = Field(default=None, description="lines matching this are device errors")
    line_ending: Literal["lf", "cr"] = Field(default="lf", description="lf also accepts CR LF")
    encoding: str = "ascii"

    @model_validator(mode="before")
    @classmethod
    def _apply_preset(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("preset") in PRESETS:
            return {**PRESETS[data["preset"]], **data}
        return data

    @model_validator(mode="after")
    def _complete(self) -> SerialLinesConfig:
        if self.format is None:
            raise ValueError("set format (regex, kv or csv) or a preset")
        if not self.fields:
            raise ValueError("fields is empty: map at least one field to a quantity")
        if self.format == "regex":
            if not self.pattern:
                raise ValueError("format regex needs pattern")
            try:
                groups = set(re.compile(self.pattern).groupindex)
            except re.error as exc:
                raise ValueError(f"pattern is not a valid regular expression: {exc}") from None
            missing = set(self.fields) - groups
            if missing:
                raise ValueError(f"fields {sorted(missing)} are not named groups of pattern")
        if self.format == "csv":
            missing = set(self.fields) - set(self.columns)
            if missing:
                raise ValueError(f"fields {sorted(missing)} are not in columns")
        for name in ("skip_pattern", "error_pattern"):
            value = getattr(self, name)
            if value is not None:
                try:
                    re.compile(value)
                except re.error as exc:
                    raise ValueError(f"{name} is not a valid regular expression: {exc}") from None
        return self


class SerialLinesSource(SerialSource):
    type_name: ClassVar[str] = "serial_lines"
    config_model: ClassVar[type[SourceConfig]] = SerialLinesConfig
    config: SerialLinesConfig

    def __init__(self, config: SourceConfig, **kwargs: object) -> None:
        super().__init__(config, **kwargs)  # type: ignore[arg-type]
        assert isinstance(config, SerialLinesConfig) and config.format is not None
        self.splitter = LineSplitter(ending=config.line_ending, encoding=config.encoding)
        self.parser = LineParser(
            format=config.format,
            pattern=re.compile(config.pattern) if config.pattern else None,
            delimiter=config.delimiter,
            kv_separator=config.kv_separator,
            columns=tuple(config.columns),
        )
        self.skip = re.compile(config.skip_pattern) if config.skip_pattern else None
        self.error = re.compile(config.error_pattern) if config.error_pattern else None
        self._overflows = 0

    def query_command(self) -> bytes | None:
        return self.config.command.encode(self.config.encoding) if self.config.command else None

    def feed(self, data: bytes) -> list[Reading]:
        out: list[Reading] = []
        lines = self.splitter.feed(data)
        if self.splitter.overflows != self._overflows:
            self.counters.bad("line_too_long")
            self._overflows = self.splitter.overflows
        for line in lines:
            if not line or (self.skip is not None and self.skip.search(line)):
                continue
            if self.error is not None and self.error.search(line):
                self.counters.bad("device_error")
                self.counters.last_error = f"device answered {line[:40]!r}"
                continue
            try:
                out.extend(self.to_readings(line))
            except LineError as exc:
                self.counters.bad(exc.reason)
                continue
            self.counters.frames_ok += 1
        return out

    def to_readings(self, line: str) -> list[Reading]:
        """Every mapped field of the line, or LineError: a line with any unparsable mapped field is rejected."""
        fields = self.parser.fields(line)
        ts = self.clock.now_ms()
        readings = []
        for name, fmap in self.config.fields.items():
            if name not in fields:
                raise LineError("no_match", f"field {name!r} missing")
            value = round(parse_number(fields[name]) * fmap.scale + fmap.offset, 6)
            unit = canonical_unit(fmap.unit) or fmap.unit
            reason = implausible(value, unit)
            if reason is not None:
                raise LineError(reason, f"{name} = {fields[name][:40]!r} -> {value!r} {unit}")
            readings.append(Reading(self.name, fmap.quantity, value, unit, ts, fmap.interval_s))
        return readings
