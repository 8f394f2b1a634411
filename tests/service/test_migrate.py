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


def test_migrate_waits_for_another_task_longer_than_the_request_statement_timeout(postgres):
    import threading
    import time

    import psycopg
    from sqlalchemy import create_engine

    from service.migrate import ADVISORY_LOCK_ID, migrate

    url = postgres.create_database("migrate_wait", "pw")
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://"),
                           connect_args={"options": "-c statement_timeout=100"})
    holder = psycopg.connect(url, autocommit=True)
    holder.execute(f"SELECT pg_advisory_lock({ADVISORY_LOCK_ID})")  # another task is migrating
    release = threading.Timer(0.6, lambda: holder.execute(f"SELECT pg_advisory_unlock({ADVISORY_LOCK_ID})"))
    release.start()
    started = time.monotonic()
    assert migrate(engine) == "0001"
    assert time.monotonic() - started >= 0.5  # it waited for the lock instead of timing out after 100 ms
    release.join()
    holder.close()


def test_migrate_skips_a_read_replica(postgres, monkeypatch):
    from sqlalchemy import create_engine

    import service.migrate as migration

    url = postgres.create_database("migrate_replica", "pw")
    monkeypatch.setattr(migration, "_in_recovery", lambda connection: True)
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    assert migration.migrate(engine) == migration.SKIPPED_ON_REPLICA
