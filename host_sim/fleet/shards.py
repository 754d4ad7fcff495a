"""The fleet run split into independent shards of plugs, run in-process or on Dask (CPython).

    jobs = switching_jobs(spec, spreads, shards) + traffic_jobs(spec, scenarios, shards)
    results = run(jobs, workers=2)                   # LocalCluster of 2 worker processes
    results = run(jobs, scheduler="tcp://HOST:8786") # a running Dask cluster
    results = run(jobs, workers=0)                   # in this process (the reference)
    totals = combine(results)                        # {(kind, market, key): summed result}

A job is a plain tuple led by its kind (picklable, small): the fleet is rebuilt from its spec
inside the job (plug i depends only on i), so nothing large travels. Switching shards split plugs by
(policy, class) and traffic shards by fetch offset (plugs.shard_of, traffic_shard_of): plugs
that decide or fetch alike share a shard, so shards split the work instead of repeating it.
Totals are integer sums, so they are identical whatever the shard count and wherever the
shards ran (tests/test_fleet.py: 1 vs 4 shards, Dask vs in-process). Workers of a remote
cluster must run from a checkout of this repository (firmware/ and host_sim/ importable).
"""

from . import traffic
from .market import market
from .plugs import Fleet, fetch_cfg, shard_of
from .switching import Switching, switching


class Spec:
    """What defines a fleet run: plugs, mix, loads, days, start."""

    def __init__(self, n, mix, loads, days, start=None):
        self.n, self.mix, self.loads, self.days, self.start = n, mix, loads, days, start

    def key(self):
        return (self.n, self.mix, self.loads, self.days, self.start)


_PLUGS = {}  # per process: a worker builds each fleet once, not once per job


def _fleet(spec_key, name, spread_s=None):
    n, mix, loads, days, start = spec_key
    m = market(name, days, start)
    fleet = Fleet(n, mix, loads, spread_s=spread_s, publish_min=m.publish_min)
    key = (n, mix, loads, spread_s, m.publish_min)
    if key not in _PLUGS:
        _PLUGS.clear()
        _PLUGS[key] = list(fleet.plugs())
    return m, fleet, _PLUGS[key]


def switching_job(spec_key, name, spread_u, shard, shards):
    m, fleet, every = _fleet(spec_key, name)
    plugs = [p for p in every if shard_of(p, fleet.mix, shards) == shard]
    return ("switching", name, spread_u), switching(m, plugs, spread_u)


def traffic_shard_of(p, shards):
    return p.offset_s % shards


def traffic_job(spec_key, name, scenario, shard, shards):
    """scenario = (label, fetch.spread_s, cut (day, start h, hours) or None, catch_up)."""
    label, spread_s, cut, catch_up = scenario
    n, mix, loads, days, start = spec_key
    m, _fleet_, every = _fleet((n, mix, loads, days, start), name, spread_s)
    window = None
    if cut is not None:
        day, h, hours = cut
        a = m.days[day][0] + h * 3600
        window = (a, a + hours * 3600)
    plugs = [p for p in every if traffic_shard_of(p, shards) == shard]
    return ("traffic", name, label), traffic.requests(m, plugs, fetch_cfg(spread_s), window,
                                                     catch_up)


def switching_jobs(spec, names, spreads, shards):
    return [("switching", spec.key(), name, sp, k, shards)
            for name in names for sp in spreads for k in range(shards)]


def traffic_jobs(spec, names, scenarios, shards):
    return [("traffic", spec.key(), name, sc, k, shards)
            for name in names for sc in scenarios for k in range(shards)]


def call(job):
    """Run one job. Jobs name their function (a tuple led by a function would be a task to
    Dask, run before it reaches here)."""
    return (switching_job if job[0] == "switching" else traffic_job)(*job[1:])


def combine(results):
    out = {}
    for key, r in results:
        if key not in out:
            out[key] = r
        elif isinstance(r, Switching):
            out[key] = out[key] + r
        else:
            out[key] = traffic.add(out[key], r)
    return out


def client_for(workers=2, scheduler=None):
    """A Dask client: on `scheduler` (tcp://HOST:8786), else on a LocalCluster of `workers`
    single-threaded processes (the planner is pure Python: threads would share one GIL)."""
    from dask.distributed import Client, LocalCluster

    if scheduler:
        return Client(scheduler, timeout=10)
    cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                           dashboard_address=":0", silence_logs=40)
    return Client(cluster)


def run(jobs, workers=2, scheduler=None, client=None):
    """Results of every job, in job order; workers=0 without scheduler: in this process."""
    if client is None and not scheduler and not workers:
        return [call(j) for j in jobs]
    own = client is None
    if own:
        client = client_for(workers, scheduler)
    try:
        futures = client.map(call, jobs, pure=False)
        return client.gather(futures)
    finally:
        if own:
            cluster = client.cluster
            client.close()
            if cluster is not None:
                cluster.close()
