import pytest

from bench.errors import UsageError
from bench.plan import Cell, build_plan
from scenarios import get_scenario


def test_empty_filters_in_the_full_plan_mean_everything():
    cells = build_plan([], [], [], plan="full")
    assert {c.mode for c in cells} == {"imap", "pop3-keep", "pop3-delete"}
    assert {c.variant for c in cells if c.scenario == "bulk-fetch"} == {"full", "headers", "new", "search"}
    assert {c.link for c in cells} == {"lan", "mobile-4g"}
    assert len(cells) == len(set(cells))


def test_the_default_comparison_adds_bulk_fetch_s_full_download_on_a_mobile_link_and_nothing_else():
    extra = [c for c in build_plan([], ["dovecot"], []) if c.link != "lan"]
    assert sorted(c.id for c in extra) == ["bulk-fetch/dovecot/imap/full/tls-off/mobile-4g",
                                           "bulk-fetch/dovecot/pop3-delete/full/tls-off/mobile-4g",
                                           "bulk-fetch/dovecot/pop3-keep/full/tls-off/mobile-4g"]
    # a run that names its scenarios or its links gets no link it did not ask for
    assert {c.link for c in build_plan(["bulk-fetch"], ["dovecot"], [])} == {"lan"}
    assert {c.link for c in build_plan([], ["dovecot"], [], links=["lan"])} == {"lan"}


def test_samples_per_cell_are_each_scenario_s_unless_the_run_says():
    from bench.plan import samples_per_cell

    cells = build_plan(["bulk-fetch", "offline-use"], ["dovecot"], ["imap"])
    assert samples_per_cell(cells, None).by_scenario == {"bulk-fetch": 5, "offline-use": 3}
    assert samples_per_cell(cells, 2).by_scenario == {"bulk-fetch": 2, "offline-use": 2}


def test_no_mode_deletes_what_it_did_not_keep():
    cells = build_plan(["bulk-fetch"], ["dovecot"], ["pop3-delete"])
    assert {c.variant for c in cells} == {"full", "new"}


def test_filters_narrow_the_plan():
    cells = build_plan(["bulk-fetch"], ["dovecot"], ["imap"], ["full"], ["on"])
    assert [c.id for c in cells] == ["bulk-fetch/dovecot/imap/full/tls-on"]


def test_links_are_a_dimension_and_only_non_lan_ones_show_in_the_id():
    cells = build_plan(["bulk-fetch"], ["dovecot"], ["imap"], ["full"], ["off"], ["lan", "satellite"])
    assert [c.id for c in cells] == ["bulk-fetch/dovecot/imap/full/tls-off",
                                     "bulk-fetch/dovecot/imap/full/tls-off/satellite"]


def test_tls_defaults_to_off_and_on_for_bulk_fetch_and_off_for_device_scenarios():
    cells = build_plan(["bulk-fetch"], ["dovecot"], ["imap"], ["full"])
    assert [c.tls for c in cells] == ["off", "on"]
    assert {c.tls for c in build_plan(["multi-device-sync"], ["dovecot"], ["imap"])} == {"off"}
    assert {c.tls for c in build_plan(["multi-device-sync"], ["dovecot"], ["imap"], tls=["on"])} == {"on"}


def test_the_default_plan_leaves_out_what_runs_only_by_name():
    from scenarios import SCENARIOS

    default = {c.scenario for c in build_plan([], ["dovecot"], [], plan="full")}
    assert "new-mail" not in default and "bulk-fetch" in default
    assert default == {name for name, s in SCENARIOS.items() if s.in_default_plan}
    assert {c.scenario for c in build_plan(["new-mail"], ["dovecot"], [])} == {"new-mail"}


@pytest.mark.parametrize(
    "args, word",
    [((["nope"], [], []), "scenario"), (([], ["exchange"], []), "server"),
     (([], [], ["smtp"]), "mode"), (([], [], [], ["bodies"]), "variant"),
     (([], [], [], [], ["maybe"]), "tls")],
)
def test_unknown_names_are_one_line_errors(args, word):
    with pytest.raises(UsageError) as error:
        build_plan(*args)
    message = str(error.value)
    assert word in message and "choose from" in message and "\n" not in message


def test_default_plan_covers_every_server():
    from bench.servers import SERVERS

    assert {c.server for c in build_plan([], [], [])} == set(SERVERS)


