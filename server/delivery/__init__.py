"""Reliable delivery on the server side: the gap ledger, agent status, MQTT ingest, rollups and the InfluxDB
forwarder."""
