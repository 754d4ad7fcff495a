"""ENTSO-E Transparency Platform, day-ahead prices (A44), on loopback (CPython only).

    GET /api?documentType=A44&in_Domain=<EIC>&out_Domain=<EIC>&periodStart=yyyyMMddHHmm
        &periodEnd=yyyyMMddHHmm&securityToken=<token>

A Publication_MarketDocument (namespace ...publicationdocument:7:3) with one TimeSeries per
delivery day (CET/CEST days, as the platform cuts them), curve A03: a point that repeats the
price before it is left out. Resolution PT60M for hourly prices, PT15M for quarter hours
(`interval=15`). Prices per MWh with 3 decimals (exact). Whole delivery days that meet the
requested period are answered. No prices: HTTP 200 with an Acknowledgement_MarketDocument,
Reason 999 "No matching data found ..."; bad parameters: HTTP 400 with one; a wrong or missing
token: HTTP 401 (an HTML page). Controls besides daprices.py's: sequence=2 (each day's series is
sent twice, first as classification sequence 2 with other prices, then as 1).
"""

from firmware.clock.iso import format_iso, parse_iso
from firmware.clock.tz import Zone

from .daprices import Faults, cut, decimal

CET = "CET-1CEST,M3.5.0,M10.5.0/3"
TOKEN = "sim-entsoe-token"
ZONES = ("10YDK-1--------W", "10YDK-2--------M", "10Y1001A1001A82H", "10YAT-APG------L",
         "10YNL----------L", "10YBE----------2", "10YFR-RTE------C")
NS_PUB = "urn:iec62325.351:tc57wg16:451-3:publicationdocument:7:3"
NS_ACK = "urn:iec62325.351:tc57wg16:451-1:acknowledgementdocument:7:0"
XML = {"Content-Type": "text/xml"}


def ack(text, code="999"):
    return ('<?xml version="1.0" encoding="utf-8"?>\n<Acknowledgement_MarketDocument xmlns="%s">'
            '\n\t<mRID>sim-ack</mRID>\n\t<createdDateTime>2024-01-01T00:00:00Z</createdDateTime>'
            '\n\t<sender_MarketParticipant.mRID codingScheme="A01">10X1001A1001A450'
            '</sender_MarketParticipant.mRID>\n\t<Reason>\n\t\t<code>%s</code>\n\t\t<text>%s'
            '</text>\n\t</Reason>\n</Acknowledgement_MarketDocument>\n'
            % (NS_ACK, code, text)).encode()


def _z(t):
    return format_iso(t)[:16] + "Z"  # 2024-10-26T22:00Z


def _stamp(text):
    if len(text) != 12 or not text.isdigit():
        raise ValueError(text)
    return parse_iso("%s-%s-%sT%s:%s:00Z" % (text[:4], text[4:6], text[6:8], text[8:10],
                                             text[10:12]))


