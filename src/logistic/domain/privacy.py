"""What an anonymous caller may see of a recipient: enough to know the parcel, not to find them."""

from __future__ import annotations

import re

from attrs import evolve

from logistic.domain.model import Recipient, Shipment

_POSTCODE = re.compile(r"\d{3,6}\s*")
_COUNTRY = re.compile(r"(?:台灣|臺灣)")
# A city or county (臺北市, 澎湖縣, 阿里山市), then a district, township or county-level
# city (大安區, 吉安鄉, 金城鎮, 馬公市). Digits never belong to either.
_CITY = re.compile(r"[^\d\s]{1,3}?[縣市]")
# A 區 wins over an earlier 鎮 or 市 (前鎮區, 新市區, 平鎮區).
_DISTRICT = re.compile(r"[^\d\s]{1,3}?區|[^\d\s]{1,3}?[鄉鎮市]")
# Without a 縣 or 市 (Faker writes "861 三重中山路3號"), keep the two characters that
# name almost every Taiwanese city; a longer name is cut short, never the street kept.
_BARE_CITY_LENGTH = 2


def mask_name(name: str) -> str:
    """李小明 -> 李**: the family name stays."""
    name = name.strip()
    return name[:1] + "*" * (len(name) - 1)


def mask_phone(phone: str) -> str:
    """0966123401 -> 0966****01: the carrier prefix and the last two digits stay."""
    phone = phone.strip()
    if len(phone) <= 6:
        return "*" * len(phone)
    return phone[:4] + "*" * (len(phone) - 6) + phone[-2:]


def mask_address(address: str) -> str:
    """Only the city and the district: 澎湖縣馬公市中正路200號 -> 澎湖縣馬公市."""
    rest = address.strip()
    if postcode := _POSTCODE.match(rest):
        rest = rest[postcode.end() :]
    if country := _COUNTRY.match(rest):
        rest = rest[country.end() :]
    city = _CITY.match(rest)
    if city is None:
        bare = rest[:_BARE_CITY_LENGTH]
        return "" if any(char.isdigit() for char in bare) else bare
    district = _DISTRICT.match(rest, city.end())
    return rest[: (district or city).end()]


def masked(recipient: Recipient) -> Recipient:
    return Recipient(
        recipient.id,
        mask_name(recipient.name),
        mask_phone(recipient.phone),
        mask_address(recipient.address),
    )


def anonymized(shipment: Shipment) -> Shipment:
    """The shipment as an anonymous caller sees it: the same history, the recipient masked."""
    return evolve(shipment, recipient=masked(shipment.recipient))
