def test_cli_version(cli):
    result = cli("--version")
    assert result.exit_code == 0
    assert result.stdout.startswith("caselink ")


def test_store_on_both_engines(any_db_url):
    from caselink.store import CaseStore

    with CaseStore.open(any_db_url) as store:
        assert store.stats()["n_cases"] == 0
