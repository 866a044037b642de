"""Ingestion: landing MES, WMS and OPC UA data in bronze Delta tables under data contracts, exactly once."""
