"""The /dev/log sink for OpenBao's syslog audit device, when two test sessions share the one /dev/log."""

import socket
import time

from tests.support import syslog_sink
from tests.support.syslog_sink import DEV_LOG, SyslogSink


def deliver(text: str) -> None:
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sender:
        sender.sendto(text.encode(), str(DEV_LOG))


def test_a_session_whose_neighbour_left_binds_its_own_socket_and_the_neighbour_leaves_it_alone(
    openbao_syslog_session,
):
    first = SyslogSink()
    first.stop()  # nothing bound yet: stopping is harmless
    neighbour, ours = openbao_syslog_session, SyslogSink().start()
    assert neighbour.owned and not ours.owned  # the session's socket already listens there
    neighbour.stop()  # the other session ends and removes its socket
    assert not DEV_LOG.exists()
    assert ours.ensure() is ours and ours.owned and syslog_sink._listening()
    deliver("example-not-a-secret audit line")
    deadline = time.monotonic() + 5
    while not any("audit line" in message for message in ours.messages) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert any("audit line" in message for message in ours.messages)  # the line reached our socket
    neighbour.stop()  # a second stop must not remove the socket that is now ours
    assert DEV_LOG.exists() and syslog_sink._listening()
    ours.stop()
    assert not DEV_LOG.exists()  # ours removed it: it was its own
    assert openbao_syslog_session.ensure().owned  # the fixture binds again for the tests after this one
