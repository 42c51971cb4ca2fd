"""Every document a campaign's lifecycle writes, opened in headless Chromium: direction, language, no
missing values, and printed on A4 with the campaign in the page header and the page number below."""

import json
import re
import shutil
import subprocess
import tempfile
from html.parser import HTMLParser
from pathlib import Path

import pytest

from tests.conftest import Workspace, require
from tests.flows.samples import CAMPAIGN, LESSONS
from tests.flows.test_lifecycle import ok
from tests.flows.test_programme_views import held_decided_not_published
from tests.web.browser import ARTIFACTS

pytestmark = pytest.mark.prefect  # runs flows on Prefect's server

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
POPPLER = ("pdfinfo", "pdftotext", "pdftoppm")


def require_chromium() -> None:
    """Skip (or, with MUSHARAKA_TEST_REQUIRE_ALL=1, fail) a test on a machine without Chromium."""
    require(CHROMIUM is not None, "needs headless Chromium (Debian's `chromium`; .ci/run installs it)")


def require_poppler() -> None:
    """Skip (or fail, as above) a test on a machine without poppler's tools that read PDFs back."""
    missing = [tool for tool in POPPLER if shutil.which(tool) is None]
    require(not missing, f"needs {', '.join(missing)} (Debian's `poppler-utils`; .ci/run installs it)")


# Without these the browser tries the network and stalls on a machine that has none.
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

# Runs in the browser once the page is laid out; writes what it computed onto <html> for --dump-dom.
PROBE = """<script>
(() => {
  const root = document.documentElement;
  root.dataset.bodyDirection = getComputedStyle(document.body).direction;
  const figures = [...document.querySelectorAll("bdi[dir=ltr]")];
  root.dataset.figures = String(figures.length);
  root.dataset.figuresLtr = figures.filter(e => getComputedStyle(e).direction === "ltr").length;
  root.dataset.overflows = document.documentElement.scrollWidth > window.innerWidth ? "yes" : "no";
})();
</script>"""

MISSING = re.compile(r"\b(None|undefined|null|NaN|nan)\b")


def chromium(profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    assert CHROMIUM is not None  # required by the test that calls it
    command = [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=True)


class Dom(HTMLParser):
    """The rendered DOM: the root's attributes, the visible text, and cells with nothing in them."""

    def __init__(self) -> None:
        super().__init__()
        self.root: dict[str, str | None] = {}
        self.text: list[str] = []
        self.empty_cells = 0
        self._cell: list[str] | None = None
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "html":
            self.root = dict(attrs)
        if tag in ("script", "style", "title"):
            self._skip += 1
        if tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "title"):
            self._skip -= 1
        if tag in ("td", "th") and self._cell is not None:
            self.empty_cells += not "".join(self._cell).strip()
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._skip:
            return
        self.text.append(data)
        if self._cell is not None:
            self._cell.append(data)


def run_lifecycle(ws: Workspace) -> list[Path]:
    """The satisfaction survey from start to closed, with its audit bundle: every HTML document written."""
    held_decided_not_published(ws)
    ok(ws, "approve", CAMPAIGN, "announce", *ws.key("dg.planning"), now="2025-08-19T09:00+04:00")
    ok(ws, "submit", CAMPAIGN, "evaluate", str(ws.write("l.yaml", LESSONS)), now="2025-08-25T09:00+04:00")
    ok(ws, "advance", CAMPAIGN, now="2025-08-25T09:05+04:00")
    ok(ws, "approve", CAMPAIGN, "evaluate", *ws.key("dg.planning"), now="2025-08-26T09:00+04:00")
    history = json.loads(ok(ws, "history", CAMPAIGN, "--json", now="2025-09-01T12:00+04:00"))
    documents = [
        ws.out / d["path"] for e in history if e["type"] == "stage.completed" for d in e["payload"]["documents"]
    ]
    bundle = ws.root / "bundle"
    ok(ws, "audit", "export", "--campaign", CAMPAIGN, str(bundle), now="2025-09-01T12:00+04:00")
    return [*documents, bundle / "report.ar.html", bundle / "report.en.html"]


