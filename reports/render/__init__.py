"""One module per output format, each a function of the evidence document that writes one file."""
