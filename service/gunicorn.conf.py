"""gunicorn settings from the environment; the access log is one JSON object per line."""

import os

bind = f"{os.environ.get('BIND_HOST', '0.0.0.0')}:{os.environ.get('PORT', '8080')}"  # nosec B104 - container port
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
worker_class = "gthread"
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
# ECS sends SIGTERM and waits stopTimeout (30 s by default) before SIGKILL: finish in-flight requests first.
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "25"))
# Longer than the ALB idle timeout (60 s), so the load balancer, not gunicorn, closes idle connections;
# otherwise a request can race a server-side close and surface as a 502.
keepalive = 65
preload_app = False
# No runtime control socket (gunicorn >= 25.1): every master would bind the same $HOME/.gunicorn/gunicorn.ctl,
# unlinking another's (the lab runs eight side by side), and its asyncio thread is stopped and restarted around
# each worker fork. A shutdown of `make serve` hung past 60 s under load with it on. Nothing here uses gunicornc:
# ECS stops tasks with SIGTERM.
control_socket_disable = True
accesslog = "-"
errorlog = "-"
access_log_format = (
    '{"event": "access", "remote": "%(h)s", "method": "%(m)s", "path": "%(U)s", "status": %(s)s, '
    '"bytes": "%(B)s", "duration_us": %(D)s, "request_id": "%({x-request-id}o)s", "agent": "%(a)s"}'
)
