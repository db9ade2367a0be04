"""The logistics centers: reference data with stable ids, synced by `logistic migrate`."""

from __future__ import annotations

from logistic.domain.model import Location, Region

_OUTLYING = Region.OUTLYING_ISLANDS

LOGISTICS_CENTERS: tuple[Location, ...] = (
    Location(1, "花蓮物流中心", "花蓮縣", "花蓮縣花蓮市中山路100號"),
    Location(2, "臺北物流中心", "臺北市", "臺北市內湖區瑞光路200號"),
    Location(3, "桃園物流中心", "桃園市", "桃園市中壢區中央西路三段150號"),
    Location(4, "新北物流中心", "新北市", "新北市三重區重新路五段88號"),
    Location(5, "新竹物流中心", "新竹市", "新竹市東區光復路二段101號"),
    Location(6, "苗栗物流中心", "苗栗縣", "苗栗縣苗栗市中正路500號"),
    Location(7, "臺中物流中心", "臺中市", "臺中市西屯區臺灣大道三段99號"),
    Location(8, "彰化物流中心", "彰化縣", "彰化縣彰化市中山路二段250號"),
    Location(9, "南投物流中心", "南投縣", "南投縣南投市中興路660號"),
    Location(10, "雲林物流中心", "雲林縣", "雲林縣斗六市雲林路二段515號"),
    Location(11, "嘉義物流中心", "嘉義市", "嘉義市西區民族路300號"),
    Location(12, "臺南物流中心", "臺南市", "臺南市安平區永華路二段6號"),
    Location(13, "高雄物流中心", "高雄市", "高雄市前鎮區中山二路2號"),
    Location(14, "屏東物流中心", "屏東縣", "屏東縣屏東市自由路527號"),
    Location(15, "宜蘭物流中心", "宜蘭縣", "宜蘭縣宜蘭市中山路二段1號"),
    Location(16, "臺東物流中心", "臺東縣", "臺東縣臺東市中山路276號"),
    Location(17, "澎湖物流中心", "澎湖縣", "澎湖縣馬公市中正路200號", _OUTLYING),
    Location(18, "金門物流中心", "金門縣", "金門縣金城鎮民生路60號", _OUTLYING),
)
