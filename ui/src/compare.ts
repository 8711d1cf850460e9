// The compare view: the original and the result stacked, the result clipped by a slider, with
// "Fit" / "100 %" zoom, and the two sides of the report next to it.

import { convertFileSrc } from "@tauri-apps/api/core";
import { commands, type Report_Serialize } from "./bindings";
import { copyButton, handleCopyClicks } from "./copy";
import { append, h, icon } from "./dom";
import { formatBytes, formatDimensions, formatExactBytes, formatName, formatPercent, savedRatio } from "./format";
import { Modal } from "./modal";
import { errorText } from "./notice";
import { type ResultPlace, type Store, reportOf, resultPlace } from "./store";

type Zoom = "fit" | "actual";


export class CompareDialog {
  readonly el: HTMLDialogElement;
  private readonly modal: Modal;
  private readonly title: HTMLElement;
  private readonly subtitle: HTMLElement;
  private readonly viewport: HTMLElement;
  private readonly stage: HTMLElement;
  private readonly before: HTMLImageElement;
  private readonly after: HTMLImageElement;
  private readonly divider: HTMLElement;
  private readonly slider: HTMLInputElement;
  private readonly zoomButton: HTMLButtonElement;
  private readonly message: HTMLElement;
  private readonly report: HTMLElement;
  private zoom: Zoom = "fit";
  /** Guards against a slow preview answer for a file that is no longer shown. */
  private token = 0;
  private currentId: number | null = null;

  constructor(private readonly store: Store, restoreFocus: (id: number) => boolean) {
    this.title = h("h2", { id: "compare-title" });
    this.subtitle = h("p", { class: "dialog-subtitle" });
    this.zoomButton = h("button", { type: "button", class: "segmented", "data-testid": "zoom", "aria-pressed": "false", title: "Toggle between fitting the window and actual pixels" },
      h("span", { class: "seg seg-fit" }, "Fit"), h("span", { class: "seg seg-actual" }, "100 %"));
    const close = h("button", { type: "button", class: "icon-button", "data-testid": "close-compare", "aria-label": "Close", title: "Close (Esc)" }, icon("close", 18));

    this.before = h("img", { "data-side": "before", alt: "Original", draggable: "false" });
    this.after = h("img", { "data-side": "after", alt: "Result", draggable: "false" });
    this.divider = h("div", { class: "divider-line", "aria-hidden": "true" }, h("span", { class: "divider-knob" }));
    this.stage = h("div", { class: "stage" },
      this.before, this.after, this.divider,
      h("span", { class: "tag tag-before", "aria-hidden": "true" }, "Before"),
      h("span", { class: "tag tag-after", "aria-hidden": "true" }, "After"),
    );
    this.message = h("div", { class: "stage-message", hidden: true });
    this.viewport = h("div", { class: "stage-viewport", "data-zoom": "fit" }, this.stage, this.message);
    this.slider = h("input", { type: "range", min: 0, max: 100, step: 0.5, value: 50, id: "compare-slider", "data-testid": "compare-slider", "aria-label": "Split between before and after" });
    this.report = h("aside", { class: "compare-report", "aria-label": "Report" });

    this.el = h("dialog", { class: "dialog compare", "data-testid": "compare", "aria-labelledby": "compare-title" },
      h("header", { class: "dialog-head" },
        h("div", { class: "dialog-titles" }, this.title, this.subtitle),
        h("div", { class: "dialog-head-actions" }, this.zoomButton, close),
      ),
      h("div", { class: "compare-body" },
        h("div", { class: "compare-view" },
          this.viewport,
          h("div", { class: "slider-row" },
            h("span", { class: "muted" }, "Before"), this.slider, h("span", { class: "muted" }, "After")),
        ),
        this.report,
      ),
    );

    this.modal = new Modal(this.el, {
      restoreFocus: () => (this.currentId === null ? false : restoreFocus(this.currentId)),
      onClose: () => {
        this.token++;
        this.before.removeAttribute("src");
        this.after.removeAttribute("src");
      },
    });
    close.addEventListener("click", () => this.modal.close());
    this.zoomButton.addEventListener("click", () => this.setZoom(this.zoom === "fit" ? "actual" : "fit"));
    this.slider.addEventListener("input", () => this.setSplit(Number(this.slider.value)));
    this.after.addEventListener("load", () => this.sizeStage());
    this.before.addEventListener("load", () => this.sizeStage());
    this.dragToSplit();
    handleCopyClicks(this.report);
  }

  get isOpen(): boolean {
    return this.modal.open;
  }

  close(): void {
    this.modal.close();
  }

  /** Opens the dialog for a file, then loads its preview. */
  async open(id: number): Promise<void> {
    const item = this.store.get(id);
    if (!item) return;
    const token = ++this.token;
    this.currentId = id;
    this.title.textContent = item.name;
    this.subtitle.textContent = item.path;
    this.subtitle.title = item.path;
    this.setSplit(50);
    this.setZoom("fit");
    this.showMessage("Loading…");
    this.renderReport(reportOf(item.status), resultPlace(item.status));
    this.modal.show(this.slider);

    let result;
    try {
      result = await commands.preview(id);
    } catch (err) {
      result = { status: "error" as const, error: errorText(err) };
    }
    if (token !== this.token) return;
    if (result.status === "error") {
      this.showMessage(`Could not open the preview: ${result.error}`);
      return;
    }
    const { original, output, report } = result.data;
    this.showMessage(null);
    this.before.src = convertFileSrc(original);
    this.after.src = convertFileSrc(output ?? original);
    this.renderReport(report ?? reportOf(item.status), resultPlace(item.status) ?? (output ? { kind: "file", path: output } : null));
  }

