"""The addresses at which phones on the venue Wi-Fi can reach this server."""

from __future__ import annotations

import ipaddress
import socket

import psutil

from kiosk.config import EVERY_INTERFACE

_VIRTUAL_INTERFACES = ("lo", "docker", "br-", "veth", "virbr", "tun", "tap")
_EVERY_INTERFACE = (EVERY_INTERFACE, "", "::")


def lan_addresses() -> list[str]:
    """IPv4 addresses of the interfaces that are up, private (venue) networks first."""
    stats = psutil.net_if_stats()
    found: list[ipaddress.IPv4Address] = []
    for interface, addresses in psutil.net_if_addrs().items():
        if interface.startswith(_VIRTUAL_INTERFACES) or not getattr(
            stats.get(interface), "isup", False
        ):
            continue
        for address in addresses:
            if address.family != socket.AF_INET:
                continue
            ip = ipaddress.IPv4Address(address.address)
            if not (ip.is_loopback or ip.is_link_local):
                found.append(ip)
    return [str(ip) for ip in sorted(found, key=lambda ip: (not ip.is_private, ip))]


def base_url_for(host: str, port: int) -> str:
    """The URL QR codes should carry when nothing was configured."""
    if host in _EVERY_INTERFACE:
        addresses = lan_addresses()
        host = addresses[0] if addresses else "127.0.0.1"
    return f"http://{host}:{port}"
