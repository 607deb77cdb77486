"""Runs side by side: the figures that tell two experiments apart, with the differences marked.

Pure: snapshot documents in (DESIGN.md "Snapshot"), rows out. Every row reads one fact from each
run's document, the same way for all of them, so a row differs only when the runs did. A run
whose document lacks a fact (an older snapshot, `analyze` of logs without responses) shows "–"
there, which is never counted as a difference: unknown is not different.
"""

from dataclasses import dataclass

UNKNOWN = "–"


@dataclass(frozen=True, slots=True)
class Row:
    label: str
    values: tuple[str, ...]  # one per run, as shown
    raw: tuple  # one per run, as data (None where unknown)

    @property
    def differs(self) -> bool:
        known = {repr(v) for v in self.raw if v is not None}
        return len(known) > 1


def _findings(doc: dict, kind: str) -> list[dict]:
    return [f for f in doc.get("findings") or [] if isinstance(f, dict) and f.get("kind") == kind]


def _one(doc: dict, kind: str) -> dict | None:
    found = _findings(doc, kind)
    return found[0] if found else None


def _total(key: str):
    def read(doc: dict):
        v = (doc.get("totals") or {}).get(key)
        return v if isinstance(v, (int, float)) and not isinstance(v, bool) else None

    return read, lambda v: f"{v:,}" if isinstance(v, int) else f"{v:g}"


def _serving(doc: dict):
    """Environments that served (pre-initialised ones are their own row); older snapshots
    counted every stream as a container."""
    t = doc.get("totals") or {}
    v = t.get("serving", t.get("containers"))
    return v if isinstance(v, int) and not isinstance(v, bool) else None


def _wave_sizes(doc: dict):
    if "findings" not in doc:
        return None
    return tuple(int(f.get("size") or 0) for f in _findings(doc, "wave"))


def _retirements(doc: dict):
    if "findings" not in doc:
        return None
    return tuple((int(f.get("size") or 0), f.get("at_s")) for f in _findings(doc, "retirement"))


def _fmt_retirements(v) -> str:
    if not v:
        return "none"
    return f"{len(v)}: " + ", ".join(f"{n} @{at:.1f}s" if isinstance(at, (int, float)) else str(n) for n, at in v)


def _cpu(model: str) -> str:
    """'Intel(R) Xeon(R) CPU E5-2666 v3 @ 2.90GHz' -> 'Xeon E5-2666 v3 @ 2.90GHz', as on screen."""
    for noise in ("(R)", "(TM)", "Intel ", " CPU", " Processor"):
        model = model.replace(noise, "")
    return " ".join(model.split())


def _hosts(doc: dict):
    hosts = doc.get("hosts")
    if not isinstance(hosts, list):
        return None
    return len([h for h in hosts if isinstance(h, dict)])


def _cpu_models(doc: dict):
    hw = _one(doc, "hardware")
    if hw and isinstance(hw.get("cpu_models"), list):
        return tuple(str(m) for m in hw["cpu_models"])
    rows = doc.get("containers")
    if not isinstance(rows, list):
        return None
    return tuple(sorted({str(r.get("cpu_model")) for r in rows if isinstance(r, dict) and r.get("cpu_model")}))


def _takeover(doc: dict):
    if "findings" not in doc:
        return None
    t = _one(doc, "host_takeover")
    return ("none", None) if t is None else (str(t.get("host_key")), t.get("at_s"))


def _spread(doc: dict):
    s = _one(doc, "spread")
    if s is None:
        return None
    return (s.get("max_over_min"), s.get("gini"))


def _fmt_spread(v) -> str:
    ratio, gini = v
    left = UNKNOWN if ratio is None else f"max/min {ratio:g}×"
    right = UNKNOWN if gini is None else f"Gini {gini:.2f}"
    return f"{left}, {right}"


def _cold_ms(doc: dict):
    c = _one(doc, "cold_start")
    if c is None:
        return None
    p50, p99 = c.get("init_ms_p50"), c.get("init_ms_p99")
    return None if p50 is None else (p50, p99)


def _fmt_ms_pair(v) -> str:
    p50, p99 = v
    return f"{p50:.0f} / {p99:.0f} ms" if p99 is not None else f"{p50:.0f} ms"


def _profile(doc: dict):
    src = doc.get("source") or {}
    return src.get("profile") or src.get("label") or src.get("kind")


_ROWS = [
    ("target / profile", _profile, str),
    ("requests", *_total("requests")),
    ("invocations", *_total("invocations")),
    ("containers (serving)", _serving, lambda v: f"{v:,}"),
    ("cold starts", *_total("cold_starts")),
    ("pre-initialised", *_total("pre_initialized")),
    ("waves", _wave_sizes, lambda v: f"{len(v)}: " + ", ".join(map(str, v)) if v else "none"),
    ("retirements", _retirements, _fmt_retirements),
    ("host takeover", _takeover, lambda v: f"{v[0]} @{v[1]:.1f}s" if isinstance(v[1], (int, float)) else v[0]),
    ("hosts", _hosts, str),
    ("CPU models", _cpu_models, lambda v: "; ".join(_cpu(m) for m in v) if v else "none"),
    ("spread", _spread, _fmt_spread),
    ("cold start p50 / p99", _cold_ms, _fmt_ms_pair),
    ("throttled", *_total("throttled")),
    ("errors", *_total("errors")),
]


def compare(docs: list[dict]) -> list[Row]:
    """One row per fact, one value per run."""
    rows = []
    for label, read, fmt in _ROWS:
        raw = tuple(_safe(read, d) for d in docs)
        shown = tuple(UNKNOWN if v is None else fmt(v) for v in raw)
        rows.append(Row(label, shown, raw))
    return rows


def _safe(read, doc):
    try:
        return read(doc)
    except (TypeError, ValueError, AttributeError, KeyError):
        return None  # a damaged document reads as unknown, never as a crash


def to_table(names: list[str], rows: list[Row]) -> str:
    """Aligned text: a `≠` before every row whose runs differ."""
    head = ["", ""] + names
    body = [["≠" if r.differs else " ", r.label, *r.values] for r in rows]
    widths = [max(len(line[i]) for line in [head] + body) for i in range(len(head))]
    out = ["  ".join(v.ljust(w) for v, w in zip(line, widths)).rstrip() for line in [head] + body]
    n = sum(r.differs for r in rows)
    out.append("")
    out.append(f"{n} of {len(rows)} rows differ (≠); – is unknown in that run, never counted as a difference")
    return "\n".join(out) + "\n"


def to_dict(names: list[str], rows: list[Row]) -> dict:
    return {"runs": names, "rows": [{"label": r.label, "values": list(r.values), "differs": r.differs} for r in rows]}
