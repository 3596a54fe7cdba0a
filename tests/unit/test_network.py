import ipaddress

from kiosk.network import base_url_for, lan_addresses


def test_a_loopback_or_named_host_is_used_as_given():
    assert base_url_for("127.0.0.1", 5000) == "http://127.0.0.1:5000"
    assert base_url_for("192.168.1.20", 8080) == "http://192.168.1.20:8080"


def test_listening_everywhere_picks_a_lan_address():
    url = base_url_for("0.0.0.0", 5000)
    host = url.removeprefix("http://").removesuffix(":5000")
    assert host == "127.0.0.1" or host in lan_addresses()


def test_lan_addresses_skip_loopback_and_put_private_networks_first():
    addresses = [ipaddress.IPv4Address(a) for a in lan_addresses()]
    assert not any(a.is_loopback or a.is_link_local for a in addresses)
    privacy = [not a.is_private for a in addresses]
    assert privacy == sorted(privacy)
