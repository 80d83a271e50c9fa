"""The link a teacher shares reaches the class: the public address, the experiment's values, never the projector view.

Unit tests of the link builder (``controls.url.class_link`` and the two
addresses it chooses between), the QR code read back from the very SVG the
share panel serves (rasterized by cairosvg, decoded by zxing-cpp), and a
teacher's session in presentation mode whose link, opened fresh, gives the
same figure settings in normal mode.
"""
from __future__ import annotations

import base64
import io
import re
import urllib.parse

import pytest
from conftest import no_exception, open_link

from controls import url as url_state

PUBLIC = "https://lab.example.edu/errors"
HOSTILE = {
    "amp": "a&b=c",
    "hash": "x#frag",
    "space": "two words",
    "slash": "../../etc/passwd",
    "question": "?present=1",
    "script": '<script>alert("x")</script>',
    "newline": "line\r\nSet-Cookie: a=b",
    "unicode": "η² · 学习率",
    "percent": "%41%00",
    "plus": "1+1",
}


def query_of(link: str) -> dict[str, str]:
    """The link's parameters as its reader's server parses them (each given once)."""
    pairs = urllib.parse.parse_qs(urllib.parse.urlsplit(link).query, keep_blank_values=True, strict_parsing=False)
    assert all(len(v) == 1 for v in pairs.values()), pairs
    return {k: v[0] for k, v in pairs.items()}


def test_the_public_address_names_the_server():
    public = url_state.public_address(PUBLIC + "/")
    assert public == PUBLIC
    link = url_state.class_link("momentum", {"m_lr": "0.05"}, public, "http://localhost:8501/momentum")
    assert link == PUBLIC + "/momentum?m_lr=0.05"
    assert url_state.class_link("", {}, public, "") == PUBLIC  # Home: the root itself


@pytest.mark.parametrize("setting", ["", "   ", "lab.example.edu", "javascript:alert(1)", "ftp://lab.example.edu",
                                     "https://", "https://lab.example.edu/?a=1", "https://lab.example.edu/#x"])
def test_a_setting_that_is_no_http_address_falls_back_to_the_browsers(setting):
    assert url_state.public_address(setting) is None
    link = url_state.class_link("momentum", {"m_lr": "0.05"}, url_state.public_address(setting),
                                url_state.browser_address("http://192.168.1.20:8501/momentum"))
    assert link == "http://192.168.1.20:8501/momentum?m_lr=0.05"


def test_the_fallback_is_the_address_the_browser_used():
    assert url_state.browser_address("https://lab.example.edu/x/momentum/") == "https://lab.example.edu/x/momentum"
    assert url_state.browser_address("http://10.0.0.5:8501/momentum") == "http://10.0.0.5:8501/momentum"
    # no URL from the browser: its Host header (and the proxy's scheme)
    assert url_state.browser_address(None, "10.0.0.5:8501", None, "momentum") == "http://10.0.0.5:8501/momentum"
    assert url_state.browser_address(None, "lab.example.edu", "https", "momentum") == "https://lab.example.edu/momentum"
    # nothing usable: no address at all (the panel says so), never a made-up localhost
    for url, host in ((None, None), ("javascript:alert(1)", None), (None, 'evil"><script>'), ("", "a b")):
        assert url_state.browser_address(url, host, None, "momentum") == ""


def test_the_link_never_carries_present_lang_or_a_preset():
    params = {"present": "1", "lang": "zh", "preset": "m_preset", "m_lr": "0.05", "m_steps": "120"}
    link = url_state.class_link("momentum", params, PUBLIC, "")
    assert query_of(link) == {"m_lr": "0.05", "m_steps": "120"}


def test_every_widget_value_is_kept_and_hostile_values_are_escaped():
    link = url_state.class_link("momentum", HOSTILE, PUBLIC, "")
    assert query_of(link) == HOSTILE  # every value reads back exactly, none added, none cut
    query = urllib.parse.urlsplit(link).query
    assert query.count("&") == len(HOSTILE) - 1 and query.count("=") == len(HOSTILE)  # separators only
    assert not re.search(r"[\s#<>\"'?]", link.split("?", 1)[1])  # nothing that ends the query or the line


