"""The hardware: CPU models per host, and how many environments said so.

Pure: one `find` over the told fleet (see `tui.core.findings.story`). The host facts come from
the probe's record or the extension's line; a serving environment with neither (a function
without the probe, a stream without the extension) is counted apart, so the finding says how
many environments it rests on."""

from tui.core.findings.common import short_cpu


def find(serving, host_key, host_of, host_order):
    hosts: dict[str, dict] = {}
    without = 0
    for c in serving:
        h = host_of[c.container_id]
        if not h:
            without += 1
            continue
        e = hosts.get(h)
        if e is None:
            e = hosts[h] = {
                "host_key": h,
                "hostname": c.hostname,
                "cpu_model": c.cpu_model,
                "cpu_mhz": c.cpu_mhz,
                "bogomips": c.bogomips,
                "containers": 0,
            }
        e["containers"] += 1
    if not hosts:
        return []
    ordered = [hosts[h] for h in host_order if h in hosts]
    models: dict[str, list[str]] = {}
    for e in ordered:
        models.setdefault(e["cpu_model"] or "?", []).append(e["host_key"])
    n_h, n_m = len(ordered), len(models)
    if host_key == "cpu_model":
        text = f"{n_m} CPU model{'s' if n_m != 1 else ''}: " + ", ".join(short_cpu(m) for m in models)
    else:
        parts = [
            f"{short_cpu(m)} ({', '.join(hs) if len(hs) <= 3 else f'{len(hs)} hosts'})" for m, hs in models.items()
        ]
        text = f"{n_m} CPU model{'s' if n_m != 1 else ''} on {n_h} host{'s' if n_h != 1 else ''}: " + "; ".join(parts)
    bogo = sorted({e["bogomips"] for e in ordered if e["bogomips"]})
    if len(bogo) > 1:
        text += f"; bogomips {bogo[0]:,.0f}–{bogo[-1]:,.0f}"
    known = sum(e["containers"] for e in ordered)
    text += f"; from {known:,} environment{'s' if known != 1 else ''}"
    if without:
        text += f" of {known + without:,} ({without:,} reported no host facts)"
    return [
        {
            "kind": "hardware",
            "text": text,
            "cpu_models": list(models),
            "hosts": ordered,
            "environments": known,
            "environments_without_host": without,
            "evidence": {"hosts_by_model": models},
        }
    ]
