"""What the report dashboard says, in each of the pages' languages (the frame's words,
the status names and dates are the tracking pages', in wording.py)."""

from __future__ import annotations

from collections.abc import Mapping

from logistic.domain.language import Language

DASHBOARD_TEXT: Mapping[Language, Mapping[str, str]] = {
    Language.ZH_HANT: {
        "title": "報表",
        "heading": "{slot} 報表",
        "generated": "產生於 {when}（{zone} 當地時間）",
        "figures": "重點數字",
        "total_orders": "訂單總數",
        "delivered_8h": "近 8 小時送達",
        "transit_median": "運送時間中位數",
        "transit_p90": "運送時間第 90 百分位",
        "on_time": "準時送達率",
        "stuck": "停滯訂單（超過 {hours} 小時無紀錄）",
        "exceptions": "異常訂單",
        "hours": "{value} 小時",
        "nothing": "—",
        "status_chart": "各狀態訂單數",
        "location_chart": "各物流中心訂單數",
        "on_time_trend": "準時送達率，最近 {count} 個時段",
        "volume_trend": "訂單總數，最近 {count} 個時段",
        "trend_desc": "{count} 個時段中有 {published} 個已發布",
        "trend_latest": "；{slot}：{value}",
        "table": "以表格顯示數字",
        "col_status": "狀態",
        "col_center": "物流中心",
        "col_orders": "訂單數",
        "col_slot": "時段",
        "col_on_time": "準時送達率",
        "not_published": "未發布",
        "navigation": "其他報表",
        "previous": "← 上一份報表",
        "next": "下一份報表 →",
        "latest": "最新報表",
        "slot_label": "時段（例如 2026-11-25T0800）",
        "show": "顯示",
        "downloads": "下載：",
        "sign_in_title": "登入報表",
        "sign_in_intro": (
            "報表需要具有 reports:read 權限的 API 金鑰。只需輸入一次，此瀏覽器會保持登入 12 小時。"
        ),
        "key_label": "API 金鑰",
        "sign_in_button": "登入",
        "sign_out": "登出",
        "wrong_key": "這個金鑰無效，請檢查後再試一次。",
        "empty_key": "請輸入 API 金鑰。",
        "missing_scope": "這個金鑰沒有讀取報表的權限（reports:read），請改用其他金鑰登入。",
        "expired": "登出表單已過期，請重新整理此頁後再登出。",
        "bad_slot_title": "時段格式不正確",
        "bad_slot": "「{raw}」不是報表時段：請寫成 2026-11-25T0800 這樣（00、08 或 16 點）。",
        "no_report_title": "查無此報表",
        "no_report": "{slot} 的報表尚未發布。",
        "none_yet": (
            "最近十天沒有發布任何報表。排程器會在 00:00、08:00 與 16:00 發布，"
            "`logistic report` 可立即發布一份。"
        ),
        "unavailable_title": "暫時無法讀取報表",
        "unavailable": "報表儲存空間暫時無法使用，請稍後再試。",
        "broken_title": "發生錯誤",
        "broken": "這一頁發生了錯誤，已記錄下來。請稍後再試。",
    },
    Language.EN: {
        "title": "Reports",
        "heading": "Report of {slot}",
        "generated": "Generated {when} ({zone} time)",
        "figures": "Key figures",
        "total_orders": "Orders",
        "delivered_8h": "Delivered in the last 8 hours",
        "transit_median": "Transit time, median",
        "transit_p90": "Transit time, 90th percentile",
        "on_time": "On-time rate",
        "stuck": "Stuck (no event for {hours} h)",
        "exceptions": "Exceptions",
        "hours": "{value} h",
        "nothing": "—",
        "status_chart": "Orders by status",
        "location_chart": "Orders by logistics center",
        "on_time_trend": "On-time rate, last {count} slots",
        "volume_trend": "Orders, last {count} slots",
        "trend_desc": "{published} of {count} slots published",
        "trend_latest": "; {slot}: {value}",
        "table": "The figures as a table",
        "col_status": "Status",
        "col_center": "Logistics center",
        "col_orders": "Orders",
        "col_slot": "Slot",
        "col_on_time": "On-time rate",
        "not_published": "not published",
        "navigation": "Other reports",
        "previous": "← Previous report",
        "next": "Next report →",
        "latest": "Latest report",
        "slot_label": "Slot (e.g. 2026-11-25T0800)",
        "show": "Show",
        "downloads": "Download:",
        "sign_in_title": "Sign in to the reports",
        "sign_in_intro": (
            "The reports need an API key with the scope reports:read. It is asked once: "
            "this browser stays signed in for 12 hours."
        ),
        "key_label": "API key",
        "sign_in_button": "Sign in",
        "sign_out": "Sign out",
        "wrong_key": "That key is not valid. Check it and try again.",
        "empty_key": "Type the API key.",
        "missing_scope": (
            "That key cannot read the reports (it lacks reports:read). Sign in with another key."
        ),
        "expired": "The sign-out form had expired: reload this page, then sign out again.",
        "bad_slot_title": "Not a report slot",
        "bad_slot": (
            "“{raw}” is not a report slot: write it like 2026-11-25T0800 (at 00, 08 or 16 o'clock)."
        ),
        "no_report_title": "No such report",
        "no_report": "No report has been published for {slot}.",
        "none_yet": (
            "No report was published in the last ten days. The scheduler publishes one at "
            "00:00, 08:00 and 16:00; `logistic report` publishes one now."
        ),
        "unavailable_title": "The reports cannot be read now",
        "unavailable": "The report store is not answering. Try again in a minute.",
        "broken_title": "Something went wrong",
        "broken": "This page failed; the error has been logged. Try again later.",
    },
}
