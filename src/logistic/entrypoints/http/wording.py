"""What the tracking pages say, in each of their languages: sentences, status names, dates."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime

from attrs import frozen

from logistic.domain.language import Language
from logistic.domain.status import Status

_WEEKDAYS_ZH = ("星期一", "星期二", "星期三", "星期四", "星期五", "星期六", "星期日")
_WEEKDAYS_EN = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTHS_EN = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip


@frozen
class Wording:
    """Every sentence of the pages in one language; `text[name]` may hold `{placeholders}`."""

    language: Language
    text: Mapping[str, str]
    statuses: Mapping[Status, str]
    explanations: Mapping[Status, str]

    def day(self, day: date) -> str:
        """A date in words: 12月10日（星期四）, Thursday 10 December."""
        if self.language is Language.ZH_HANT:
            return f"{day.month}月{day.day}日（{_WEEKDAYS_ZH[day.weekday()]}）"
        return f"{_WEEKDAYS_EN[day.weekday()]} {day.day} {_MONTHS_EN[day.month - 1]}"

    def days(self, first: date, last: date) -> str:
        """A span of days in words: 12月9日至11日, 9–11 December (months named when they differ)."""
        if self.language is Language.ZH_HANT:
            end = f"{last.day}日" if last.month == first.month else f"{last.month}月{last.day}日"
            return f"{first.month}月{first.day}日至{end}"
        month = _MONTHS_EN[last.month - 1]
        if first.month == last.month:
            return f"{first.day}–{last.day} {month}"
        return f"{first.day} {_MONTHS_EN[first.month - 1]} – {last.day} {month}"

    def moment(self, moment: datetime) -> str:
        """A local date and time, short: 2026年11月24日 04:03, 24 Nov 2026, 04:03."""
        if self.language is Language.ZH_HANT:
            return f"{moment.year}年{moment.month}月{moment.day}日 {moment:%H:%M}"
        return f"{moment.day} {_MONTHS_EN[moment.month - 1][:3]} {moment.year}, {moment:%H:%M}"


CHINESE = Wording(
    Language.ZH_HANT,
    text={
        "site": "包裹追蹤",
        "skip": "跳到主要內容",
        "switch": "English",
        "search_title": "查詢包裹",
        "search_intro": "輸入訂單編號，看看包裹現在在哪裡、何時送達。",
        "sno_label": "訂單編號",
        "sno_hint": "通知簡訊或電子郵件中的數字，例如 3",
        "search_button": "查詢",
        "order": "訂單 {sno}",
        "status": "目前狀態",
        "progress": "運送進度",
        "step_done": "（已完成）",
        "step_current": "（目前階段）",
        "step_ahead": "（尚未進行）",
        "estimate": "預計送達",
        "arrives": "預計{day}送達",
        "window": "十次有九次在{days}間送達",
        "due_late": "原預計{day}送達，可能延遲",
        "was_due": "原預計{day}送達",
        "delivered_on": "已於{day}送達",
        "location": "目前位置",
        "history": "配送紀錄",
        "history_note": "最新的在最上面，時間為 {zone} 當地時間",
        "no_events": "尚無紀錄",
        "recipient": "收件人",
        "name": "姓名",
        "phone": "電話",
        "address": "地址",
        "reveal_title": "您是收件人嗎？",
        "reveal_intro": "輸入收件人電話號碼的末四碼，即可在此頁查看完整姓名與地址。",
        "digits_label": "電話末四碼",
        "reveal_button": "顯示完整資料",
        "revealed": "完整的收件人資料只顯示在這一頁，不會被儲存。",
        "digits_wrong": "號碼不符，請再試一次。每個訂單每小時最多可試 5 次。",
        "digits_malformed": "請輸入 4 位數字。",
        "refreshing": "此頁每 {seconds} 秒自動檢查最新狀態。",
        "updated": "已更新：{status}",
        "again": "查詢其他包裹",
        "not_found_title": "查無此訂單",
        "not_found": "找不到訂單編號 {sno} 的包裹。請核對通知中的號碼後再試一次。",
        "bad_title": "訂單編號格式不正確",
        "bad_sno": "「{raw}」不是訂單編號：訂單編號只由數字組成，例如 3。",
        "empty_sno": "請輸入訂單編號。",
        "too_many_title": "查詢次數過多",
        "too_many": "請於 {seconds} 秒後再試。",
        "too_many_tries": "這個訂單或您的連線已試過太多次電話末四碼，請於 {seconds} 秒後再試。",
        "unavailable_title": "暫時無法查詢",
        "unavailable": "系統暫時無法回應，請稍後再試。",
        "broken_title": "發生錯誤",
        "broken": "錯誤已記錄，請稍後再試。",
        "no_page_title": "找不到這個網頁",
        "no_page": "這個網址沒有網頁。請在下方輸入訂單編號查詢。",
    },
    statuses={
        Status.CREATED: "已建立訂單",
        Status.PACKAGE_RECEIVED: "已收件",
        Status.IN_TRANSIT: "運送中",
        Status.OUT_FOR_DELIVERY: "配送中",
        Status.DELIVERY_ATTEMPTED: "配送未成功",
        Status.DELIVERED: "已送達",
        Status.RETURNED_TO_SENDER: "已退回寄件人",
        Status.EXCEPTION: "異常",
    },
    explanations={
        Status.CREATED: "訂單已建立，包裹尚未送到物流中心。",
        Status.PACKAGE_RECEIVED: "物流中心已收到包裹。",
        Status.IN_TRANSIT: "包裹正在運送途中。",
        Status.OUT_FOR_DELIVERY: "包裹正在配送，請留意收件。",
        Status.DELIVERY_ATTEMPTED: "配送員曾嘗試送達但未成功，將再次配送。",
        Status.DELIVERED: "包裹已送達。",
        Status.RETURNED_TO_SENDER: "包裹已退回寄件人。",
        Status.EXCEPTION: "運送途中發生異常，物流中心正在處理，可能延遲送達。",
    },
)

ENGLISH = Wording(
    Language.EN,
    text={
        "site": "Parcel tracking",
        "skip": "Skip to the main content",
        "switch": "中文",
        "search_title": "Track a parcel",
        "search_intro": "Type your order number to see where your parcel is and when it arrives.",
        "sno_label": "Order number",
        "sno_hint": "The number in your text message or email, such as 3",
        "search_button": "Track",
        "order": "Order {sno}",
        "status": "Status",
        "progress": "Progress",
        "step_done": "(done)",
        "step_current": "(current stage)",
        "step_ahead": "(not yet)",
        "estimate": "Estimated delivery",
        "arrives": "Arrives {day}",
        "window": "arrives {days}, nine times in ten",
        "due_late": "Was due {day}; it may be late",
        "was_due": "Was due {day}",
        "delivered_on": "Delivered {day}",
        "location": "Current location",
        "history": "History",
        "history_note": "Newest first, in {zone} local time",
        "no_events": "No events yet",
        "recipient": "Recipient",
        "name": "Name",
        "phone": "Phone",
        "address": "Address",
        "reveal_title": "Are you the recipient?",
        "reveal_intro": (
            "Type the last four digits of the recipient's phone number to see their full "
            "name and address on this page."
        ),
        "digits_label": "Last four digits of the phone number",
        "reveal_button": "Show the full details",
        "revealed": "The recipient's full details are shown on this page only and are not stored.",
        "digits_wrong": "Those digits do not match. Each order allows 5 tries an hour.",
        "digits_malformed": "Type 4 digits.",
        "refreshing": "This page checks for news every {seconds} seconds.",
        "updated": "Updated: {status}",
        "again": "Track another parcel",
        "not_found_title": "Order not found",
        "not_found": (
            "No parcel has the order number {sno}. Check the number in your notification "
            "and try again."
        ),
        "bad_title": "That is not an order number",
        "bad_sno": "“{raw}” is not an order number: order numbers are digits only, such as 3.",
        "empty_sno": "Type an order number.",
        "too_many_title": "Too many lookups",
        "too_many": "Please try again in {seconds} seconds.",
        "too_many_tries": (
            "Too many tries of the phone digits for this order or from your connection. "
            "Please try again in {seconds} seconds."
        ),
        "unavailable_title": "Tracking is unavailable for a moment",
        "unavailable": "The service cannot answer right now. Please try again in a minute.",
        "broken_title": "Something went wrong",
        "broken": "It has been logged. Please try again later.",
        "no_page_title": "No such page",
        "no_page": "There is no page at this address. Type an order number below.",
    },
    statuses={status: status.value for status in Status},
    explanations={
        Status.CREATED: "The order is placed; the parcel has not reached a logistics center yet.",
        Status.PACKAGE_RECEIVED: "A logistics center has received the parcel.",
        Status.IN_TRANSIT: "The parcel is on its way.",
        Status.OUT_FOR_DELIVERY: "The parcel is out for delivery.",
        Status.DELIVERY_ATTEMPTED: (
            "The courier could not deliver the parcel; they will try again."
        ),
        Status.DELIVERED: "The parcel has been delivered.",
        Status.RETURNED_TO_SENDER: "The parcel has been returned to its sender.",
        Status.EXCEPTION: (
            "Something went wrong on the way; the logistics center is dealing with it and "
            "the parcel may be late."
        ),
    },
)

WORDINGS = {wording.language: wording for wording in (CHINESE, ENGLISH)}
