"""The syslog sink when two test sessions share one socket path (/dev/log is one path per machine).

The sessions here are two sinks on a temporary path, so the test holds whatever this machine's /dev/log
is doing (another session, a syslog daemon); the sink binds /dev/log by the same code.
"""

import socket
import time

from tests.support import syslog_sink
from tests.support.syslog_sink import SyslogSink


def deliver(path, text: str) -> None:
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sender:
        sender.sendto(text.encode(), str(path))


def wait_for(sink: SyslogSink, words: str) -> bool:
    deadline = time.monotonic() + 5
    while not any(words in message for message in sink.messages) and time.monotonic() < deadline:
        time.sleep(0.01)
    return any(words in message for message in sink.messages)


def test_a_session_whose_neighbour_left_binds_its_own_socket_and_the_neighbour_leaves_it_alone(tmp_path):
    path = tmp_path / "log"
    first = SyslogSink(path)
    first.stop()  # nothing bound yet: stopping is harmless
    neighbour = SyslogSink(path).start()
    ours = SyslogSink(path).start()
    assert neighbour.owned and not ours.owned  # the neighbour's socket already listens there
    neighbour.stop()  # the other session ends and removes its socket
    assert not path.exists()
    assert ours.ensure() is ours and ours.owned and syslog_sink._listening(path)
    deliver(path, "example-not-a-secret audit line")
    assert wait_for(ours, "audit line")  # the line reached our socket
    neighbour.stop()  # a second stop must not remove the socket that is now ours
    assert path.exists() and syslog_sink._listening(path)
    ours.stop()
    assert not path.exists()  # ours removed it: it was its own


def test_a_socket_left_by_an_interrupted_run_is_replaced(tmp_path):
    path = tmp_path / "log"
    stale = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    stale.bind(str(path))
    stale.close()  # the file stays, nothing listens on it
    assert path.exists() and not syslog_sink._listening(path)
    sink = SyslogSink(path).start()
    try:
        assert sink.owned
        deliver(path, "example-not-a-secret after a crash")
        assert wait_for(sink, "after a crash")
    finally:
        sink.stop()
    assert not path.exists()


def test_the_session_fixture_keeps_a_socket_listening_on_dev_log(openbao_syslog_session):
    """Whichever session owns it, something receives on /dev/log for the bootstrap's syslog device."""
    assert openbao_syslog_session.ensure() is openbao_syslog_session
    assert syslog_sink._listening()
