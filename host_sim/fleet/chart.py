"""The fleet run's picture (CPython only): requests per minute around the power cut, the
fleet's load per interval with and without spreading, and the sweep's peak reduction against
extra cost per market. One PNG."""

from ..drawing import PNG, pyplot


def write(path, traffic, loads, sweep, recommended):
    """traffic: {label: (t0, {minute: n})}; loads: (title, t0_s, [(label, starts, kw)]);
    sweep: {market: [(spread, peak_red_pct, extra_pct)]}."""
    plt = pyplot()
    fig, ax = plt.subplots(3, 1, figsize=(11, 11))
    a = ax[0]
    for label, (t0, per_min) in traffic.items():
        xs = sorted(per_min)
        a.plot([(k * 60 - t0) / 3600 for k in xs], [per_min[k] for k in xs], ".", ms=3,
               label=label)  # busy minutes as points: a line would bridge the quiet hours
    a.set_yscale("log")
    a.set_xlabel("hours from the start of the traffic run (UTC)")
    a.set_ylabel("price-API requests per minute")
    a.set_title("requests per minute (busy minutes only)")
    a.legend(fontsize=8)
    title, t0, series = loads
    a = ax[1]
    for label, starts, kw in series:
        a.step([(s - t0) / 86400 for s in starts], kw, where="post", label=label, lw=1)
    a.set_xlabel("days from the start of the run")
    a.set_ylabel("fleet load kW")
    a.set_title(title)
    a.legend(fontsize=8)
    a = ax[2]
    for market, pts in sweep.items():
        a.plot([p[2] for p in pts], [p[1] for p in pts], marker="o", label=market)
        for sp, red, extra in pts:
            a.annotate("%g" % sp, (extra, red), fontsize=7, xytext=(3, 3),
                       textcoords="offset points", weight="bold" if sp == recommended
                       else "normal")
    a.axhline(15, color="grey", lw=0.5, ls="--")
    a.axvline(2, color="grey", lw=0.5, ls="--")
    a.set_xlabel("extra cost of spreading, % of the fleet's cost")
    a.set_ylabel("mean daily peak reduction %")
    a.set_title("policy.spread sweep (labels: spread per MWh)")
    a.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=90, pil_kwargs=PNG)
    plt.close(fig)
    return path
