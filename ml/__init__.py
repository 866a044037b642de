"""Models trained on the lake (predictive maintenance, quality prediction); see ml/README.md. A layer below
`pipelines` and `plantlake`: it reads the lake through `lakehouse` only."""