class EntsoeApi:
    HOSTS = ("web-api.tp.entsoe.eu",)

    def __init__(self, prices, zone_eic="10YDK-1--------W"):
        self.prices = prices
        self.eic = zone_eic
        self.faults = Faults()
        self.sequence2 = False
        self.cet = Zone(CET)
        self.DEVICE_CONFIG = {"entsoe.baseUrl": "http://web-api.tp.entsoe.eu/api",
                              "entsoe.token": TOKEN, "entsoe.zone": zone_eic}

    def control(self, name, q, arg):
        self.faults.control(name, q, arg)
        if "sequence" in q:
            self.sequence2 = q["sequence"] == "2"

    def error_body(self, status):
        return ack("simulated failure (HTTP %d)" % status)

    def handle(self, req):
        got, mode = self.faults.common(req.path)
        if got is not None:
            return got
        q = req.query
        if req.path.rstrip("/") != "/api":
            return 404, {"Content-Type": "text/html"}, b"<html><body>Not Found</body></html>"
        if q.get("securityToken") != TOKEN:
            return 401, {"Content-Type": "text/html"}, \
                b"<html><body><h1>Unauthorized</h1></body></html>"
        if mode == "error":
            return 400, dict(XML), ack("simulated error answer")
        if mode == "garbage":
            return 200, dict(XML), ('<Publication_MarketDocument xmlns="%s"><TimeSeries>'
                                    % NS_PUB).encode()
        if q.get("documentType") != "A44":
            return 400, dict(XML), ack("The documentType %s is not served here"
                                       % q.get("documentType"))
        if q.get("in_Domain") != q.get("out_Domain") or q.get("in_Domain") not in ZONES:
            return 400, dict(XML), ack("The combination [in_Domain=%s,out_Domain=%s] is not "
                                       "valid for this query." % (q.get("in_Domain"),
                                                                  q.get("out_Domain")))
        try:
            t0, t1 = _stamp(q.get("periodStart", "")), _stamp(q.get("periodEnd", ""))
        except ValueError:
            return 400, dict(XML), ack("periodStart and periodEnd must be yyyyMMddHHmm")
        if t1 <= t0:
            return 400, dict(XML), ack("periodEnd before periodStart")
        z = self.cet
        d0, d1 = z.day_start(t0), z.next_day_start(t1 - 1)
        rows = [] if mode == "empty" else list(self.prices(d0, d1, req.now_s))
        step = self.faults.interval_min * 60 or 3600
        rows = cut(rows, step) if step < 3600 else rows
        series = []
        d = d0
        while d < d1:
            e = z.next_day_start(d)
            day = [r for r in rows if d <= r[0] < e]
            if day and day[-1][1] == e and day[0][0] == d:
                res = day[0][1] - day[0][0]
                if self.sequence2:
                    series.append(self._series(len(series) + 1, d, e, res, day, 2, 7))
                series.append(self._series(len(series) + 1, d, e, res, day, 1 if
                                           self.sequence2 else None, 0))
            d = e
        if not series:
            return 200, dict(XML), ack("No matching data found for Data item Energy Prices "
                                       "[12.1.D] (%s, %s) and interval %s/%s." % (
                                           self.eic, self.eic, _z(t0), _z(t1)))
        doc = ('<?xml version="1.0" encoding="utf-8"?>\n<Publication_MarketDocument xmlns="%s">'
               '\n\t<mRID>sim-%d</mRID>\n\t<revisionNumber>1</revisionNumber>\n\t<type>A44'
               '</type>\n\t<sender_MarketParticipant.mRID codingScheme="A01">10X1001A1001A450'
               '</sender_MarketParticipant.mRID>\n\t<createdDateTime>%s</createdDateTime>\n\t'
               '<period.timeInterval>\n\t\t<start>%s</start>\n\t\t<end>%s</end>\n\t'
               '</period.timeInterval>\n%s</Publication_MarketDocument>\n'
               % (NS_PUB, req.now_s, format_iso(req.now_s), _z(d0), _z(d1), "".join(series)))
        return 200, dict(XML), doc.encode()

    def _series(self, mrid, d, e, res, day, seq, bump):
        pts = []
        last = None
        for k, (_s, _e, p) in enumerate(day):
            p += bump * 1000
            if p != last:  # curve A03: a repeated price is left out
                pts.append("\t\t\t<Point>\n\t\t\t\t<position>%d</position>\n\t\t\t\t"
                           "<price.amount>%s</price.amount>\n\t\t\t</Point>\n"
                           % (k + 1, decimal(p, 3)))
                last = p
        seq_el = ("\t\t<classificationSequence_AttributeInstanceComponent.position>%d"
                  "</classificationSequence_AttributeInstanceComponent.position>\n" % seq
                  if seq else "")
        return ("\t<TimeSeries>\n\t\t<mRID>%d</mRID>\n\t\t<auction.type>A01</auction.type>\n\t\t"
                "<businessType>A62</businessType>\n\t\t<in_Domain.mRID codingScheme=\"A01\">%s"
                "</in_Domain.mRID>\n\t\t<out_Domain.mRID codingScheme=\"A01\">%s</out_Domain."
                "mRID>\n\t\t<contract_MarketAgreement.type>A01</contract_MarketAgreement.type>\n"
                "\t\t<currency_Unit.name>EUR</currency_Unit.name>\n\t\t<price_Measure_Unit.name>"
                "MWH</price_Measure_Unit.name>\n%s\t\t<curveType>A03</curveType>\n\t\t<Period>\n"
                "\t\t\t<timeInterval>\n\t\t\t\t<start>%s</start>\n\t\t\t\t<end>%s</end>\n\t\t\t"
                "</timeInterval>\n\t\t\t<resolution>PT%dM</resolution>\n%s\t\t</Period>\n\t"
                "</TimeSeries>\n" % (mrid, self.eic, self.eic, seq_el, _z(d), _z(e), res // 60,
                                     "".join(pts)))


def make(series, zone, feed, run=None):
    return EntsoeApi(feed.window)
