"""The gates: each judges what one step produced and exits 0 (pass), 1 (fail) or 2 (could not judge), with one
summary line. ``python -m gates.<name>``: synth (app.py runs it), cfn_lint, checkov, custody, image, drills; the
load gate's judge is ``gates.load`` (``python -m load`` runs Locust and calls it)."""
