"""plantlake's shared lakehouse core: settings, the table catalog, Delta IO, engines and parity checks."""
