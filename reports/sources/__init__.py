"""One collector per evidence source. Each reads plain files the gates wrote and returns ``Collected``:
the records it found, or "not collected" with the reason when its input is absent."""