@pytest.mark.parametrize("link", [PUBLIC + "/momentum?m_lr=0.05&m_steps=120",
                                  url_state.class_link("schedules", HOSTILE, PUBLIC, ""),
                                  url_state.class_link("playground", {f"x{i}_himmelblau": f"{i / 7!r}" for i in range(30)},
                                                       "http://192.168.1.20:8501", "")])
def test_the_qr_code_decodes_to_exactly_the_link(link):
    assert read_qr(url_state.qr_svg(link)) == link


def read_qr(svg: str) -> str:
    """The text of the one QR code in ``svg``: the drawing rasterized as served (cairosvg), read by zxing-cpp."""
    cairosvg = pytest.importorskip("cairosvg")  # needs Debian's libcairo2 (.ci/run installs it)
    zxingcpp = pytest.importorskip("zxingcpp")
    from PIL import Image

    png = cairosvg.svg2png(bytestring=svg.encode("utf-8"), output_width=600)
    found = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)).convert("L"))
    assert len(found) == 1 and found[0].format == zxingcpp.BarcodeFormat.QRCode, found
    return found[0].text


def share_panel(at, name: str = "class-link-qr") -> tuple[str, str, str]:
    """(the link shown in the Share panel, the SVG of its QR code ``name``, that code's box style)."""
    links = [c.value for c in at.code if "?" in c.value or "://" in c.value]
    assert links and len(set(links)) == 1, [c.value[:80] for c in at.code]
    qrs = [h.proto.body for h in at.get("html") if f'class="{name}"' in h.proto.body]
    assert len(qrs) == 1
    served = re.search(r'<img src="data:image/svg\+xml;base64,([A-Za-z0-9+/=]+)"', qrs[0]).group(1)
    style = re.search(r'style="([^"]*)"', qrs[0]).group(1)
    return links[0], base64.b64decode(served).decode("utf-8"), style


def test_a_presenting_teachers_link_opens_in_normal_mode_with_the_same_figure(monkeypatch):
    monkeypatch.setenv(url_state.PUBLIC_URL_ENV, PUBLIC)
    # (in English: AppTest formats a selectbox's value in its own thread's language when it sends it back)
    teacher = open_link("momentum", {"present": "1"})
    no_exception(teacher)
    assert teacher.session_state["present"] is True
    lr = next(w for w in teacher.select_slider if w.key == "m_lr")
    wanted = {"m_lr": float(lr.options[1]), "m_steps": 123}
    lr.set_value(wanted["m_lr"])
    teacher.number_input(key="m_steps").set_value(wanted["m_steps"])
    teacher.run()
    no_exception(teacher)
    link, svg, style = share_panel(teacher)
    assert link.startswith(PUBLIC + "/momentum?")
    query = query_of(link)
    assert "present" not in query and "lang" not in query
    assert read_qr(svg) == link and f"width: {url_state.QR_WIDTH}px" in style
    teacher.button(key=url_state.QR_BUTTON).click().run()  # the room's QR code: as tall as the window allows
    no_exception(teacher)
    room_link, room_svg, room_style = share_panel(teacher, "class-link-qr-room")
    assert room_link == link and read_qr(room_svg) == link
    assert f"width: {url_state.ROOM_QR_WIDTH[True]}" in room_style and "100vh" in room_style

    student = open_link("momentum", query)  # a fresh session: a student's phone
    no_exception(student)
    assert student.session_state["present"] is False
    assert not student.warning or "could not be used" not in student.warning[0].value
    for key, value in wanted.items():
        assert student.session_state[key] == value and type(student.session_state[key]) is type(value), key
    student_link, student_svg, _ = share_panel(student)
    assert student_link == link and read_qr(student_svg) == link  # the student's own share link is the teacher's
    student.button(key=url_state.QR_BUTTON).click().run()
    assert f"width: {url_state.ROOM_QR_WIDTH[False]}" in share_panel(student, "class-link-qr-room")[2]
