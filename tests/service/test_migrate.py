from __future__ import annotations

from service.__main__ import main


def test_migrate_is_idempotent(postgres, monkeypatch, capsys):
    url = postgres.create_database("migrate_twice", "pw")
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("DB_SSLMODE", "disable")
    assert main(["migrate"]) == 0
    assert main(["migrate"]) == 0
    assert capsys.readouterr().out.splitlines() == ["migrate: schema at revision 0001"] * 2


def test_migrate_without_configuration_exits_2(monkeypatch, capsys):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("DB_HOST", raising=False)
    assert main(["migrate"]) == 2
    assert "set either DATABASE_URL" in capsys.readouterr().err


def test_migrate_with_the_database_down_exits_2(monkeypatch, capsys):
    from ops.postgres import free_port

    monkeypatch.setenv("DATABASE_URL", f"postgresql://x:y@127.0.0.1:{free_port()}/none")
    assert main(["migrate"]) == 2
    assert capsys.readouterr().err.startswith("migrate: database unavailable")
