"""Data contracts: one Great Expectations 1.x suite per source entity, built in code and versioned here."""