def test_every_document_renders_in_chromium_with_its_direction_and_no_missing_values(
    ws: Workspace, tmp_path: Path
) -> None:
    require_chromium()
    documents = run_lifecycle(ws)
    kinds = {(p.name.split("-")[0].split(".")[0], "ar" if ".ar." in p.name else "en") for p in documents}
    every = ("prepare", "plan", "conduct", "analyse", "announce", "evaluate", "report")
    assert kinds == {(kind, lang) for kind in every for lang in ("ar", "en")}
    shots = ARTIFACTS / "documents"  # kept after the run, for people to look at
    shots.mkdir(parents=True, exist_ok=True)
    probed = tmp_path / "probed"
    probed.mkdir()
    problems: list[str] = []
    for document in documents:
        html = document.read_text(encoding="utf-8")
        lang = "ar" if ".ar." in document.name else "en"
        copy = probed / document.name
        copy.write_text(html.replace("</body>", PROBE + "</body>"), encoding="utf-8")
        with tempfile.TemporaryDirectory() as profile:
            dom_text = chromium(Path(profile), "--window-size=1000,1400", "--dump-dom", copy.as_uri()).stdout
        shot = shots / (re.sub(r"\.[0-9a-f]{12}(?=\.html$)", "", document.name) + ".png")  # one per page
        shot.unlink(missing_ok=True)  # never an earlier run's
        with tempfile.TemporaryDirectory() as profile:
            chromium(Path(profile), "--window-size=1000,1400", f"--screenshot={shot}", document.as_uri())
        dom = Dom()
        dom.feed(dom_text)
        text = " ".join("".join(dom.text).split())
        expected_dir = "rtl" if lang == "ar" else "ltr"
        name = document.name
        if (dom.root.get("lang"), dom.root.get("dir")) != (lang, expected_dir):
            problems.append(f"{name}: <html lang dir> {dom.root.get('lang')} {dom.root.get('dir')}")
        if dom.root.get("data-body-direction") != expected_dir:
            problems.append(f"{name}: body direction computed as {dom.root.get('data-body-direction')}")
        if dom.root.get("data-figures") != dom.root.get("data-figures-ltr"):
            problems.append(f"{name}: {dom.root.get('data-figures')} dates/figures, only "
                            f"{dom.root.get('data-figures-ltr')} left to right")  # fmt: skip
        if dom.root.get("data-overflows") != "no":
            problems.append(f"{name}: wider than the window")
        if found := MISSING.findall(text):
            problems.append(f"{name}: missing values shown as {found}")
        if dom.empty_cells:
            problems.append(f"{name}: {dom.empty_cells} empty table cell(s)")
        if lang == "ar" and not re.search("[\u0600-\u06ff]{3}", text):
            problems.append(f"{name}: no Arabic text")
        png = shot.read_bytes() if shot.exists() else b""
        if not png.startswith(b"\x89PNG") or len(png) < 10_000:
            problems.append(f"{name}: no screenshot")
    assert problems == []
    assert {p.name.split(".")[1] for p in documents} == {"ar", "en"}


def test_a_printed_document_is_a4_with_the_campaign_in_each_page_header_and_numbered_pages(
    ws: Workspace, tmp_path: Path
) -> None:
    require_chromium()
    require_poppler()
    ok(ws, "start", CAMPAIGN, now="2025-06-15T09:00+04:00")
    ok(ws, "approve", CAMPAIGN, "prepare", *ws.key("dg.planning"), now="2025-06-16T09:00+04:00")
    plan_doc = next((ws.out / CAMPAIGN).glob("plan-1.ar.*.html"))
    pdf = tmp_path / "plan.ar.pdf"
    with tempfile.TemporaryDirectory() as profile:
        chromium(Path(profile), "--no-pdf-header-footer", f"--print-to-pdf={pdf}", plan_doc.as_uri())
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    assert re.search(r"Page size:.*pts \(A4\)", info), info
    pages = int(re.search(r"Pages:\s+(\d+)", info)[1])  # type: ignore[index]
    assert pages >= 2  # the plan document runs over more than one page
    for page in range(1, pages + 1):
        text = subprocess.run(
            ["pdftotext", "-f", str(page), "-l", str(page), "-layout", str(pdf), "-"],
            capture_output=True, text=True, check=True,
        ).stdout  # fmt: skip
        assert "الخدمات الرقمية — التخطيط" in text.strip().splitlines()[0], (page, text[:400])
        assert re.search(rf"\b{page}\s*/\s*{pages}\b", text), (page, text[-300:])


def test_pdf_writes_a4_pdfs_of_recorded_documents_and_refuses_a_changed_one(ws: Workspace, tmp_path: Path) -> None:
    require_poppler()
    ok(ws, "start", CAMPAIGN, now="2025-06-15T09:00+04:00")
    ok(ws, "approve", CAMPAIGN, "prepare", *ws.key("dg.planning"), now="2025-06-16T09:00+04:00")
    folder = tmp_path / "pdf"
    written = json.loads(
        ok(ws, "pdf", CAMPAIGN, "--stage", "plan", "--out", str(folder), "--json", now="2025-06-16T10:00+04:00")
    )
    assert sorted(row["lang"] for row in written) == ["ar", "en"]
    for row in written:
        pdf = Path(row["pdf"])
        assert pdf.parent == folder and pdf.name.startswith("plan-1.")
        info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
        assert re.search(r"Page size:.*pts \(A4\)", info), info
        text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
        title = "الخدمات الرقمية" if row["lang"] == "ar" else "Beneficiaries' satisfaction"
        assert title in text and "2025-07-06" in text
        subprocess.run(
            ["pdftoppm", "-r", "50", "-png", "-f", "1", "-l", "1", str(pdf), str(tmp_path / row["lang"])], check=True
        )  # fmt: skip — the first page as an image, to look at

    html = Path(written[0]["html"])
    html.write_text(html.read_text(encoding="utf-8").replace("</body>", "<p>edited</p></body>"), encoding="utf-8")
    result = ws.run("pdf", CAMPAIGN, "--stage", "plan", "--out", str(tmp_path / "again"), now="2025-06-16T10:00+04:00")
    assert result.exit_code == 1
    assert "changed since they were recorded" in result.stderr
    assert not (tmp_path / "again").exists()