  private setSplit(percent: number): void {
    const p = Math.max(0, Math.min(100, percent));
    this.slider.value = String(p);
    this.after.style.clipPath = `inset(0 0 0 ${p}%)`;
    this.divider.style.left = `${p}%`;
  }

  private setZoom(zoom: Zoom): void {
    this.zoom = zoom;
    this.viewport.dataset.zoom = zoom;
    this.zoomButton.setAttribute("aria-pressed", String(zoom === "actual"));
    this.zoomButton.setAttribute("aria-label", zoom === "fit" ? "Zoom: fit to window (press for 100 %)" : "Zoom: 100 % (press to fit)");
    this.sizeStage();
  }

  /** At 100 % the stage takes the result's pixel size (the original is scaled onto it). */
  private sizeStage(): void {
    if (this.zoom === "fit") {
      this.stage.style.width = "";
      this.stage.style.height = "";
      return;
    }
    const ref = this.after.naturalWidth ? this.after : this.before;
    if (!ref.naturalWidth) return;
    this.stage.style.width = `${ref.naturalWidth}px`;
    this.stage.style.height = `${ref.naturalHeight}px`;
  }

  /** Dragging on the picture moves the split, like the slider. */
  private dragToSplit(): void {
    let dragging = false;
    const move = (e: PointerEvent) => {
      const rect = this.stage.getBoundingClientRect();
      if (rect.width > 0) this.setSplit(((e.clientX - rect.left) / rect.width) * 100);
    };
    this.stage.addEventListener("pointerdown", (e) => {
      if (e.button !== 0) return;
      dragging = true;
      this.stage.setPointerCapture?.(e.pointerId);
      move(e);
    });
    this.stage.addEventListener("pointermove", (e) => dragging && move(e));
    const stop = () => (dragging = false);
    this.stage.addEventListener("pointerup", stop);
    this.stage.addEventListener("pointercancel", stop);
  }

  private showMessage(text: string | null): void {
    this.message.hidden = text === null;
    this.message.textContent = text ?? "";
    this.stage.hidden = text !== null;
  }

  private renderReport(report: Report_Serialize | null, place: ResultPlace | null): void {
    if (!report) {
      this.report.replaceChildren(h("p", { class: "muted" }, "No report for this file yet."));
      return;
    }
    const { input, output } = report;
    const ratio = savedRatio(input.size, output.size);
    const hashCell = (hash: string, label: string) => {
      const b = copyButton(label);
      b.dataset.copy = hash;
      return h("td", {}, h("div", { class: "hash-full" }, h("code", { title: hash }, hash), b));
    };
    const table = h("table", { class: "facts" },
      h("thead", {}, h("tr", {}, h("th", { scope: "col" }, h("span", { class: "sr-only" }, "Fact")), h("th", { scope: "col" }, "Before"), h("th", { scope: "col" }, "After"))),
      h("tbody", {},
        h("tr", {}, h("th", { scope: "row" }, "Format"), h("td", {}, formatName(input.format)), h("td", {}, formatName(output.format))),
        h("tr", {}, h("th", { scope: "row" }, "Dimensions"),
          h("td", { class: "num" }, formatDimensions(input.width, input.height)),
          h("td", { class: "num" }, formatDimensions(output.width, output.height))),
        h("tr", {}, h("th", { scope: "row" }, "Size"),
          h("td", { class: "num", title: formatExactBytes(input.size) }, formatBytes(input.size)),
          h("td", { class: "num", title: formatExactBytes(output.size) }, formatBytes(output.size))),
        h("tr", {}, h("th", { scope: "row" }, "MIME"), h("td", {}, input.mime), h("td", {}, output.mime)),
      ),
    );
    const hashes = h("table", { class: "facts hashes" },
      h("tbody", {},
        h("tr", {}, h("th", { scope: "row" }, "SHA-256 before"), hashCell(input.hashes.sha256, "Copy SHA-256 of the original")),
        h("tr", {}, h("th", { scope: "row" }, "SHA-256 after"), hashCell(output.hashes.sha256, "Copy SHA-256 of the result")),
      ),
    );
    const warnings = report.warnings ?? [];
    this.report.replaceChildren();
    append(this.report, [
      h("div", { class: `saved-banner${ratio !== null && ratio > 0 ? " gain" : ""}` },
        h("span", { class: "saved-big" }, formatPercent(ratio)),
        h("span", {}, report.status === "skipped" ? `kept the original${report.reason ? `: ${report.reason}` : ""}` : `smaller · ${formatBytes(input.size - output.size)} saved`),
      ),
      table,
      hashes,
      h("h3", {}, "Actions"),
      report.actions.length
        ? h("ul", { class: "report-list" }, ...report.actions.map((a) => h("li", {}, a)))
        : h("p", { class: "muted" }, "None"),
      h("h3", {}, "Warnings"),
      warnings.length
        ? h("ul", { class: "report-list warnings" }, ...warnings.map((w) => h("li", {}, w)))
        : h("p", { class: "muted" }, "None"),
      place ? h("h3", {}, place.kind === "url" ? "Uploaded to" : "Saved as") : null,
      place ? h("p", { class: "path", title: place.kind === "url" ? place.url : place.path }, place.kind === "url" ? place.url : place.path) : null,
    ]);
  }
}
