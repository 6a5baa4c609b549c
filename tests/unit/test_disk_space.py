"""The disk space a run needs, and the one line that refuses a run that would not fit
(pure logic: free space and file systems are given, no Docker)."""

from __future__ import annotations

import mailbox
from pathlib import Path

import pytest

from bench import disk_space
from bench.corpus import generate_messages
from bench.corpus.source import FileCorpus, GeneratedCorpus
from bench.disk_space import KEEP_FREE, OVERHEAD, REPORT_BYTES, Need, corpus_bytes, run_needs, shortfall
from bench.plan import Cell

GB = 1_000_000_000
ROOT, TMP, OUT = Path("/var/lib/docker"), Path("/tmp"), Path("reports")


def test_the_generated_corpus_size_is_known_without_generating_it():
    made = sum(map(len, generate_messages(300, 5)))
    assert abs(corpus_bytes(GeneratedCorpus(seed=5), 300) - made) <= 300  # within a byte a message


def test_a_users_corpus_size_is_its_files_share_with_room_for_crlf(tmp_path):
    path = tmp_path / "user.mbox"
    box = mailbox.mbox(str(path))
    for raw in generate_messages(10, 1):
        box.add(raw.replace(b"\r\n", b"\n"))
    box.close()
    size = path.stat().st_size
    assert corpus_bytes(FileCorpus(path), 10) == pytest.approx(size * 1.05, abs=1)
    assert corpus_bytes(FileCorpus(path), 5) == pytest.approx(size * 0.5 * 1.05, abs=1)
    assert corpus_bytes(FileCorpus(path), 10) >= sum(map(len, generate_messages(10, 1)))


def cells(server: str, scenario: str, count: int) -> list[Cell]:
    return [Cell(scenario, server, "imap", f"v{i}") for i in range(count)]


def samples(cell: Cell) -> int:
    return {"bulk-fetch": 5, "multi-device-sync": 3}[cell.scenario]


def no_templates(server: str) -> int:
    return 0


def test_the_server_with_the_most_mailboxes_sets_docker_s_need_and_the_most_copies_the_client_s():
    plan = cells("dovecot", "bulk-fetch", 4) + cells("cyrus", "bulk-fetch", 2) + cells("cyrus", "multi-device-sync", 1)
    needs = run_needs(plan, samples, no_templates, 1 * GB, 1000, ROOT, TMP, OUT)
    mailbox = round(GB * OVERHEAD)
    assert needs == [
        Need("Docker's data root", ROOT, 20 * mailbox, "20 mailboxes of 1,000 messages, 1.10 GB each, on dovecot"),
        Need("the run's working folder", TMP, 3 * mailbox, "3 device copies of a mailbox"),
        Need("the output folder", OUT, REPORT_BYTES, "the results and the report"),
    ]
    with_templates = run_needs(plan, samples, {"dovecot": 2, "cyrus": 8}.get, 1 * GB, 1000, ROOT, TMP, OUT)
    assert with_templates[0] == Need("Docker's data root", ROOT, 22 * mailbox,
                                     "22 mailboxes of 1,000 messages, 1.10 GB each, on dovecot")


def test_templates_are_counted_where_a_server_copies_mailboxes_one_per_scenario_and_variant():
    plan = cells("dovecot", "bulk-fetch", 3) + cells("cyrus", "bulk-fetch", 3) + cells("courier", "bulk-fetch", 1)
    plan += [Cell("bulk-fetch", "dovecot", "pop3-keep", "v0")]  # the same variant again: no other template
    assert [disk_space.templates(plan, server, copies=True) for server in ("dovecot", "cyrus", "courier")] == [3, 3, 1]
    assert disk_space.templates(plan, "dovecot", copies=False) == 0  # --deliver-each-sample


def test_without_docker_s_data_root_on_this_machine_it_is_not_checked():
    needs = run_needs(cells("dovecot", "bulk-fetch", 1), samples, no_templates, GB, 10, None, TMP, OUT)
    assert [need.place for need in needs] == ["the run's working folder", "the output folder"]
    assert needs[0].why == "1 device copy of a mailbox"


NEEDS = [Need("Docker's data root", ROOT, 50 * GB, "many mailboxes"), Need("the run's working folder", TMP, 5 * GB, "a copy"),
         Need("the output folder", OUT, REPORT_BYTES, "the results")]


def test_a_run_that_fits_everywhere_passes():
    separate = {ROOT: 1, TMP: 2, OUT: 3}
    assert shortfall(NEEDS, lambda path: 100 * GB, separate.__getitem__) is None
    assert shortfall(NEEDS, lambda path: 55 * GB + REPORT_BYTES + KEEP_FREE, lambda path: 1) is None


def test_places_on_one_file_system_add_up_and_keep_a_margin_free():
    just_short = 55 * GB + REPORT_BYTES + KEEP_FREE - 1
    line = shortfall(NEEDS, lambda path: just_short, lambda path: 1)
    assert line is not None and "\n" not in line
    assert line.startswith("not enough disk space for this run: Docker's data root /var/lib/docker, the run's "
                           "working folder /tmp, the output folder reports (one file system) has 56.10 GB free "
                           "and the run needs 56.10 GB there (50.00 GB for many mailboxes; 5.00 GB for a copy; "
                           "0.10 GB for the results; 1.00 GB kept free); run fewer samples or cells")
    assert "set TMPDIR to a larger file system" in line


