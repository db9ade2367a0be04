"""Masking a recipient for anonymous callers."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from logistic.domain.model import Recipient
from logistic.domain.privacy import mask_address, mask_name, mask_phone, masked


@pytest.mark.parametrize(
    ("name", "shown"),
    [("李小明", "李**"), ("王明", "王*"), ("歐陽娜娜", "歐***"), ("林", "林"), ("", "")],
)
def test_a_name_keeps_its_first_character(name: str, shown: str) -> None:
    assert mask_name(name) == shown


@pytest.mark.parametrize(
    ("phone", "shown"),
    [("0966123401", "0966****01"), ("0912345678", "0912****78"), ("123456", "******"), ("", "")],
)
def test_a_phone_keeps_its_first_four_and_last_two_digits(phone: str, shown: str) -> None:
    assert mask_phone(phone) == shown


@pytest.mark.parametrize(
    ("address", "shown"),
    [
        # real addresses: city or county, then district, township or county-level city
        ("澎湖縣馬公市中正路200號", "澎湖縣馬公市"),
        ("臺北市大安區羅斯福路四段1號", "臺北市大安區"),
        ("新竹市東區光復路二段101號", "新竹市東區"),
        ("金門縣金城鎮民生路60號", "金門縣金城鎮"),
        ("花蓮縣吉安鄉中山路一段1號", "花蓮縣吉安鄉"),
        ("100台北市中正區重慶南路一段122號", "台北市中正區"),
        ("台灣高雄市前鎮區中山二路2號", "高雄市前鎮區"),
        ("桃園市平鎮區中豐路一段1號", "桃園市平鎮區"),
        ("臺北市大安區市民大道三段1號", "臺北市大安區"),
        # the formats Faker's zh_TW provider writes: postcode, city, street, number
        ("861 三重縣中山路3號7樓", "三重縣"),
        ("83953 楊梅市雙連路8段122號之0", "楊梅市"),
        ("49586 阿里山市中山巷862號之8", "阿里山市"),
        ("749 三重東湖路9號2樓", "三重"),
        ("279 臺中國凱八德巷239號之6", "臺中"),
        # nothing recognisable: nothing of the street
        ("12號", ""),
        ("", ""),
    ],
)
def test_an_address_is_cut_to_city_and_district(address: str, shown: str) -> None:
    assert mask_address(address) == shown


@given(st.text(max_size=40))
def test_a_masked_address_is_a_short_digit_free_piece_of_the_original(address: str) -> None:
    shown = mask_address(address)
    assert len(shown) <= 8
    assert not any(char.isdigit() for char in shown)
    assert shown in address


def test_masked_keeps_the_id() -> None:
    recipient = Recipient(7, "李小明", "0966123401", "澎湖縣馬公市中正路200號")
    assert masked(recipient) == Recipient(7, "李**", "0966****01", "澎湖縣馬公市")
