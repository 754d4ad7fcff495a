"""OpenADR 3 subscriptions, for deployments where the VTN can reach a callback URL (a plug
behind home NAT cannot be reached: it polls, see openadr3.py). Imported only when used.

    POST /subscriptions  {clientName, programID, objectOperations [{objects ["EVENT"],
                         operations ["CREATE", "UPDATE"], callbackUrl, bearerToken?}],
                         targets}  -> the subscription the VTN created
    GET  /subscriptions  ?clientName&programID&<target filter>&objects=EVENT&skip&limit

Operations are the objectOperations enum of OpenADR 3.0.1 and 3.1.0 (READ, CREATE, UPDATE,
DELETE); targets are this plug's (openadr3_targets.body: valuesMaps, or strings for 3.1).
"""

import json

from ..formats import jsonstream
from . import ProviderError
from . import openadr3 as oa
from . import openadr3_targets as targets
from .oauth import bearer_request

OPERATIONS = ("CREATE", "UPDATE")  # new and changed events; READ/DELETE are not prices


def _client_name(cfg):
    return cfg.get("openadr3.clientName") or "wattwindow"


def list_subscriptions(client, cfg, now_s, state, program_id=None):
    """The VEN's subscriptions to EVENT objects (dicts), optionally for one program."""
    q = [("clientName", _client_name(cfg))]
    if program_id:
        q.append(("programID", program_id))
    if targets.profile(cfg) != "3.1":  # 3.1 has no target filter on subscriptions
        q += targets.query(cfg)
    q.append(("objects", "EVENT"))
    return list(oa.pages(client, cfg, now_s, state, "/subscriptions", q))


def subscription(cfg, program_id, callback_url, bearer_token=None):
    """The subscription object this plug asks for."""
    op = {"objects": ["EVENT"], "operations": list(OPERATIONS), "callbackUrl": callback_url}
    if bearer_token:
        op["bearerToken"] = bearer_token
    sub = {"clientName": _client_name(cfg), "programID": program_id, "objectOperations": [op]}
    t = targets.body(cfg)
    if t:
        sub["targets"] = t
    return sub


def create_subscription(client, cfg, now_s, state, callback_url, bearer_token=None,
                        program_id=None):
    """POST /subscriptions for EVENT create/update notifications to callback_url -> dict."""
    pid = program_id or oa.find_program(client, cfg, now_s, state)[0]
    body = json.dumps(subscription(cfg, pid, callback_url, bearer_token)).encode()
    resp = bearer_request(client, state, now_s, oa.credentials(cfg), "POST",
                          oa.base_url(cfg) + "/subscriptions", body=body,
                          headers={"Content-Type": "application/json",
                                   "Accept": "application/json"})
    try:
        if resp.status >= 400:
            oa.raise_problem(resp, "/subscriptions")
        for doc in jsonstream.items(resp, ""):
            return doc
    finally:
        resp.close()
    raise ProviderError("openadr3: empty subscription answer")
