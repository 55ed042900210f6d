"""The test kit: what every test folder shares, one home each.

- `clock`: `Clock`, time the test controls (the server's `clock=` and the agent's Clock protocol)
- `ports`: `free_port()`, `port_open()`
- `waiting`: `wait_for()` / `wait_for_async()`: poll a condition with a deadline, never a fixed sleep
- `require`: `service_missing()` (fails in CI, skips elsewhere) and `binary()`
- `processes`: `Proc`, a child process with a log that can be stopped, SIGKILLed and started again
- `mosquitto`, `influxd`: brokers and databases of the test's own, on free loopback ports in a temp dir
- `databases`: SQLite and PostgreSQL databases from a migrated template
- `receivers`: a real SMTP server (aiosmtpd) and a webhook receiver on loopback
- `small_disk`: a tmpfs to fill up (the full-disk tests)
- `browser`: Debian's Chromium through Playwright, with the flags that keep it offline
- `server`: the server harness, in process (`build_app`, `seed`) and as a child process (`ServerProcess`)
- `server_internals`: the only module that reaches into the server's internals (repoint it when they move)

Fixtures built on these live in `tests/conftest.py`.
"""
