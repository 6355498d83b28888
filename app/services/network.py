"""The address phones use to reach this server, and the join URLs built on it."""

from __future__ import annotations

import ipaddress

import psutil
from flask import current_app

# Interfaces of containers and VPNs are rarely what a phone on the venue's Wi-Fi can reach.
_VIRTUAL_PREFIXES = ("lo", "docker", "br-", "veth", "virbr", "tun", "tap", "wg", "zt", "tailscale", "vmnet")


def lan_addresses() -> list[str]:
    """Return the machine's IPv4 addresses a phone on the same network could reach, best first."""
    found = []
    for name, addresses in psutil.net_if_addrs().items():
        if name.startswith(_VIRTUAL_PREFIXES):
            continue
        for addr in addresses:
            if addr.family.name != "AF_INET":
                continue
            ip = ipaddress.ip_address(addr.address)
            if ip.is_loopback or ip.is_link_local or ip.is_unspecified:
                continue
            found.append(ip)
    found.sort(key=lambda ip: (not ip.is_private, str(ip)))
    return [str(ip) for ip in found]


def exposed_urls(host: str, port: int) -> list[str] | None:
    """Return the addresses other machines reach a server listening on `host` by, or None if only this one does."""
    if host in ("localhost", ""):
        return None
    try:
        ip = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return [f"http://{host}:{port}"]
    if ip.is_loopback:
        return None
    addresses = lan_addresses() if ip.is_unspecified else [str(ip)]
    return [f"http://[{a}]:{port}" if ":" in a else f"http://{a}:{port}" for a in addresses]


def public_url() -> str:
    """Return the base URL put in join links and QR codes."""
    configured = current_app.config.get("PUBLIC_URL")
    if configured:
        return configured
    port = current_app.config.get("PORT", 5000)
    addresses = lan_addresses()
    host = addresses[0] if addresses else "127.0.0.1"
    return f"http://{host}:{port}"


def reachability_warning(url: str) -> str | None:
    """Say why phones may fail to reach this URL, or None when it looks fine."""
    from urllib.parse import urlsplit

    host = urlsplit(url).hostname or ""
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return None if host not in ("localhost", "") else "loopback"
    if ip.is_loopback:
        return "loopback"
    if ip.is_link_local:
        return "link_local"
    return None


def join_url(code: str) -> str:
    """Return the URL a phone opens to join a session."""
    return f"{public_url()}/j/{code}"


def event_url(slug: str) -> str:
    """Return the URL of an event's public page (programme, guests, sheets, join links)."""
    return f"{public_url()}/e/{slug}"


def wall_url(code: str) -> str:
    """Return the URL of a session's projector wall."""
    return f"{public_url()}/wall/{code}"
