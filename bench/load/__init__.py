"""Many devices at once: load from Locust, driven by the suite.

One module per job: ``config`` (what a run is asked, what the Locust processes are told),
``locustfile`` (the Locust user classes; loaded only by Locust's own processes),
``device_models`` (what the harness must know of each mode's user: its class, its login
command, how it waits for news),
``client`` (the metered client they drive, reporting every command to Locust and to the
users' own records), ``processes`` (starting, watching and ending master and workers),
``injector`` (new mail at a seeded rate), ``server_figures`` (what a level costs the
server), ``stats`` (reading both paths back), ``qos`` (verdicts and capacity), ``cpus``
(server and load on CPUs of their own) and ``levels`` (one cell's levels, in order).

Nothing here imports Locust or gevent except ``locustfile``: the harness stays unpatched.
"""
