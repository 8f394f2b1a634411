"""Evidence generator: reads what the gates wrote, normalizes it into records, maps records to controls,
and renders the bundle auditors read (``python -m reports``; output in ``reports/out/``)."""
