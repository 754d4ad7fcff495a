"""`report.html`: one self-contained file to share a run (CPython only).

    write(path, summary, rows, images, runtimes=None, marks=())

summary: the run's summary (the --json object); rows: report.timeline_rows(res); images:
[(caption, png path)], embedded as data: URLs; runtimes: with --runtime both, the two runs'
summaries and whether they agree; marks: lines naming the faults and actions. The page holds
the savings, the cost against the three references, every summary value (`data-key` names
the JSON key, the cell shows its JSON text), the pictures, and the timeline as a table that
sorts by any column (click its header) and filters by text. No external asset, no network:
a Content-Security-Policy forbids any load but the page's own data: images, inline style and
inline script.
"""

import base64
import html
import json

from . import drawing

_CSS = """
body{font:14px/1.4 system-ui,sans-serif;margin:1.5em auto;max-width:1300px;padding:0 1em;
color:#222}
h1{font-size:1.35em;margin-bottom:.2em}h2{font-size:1.15em;margin-top:1.6em}
.saved{font-size:1.25em;color:#13602a;font-weight:600}
table{border-collapse:collapse;margin:.5em 0}th,td{border:1px solid #ccc;padding:2px 8px;
text-align:left;vertical-align:top}td.n{text-align:right;font-variant-numeric:tabular-nums}
table.sortable th{cursor:pointer;background:#f2f2f2;user-select:none;position:sticky;top:0}
table.sortable th[data-dir=asc]::after{content:" \\25B2"}
table.sortable th[data-dir=desc]::after{content:" \\25BC"}
img{max-width:100%;border:1px solid #ddd;margin:.4em 0}
.scroll{max-height:70vh;overflow:auto;border:1px solid #ccc}
#timeline td:nth-child(-n+5){white-space:nowrap}
details{margin:.4em 0}summary{cursor:pointer}
"""

_JS = """
function sortTable(th){
  const table=th.closest('table'), col=th.cellIndex, body=table.tBodies[0];
  const dir=th.dataset.dir==='asc'?'desc':'asc';
  table.querySelectorAll('th').forEach(h=>delete h.dataset.dir);
  th.dataset.dir=dir;
  const rows=Array.from(body.rows), key=r=>{const c=r.cells[col];
    return c.dataset.v!==undefined?c.dataset.v:c.textContent;};
  const num=rows.every(r=>key(r)===''||!isNaN(Number(key(r))));
  const val=r=>{const k=key(r);return num?(k===''?-Infinity:Number(k)):k;};
  rows.sort((a,b)=>{const x=val(a),y=val(b);return (x<y?-1:x>y?1:0)*(dir==='asc'?1:-1);});
  body.append(...rows);
}
function filterTable(input){
  const q=input.value.toLowerCase(), t=document.getElementById(input.dataset.table);
  let n=0;
  for(const r of t.tBodies[0].rows){const show=!q||r.textContent.toLowerCase().includes(q);
    r.hidden=!show;if(show)n++;}
  document.getElementById(input.dataset.table+'-count').textContent=n;
}
document.querySelectorAll('table.sortable th').forEach(
  th=>th.addEventListener('click',()=>sortTable(th)));
document.querySelectorAll('input.filter').forEach(
  i=>i.addEventListener('input',()=>filterTable(i)));
"""

CSP = ("default-src 'none'; img-src data:; style-src 'unsafe-inline'; "
       "script-src 'unsafe-inline'")
TIMELINE_COLS = ("t_utc", "local", "event", "on", "price", "reason")


def _e(x):
    return html.escape(str(x), quote=True)


def flat_summary(summary):
    """[(key, value)]: every summary value, nested objects as dotted keys."""
    out = []
    for k, v in summary.items():
        if isinstance(v, dict):
            out += [("%s.%s" % (k, k2), v2) for k2, v2 in v.items()]
        else:
            out.append((k, v))
    return out


def _img(caption, path):
    with open(path, "rb") as f:
        data = base64.b64encode(f.read()).decode("ascii")
    return '<figure><img alt="%s" src="data:image/png;base64,%s"><figcaption>%s</figcaption>' \
        '</figure>' % (_e(caption), data, _e(caption))