def test_a_run_on_a_link_of_its_own_keeps_it_and_the_default_comparison_adds_mobile_4g():
    from bench.runner import Run, RunConfig

    custom = Run(RunConfig(scenarios=["bulk-fetch"], servers=["dovecot"], links=["rtt=80ms,down=20mbit,up=5mbit"]))
    assert len(custom.links) == 1 and {c.link for c in custom.cells} == set(custom.links)
    default = Run(RunConfig(servers=["dovecot"]))
    assert set(default.links) == {"lan", "mobile-4g"}
    assert default.repeats.by_scenario == {"bulk-fetch": 3, "multi-device-sync": 3, "offline-use": 3,
                                           "storage-exposure": 3}
    full = Run(RunConfig(plan="full", servers=["dovecot"]))
    assert set(full.links) == {"lan", "mobile-4g"}
    assert full.repeats.by_scenario["bulk-fetch"] == 5 and full.repeats.by_scenario["multi-device-sync"] == 3
    assert full.repeats.on_links == 2
    on_link = [c for c in full.cells if c.link != "lan"]
    assert on_link and {full.repeats.of(c) for c in on_link} == {2}
    told = Run(RunConfig(plan="full", servers=["dovecot"], repeat=5))
    assert told.repeats.on_links is None and {told.repeats.of(c) for c in told.cells} == {5}


# --- the decision plan and the full plan ------------------------------------------------


def test_the_default_comparison_is_the_decision_plan_and_holds_what_the_decision_page_reads():
    """The decision page's columns read these cells (bench/report/decision.py); nothing else runs."""
    cells = build_plan([], ["dovecot"], [])
    assert {(c.scenario, c.variant, c.tls, c.link) for c in cells} == {
        ("bulk-fetch", "full", "off", "lan"), ("bulk-fetch", "full", "off", "mobile-4g"),
        ("multi-device-sync", "incremental", "off", "lan"), ("offline-use", "link-cut", "off", "lan"),
        ("storage-exposure", "timeline", "off", "lan"),
    }
    assert {c.mode for c in cells} == {"imap", "pop3-keep", "pop3-delete"}
    assert len(cells) == len(set(cells)) == 15


def test_the_decision_plan_takes_three_samples_and_a_hundred_messages():
    from bench.runner import Run, RunConfig

    run = Run(RunConfig(servers=["dovecot"]))
    assert run.plan == "decision" and run.messages == 100
    assert {run.repeats.of(c) for c in run.cells if c.link == "lan"} == {3}
    assert {run.repeats.of(c) for c in run.cells if c.link != "lan"} == {2}
    assert run._plan_json()["name"] == "decision" and run._plan_json()["repeat_on_links"] == 2
    full = Run(RunConfig(plan="full", servers=["dovecot"]))
    assert full.plan == "full" and full.messages == 300
    told = Run(RunConfig(plan="decision", servers=["dovecot"], messages=40, repeat=4))
    assert {told.repeats.of(c) for c in told.cells} == {4} and told.messages == 40


def test_a_named_scenario_runs_in_full_unless_a_plan_is_named():
    named = build_plan(["bulk-fetch"], ["dovecot"], [])
    assert {c.variant for c in named} == {"full", "headers", "new", "search"} and {c.tls for c in named} == {"off", "on"}
    assert {c.link for c in named} == {"lan"}
    decided = build_plan(["bulk-fetch"], ["dovecot"], [], plan="decision")
    assert {(c.variant, c.tls, c.link) for c in decided} == {("full", "off", "lan"), ("full", "off", "mobile-4g")}
    # a scenario the decision page does not read runs all its variants when named
    assert {c.variant for c in build_plan(["interrupted-sync"], ["dovecot"], ["imap"], plan="decision")} == set(
        get_scenario("interrupted-sync").variants)


def test_the_full_plan_holds_every_cell_of_the_decision_plan():
    decision = set(build_plan([], [], []))
    full = set(build_plan([], [], [], plan="full"))
    assert decision < full


def test_an_unknown_plan_is_a_one_line_error():
    with pytest.raises(UsageError, match="unknown --plan 'quick'; choose from decision, full"):
        build_plan([], [], [], plan="quick")


def test_a_plan_never_takes_more_samples_on_a_link_than_the_scenario_takes_on_lan():
    from bench.plan import Samples

    few = Samples({"bulk-fetch": 2}, on_links=3)
    assert few.of(Cell("bulk-fetch", "dovecot", "imap", "full", link="mobile-4g")) == 2
    assert Samples({"bulk-fetch": 5}, on_links=3).of(Cell("bulk-fetch", "dovecot", "imap", "full", link="mobile-4g")) == 3
    assert few.of(Cell("bulk-fetch", "dovecot", "imap", "full")) == 2


def test_a_scenario_that_runs_with_tls_off_only_refuses_tls_on_before_anything_starts():
    with pytest.raises(UsageError) as error:
        build_plan(["many-devices"], ["dovecot"], ["imap"], tls=["on"])
    message = str(error.value)
    assert "\n" not in message
    assert message == ("many-devices runs with --tls off only, not on (its Locust users speak plaintext); "
                       "run it without --tls on")
    assert {c.tls for c in build_plan(["many-devices"], ["dovecot"], ["imap"], tls=["off"])} == {"off"}
    assert {c.tls for c in build_plan(["bulk-fetch"], ["dovecot"], ["imap"], tls=["on"])} == {"on"}
