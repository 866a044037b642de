"""MES and WMS events from an MQTT broker into bronze (`plantlake listen`)."""