def test_only_the_file_system_that_is_short_is_named_with_what_to_do_there():
    separate = {ROOT: 1, TMP: 2, OUT: 3}
    free = {ROOT: 20 * GB, TMP: 100 * GB, OUT: 100 * GB}
    line = shortfall(NEEDS, free.__getitem__, separate.__getitem__)
    assert line == ("not enough disk space for this run: Docker's data root /var/lib/docker has 20.00 GB free and "
                    "the run needs 51.00 GB there (50.00 GB for many mailboxes; 1.00 GB kept free); run fewer "
                    "samples or cells (--repeat, --server, --mode, --variant, --tls) or fewer --messages, or free "
                    "space there")
    free = {ROOT: 100 * GB, TMP: 100 * GB, OUT: 0}
    assert shortfall(NEEDS, free.__getitem__, separate.__getitem__).endswith("; choose another --out, or free space there")


def test_the_free_space_can_be_faked_for_the_check_alone(monkeypatch, tmp_path):
    monkeypatch.setenv(disk_space.FREE_ENV, "12345")
    assert disk_space.free_bytes(tmp_path / "not" / "made" / "yet") == 12345
    monkeypatch.delenv(disk_space.FREE_ENV)
    assert disk_space.free_bytes(tmp_path / "not" / "made" / "yet") > 0
    assert disk_space.file_system(tmp_path / "not" / "made") == disk_space.file_system(tmp_path)


def test_every_scenario_says_how_many_whole_copies_its_devices_keep():
    from scenarios import SCENARIOS

    copies = {name: scenario.whole_copies_on_devices() for name, scenario in SCENARIOS.items()}
    assert copies == {"bulk-fetch": 1, "multi-device-sync": 3, "offline-use": 2, "new-mail": 1,
                      "storage-exposure": 3, "interrupted-sync": 1,
                      "many-devices": 0}


def test_freed_mailboxes_count_the_templates_and_one_sample_s_on_the_server_with_the_most():
    plan = cells("dovecot", "bulk-fetch", 4) + cells("cyrus", "bulk-fetch", 2)
    needs = run_needs(plan, samples, lambda server: {"dovecot": 2, "cyrus": 0}[server], GB, 1000, ROOT, TMP, OUT,
                      freed=True)
    assert needs[0] == Need("Docker's data root", ROOT, 3 * round(GB * OVERHEAD),
                            "3 mailboxes of 1,000 messages, 1.10 GB each, on dovecot, each sample's freed after it")


class FakeDocker:
    def __init__(self, root: Path) -> None:
        self.root = root

    def info(self) -> dict[str, str]:
        return {"DockerRootDir": str(self.root)}


@pytest.fixture()
def on_one_disk(monkeypatch, tmp_path):
    """Every place of the check on one file system (the devices not in memory), and the free
    space that ``free`` sets; returns the check's arguments for 5 samples of 100 messages."""
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    corpus = GeneratedCorpus(seed=1)
    mailbox = round(corpus_bytes(corpus, 100) * OVERHEAD)

    def check(free: int) -> disk_space.DiskPlan:
        monkeypatch.setenv(disk_space.FREE_ENV, str(free))
        plan = [Cell("bulk-fetch", "dovecot", "imap", "full")]
        return disk_space.check(FakeDocker(tmp_path), plan, lambda cell: 5, corpus, 100, tmp_path / "out")

    fixed = REPORT_BYTES + KEEP_FREE + mailbox  # the output folder, the margin, the device's copy
    return check, fixed, mailbox


def test_a_run_that_fits_keeps_every_mailbox(on_one_disk):
    check, fixed, mailbox = on_one_disk
    decided = check(fixed + 6 * mailbox + 10)  # the template and 5 samples'
    assert not decided.free_mailboxes and decided.why is None


def test_a_run_that_fits_only_with_each_sample_s_mailbox_freed_frees_them_and_says_why(on_one_disk, tmp_path):
    check, fixed, mailbox = on_one_disk
    decided = check(fixed + 6 * mailbox - 10)
    assert decided.free_mailboxes
    assert decided.why.startswith("each sample's mailbox is freed after it: keeping them all would need ")
    assert "(6 mailboxes of 100 messages, " in decided.why and str(tmp_path) in decided.why
    assert "\n" not in decided.why


def test_a_run_that_does_not_fit_even_freed_is_refused_with_the_freed_need(on_one_disk):
    check, fixed, mailbox = on_one_disk
    with pytest.raises(disk_space.UsageError) as refused:
        check(fixed + 2 * mailbox - 10)  # the template and one sample's need 2
    assert "for 2 mailboxes of 100 messages, " in str(refused.value)
    assert "on dovecot, each sample's freed after it;" in str(refused.value)