def _costs(s):
    cur = s["currency"]
    rows = [("the plug", s["cost"], None, None),
            ("exact optimum", s["optimal_cost"], "gap_to_optimal", "gap_to_optimal_pct"),
            ("fixed 18:00 start", s["baseline_cost"], "savings_vs_baseline",
             "savings_vs_baseline_pct"),
            ("period average", s["average_price_cost"], "savings_vs_average",
             "savings_vs_average_pct")]
    out = ['<table id="costs"><tr><th>placement</th><th>cost (%s)</th><th>the plug saved '
           '(%s)</th><th>%%</th></tr>' % (_e(cur), _e(cur))]
    for name, cost, k, kp in rows:
        # + 0.0: a gap of 0 is a saving of 0.00, not -0.00
        saved = "" if k is None else "%.2f" % ((-s[k] if k == "gap_to_optimal" else s[k]) + 0.0)
        pct = "" if kp is None or s[kp] is None else "%.1f" % (
            (-s[kp] if kp == "gap_to_optimal_pct" else s[kp]) + 0.0)
        out.append('<tr><td>%s</td><td class="n">%.2f</td><td class="n">%s</td>'
                   '<td class="n">%s</td></tr>' % (_e(name), cost, saved, pct))
    out.append("</table>")
    return "\n".join(out)


def _values(summary):
    out = ['<table id="summary"><tr><th>key</th><th>value</th></tr>']
    for k, v in flat_summary(summary):
        out.append('<tr data-key="%s"><th>%s</th><td class="v">%s</td></tr>' % (
            _e(k), _e(k), _e(json.dumps(v))))
    out.append("</table>")
    return "\n".join(out)


def _runtimes(rt):
    keys = ("cost", "energy_kwh", "decisions", "switches", "fetches", "fetch_failures",
            "flash_writes", "wall_s")
    out = ["<h2>Runtimes</h2><p id=\"runtimes-agree\">%s</p>" % (
        "CPython and MicroPython agree decision for decision." if rt["agree"] else
        "CPython and MicroPython DIFFER, first at %s." % _e(json.dumps(rt.get("first")))),
        '<table id="runtimes"><tr><th></th><th>cpython</th><th>micropython</th></tr>']
    for k in keys:
        out.append("<tr><th>%s</th><td class=\"n\">%s</td><td class=\"n\">%s</td></tr>" % (
            _e(k), _e(rt["cpython"].get(k)), _e(rt["micropython"].get(k))))
    out.append("</table>")
    return "\n".join(out)


def _timeline(rows):
    out = ['<p><input class="filter" data-table="timeline" placeholder="filter rows" '
           'size="30"> <span id="timeline-count">%d</span> of %d rows; click a column to '
           'sort</p><div class="scroll"><table id="timeline" class="sortable"><thead><tr>%s'
           '</tr></thead><tbody>' % (len(rows), len(rows),
                                     "".join("<th>%s</th>" % c for c in TIMELINE_COLS))]
    for r in rows:
        out.append("<tr>%s</tr>" % "".join("<td>%s</td>" % _e(r.get(c, ""))
                                           for c in TIMELINE_COLS))
    out.append("</tbody></table></div>")
    return "\n".join(out)


def write(path, summary, rows, images, runtimes=None, marks=()):
    s = summary
    save = drawing.savings_lines(s)
    parts = [
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">",
        '<meta http-equiv="Content-Security-Policy" content="%s">' % CSP,
        "<title>WattWindow simulation: %s %s .. %s</title><style>%s</style></head><body>" % (
            _e(s["market"]), _e(s["start"][:10]), _e(s["end"][:10]), _CSS),
        "<h1>WattWindow simulation</h1><p>%s</p>" % _e(drawing.title(s)),
        '<p class="saved" id="headline">%s</p><p>%s; %s</p>' % (
            _e(save[0][0].upper() + save[0][1:]), _e(save[1]), _e(save[2])),
        "<h2>Cost</h2>", _costs(s),
    ]
    if marks:
        parts.append('<h2>Faults and actions</h2><ul id="marks">%s</ul>' % "".join(
            "<li>%s</li>" % _e(m) for m in marks))
    if runtimes:
        parts.append(_runtimes(runtimes))
    if images:
        parts.append("<h2>Pictures</h2>")
        first, rest = images[0], images[1:]
        parts.append(_img(*first))
        for caption, p in rest:
            parts.append("<details open><summary>%s</summary>%s</details>" % (
                _e(caption), _img(caption, p)))
    parts += ["<h2>Timeline</h2>", _timeline(rows),
              "<h2>Every summary value</h2>", _values(s),
              "<script>%s</script></body></html>" % _JS]
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(parts))
    return path
