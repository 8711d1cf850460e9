// Mounts the whole app against a mocked backend (mockIPC with mocked events, mockWindows),
// drops files, plays a files-updated batch and checks what the table, totals and dialogs show.

import { emit } from "@tauri-apps/api/event";
import { clearMocks, mockConvertFileSrc, mockIPC, mockWindows } from "@tauri-apps/api/mocks";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { type App, mountApp } from "../src/app";
import type { AddResult, ItemUpdate_Serialize, Settings_Serialize } from "../src/bindings";
import { done, hash, PRESETS, queued, settings, skipped } from "./fixtures";

type Call = { cmd: string; args: Record<string, unknown> };

let calls: Call[];
let app: App;
let saveError: string | null;
const ITEMS = [queued(0, 4_000_000, "beach.jpg"), queued(1, 2_000_000, "logo.png"), queued(2, 300_000, "scan.tiff"), queued(3, 1_000_000, "queued.jpg"), queued(4, 5_000_000, "big.jpg")];

const SHA_IN = hash("0123456789ab");
const SHA_OUT = hash("fedcba987654");

const nextFrame = () => new Promise<void>((resolve) => requestAnimationFrame(() => resolve()));
const row = (id: number) => document.querySelector<HTMLElement>(`[data-testid=row][data-id="${id}"]`)!;
const cell = (id: number, field: string) => row(id).querySelector<HTMLElement>(`[data-field=${field}]`)!;
const called = (cmd: string) => calls.filter((c) => c.cmd === cmd);
const key = (target: Element, k: string) => target.dispatchEvent(new KeyboardEvent("keydown", { key: k, bubbles: true, cancelable: true }));

beforeEach(async () => {
  calls = [];
  saveError = null;
  mockWindows("main");
  mockConvertFileSrc("linux");
  mockIPC(async (cmd, args) => {
    calls.push({ cmd, args: (args ?? {}) as Record<string, unknown> });
    switch (cmd) {
      case "list_presets":
        return PRESETS;
      case "load_settings":
        return settings();
      case "save_settings":
        if (saveError) throw saveError;
        return null;
      case "add_paths":
        return { items: ITEMS, errors: ["/photos/notes.txt: not an image"] } satisfies AddResult;
      case "preview":
        return { original: "/photos/beach.jpg", output: "/photos/beach-min.jpg", report: null };
      default:
        return null;
    }
  }, { shouldMockEvents: true });
  document.body.innerHTML = '<div id="app"></div>';
  app = mountApp(document.getElementById("app")!);
  await vi.waitFor(() => expect(document.body.dataset.ready).toBe("true"));
});

afterEach(() => {
  app.destroy();
  clearMocks();
  document.body.replaceChildren();
});

async function dropAndPlay(updates: ItemUpdate_Serialize[]) {
  await emit("tauri://drag-drop", { paths: ["/photos"], position: { x: 10, y: 10 } });
  await vi.waitFor(() => expect(called("add_paths")).toHaveLength(1));
  await nextFrame();
  await emit("files-updated", { updates });
  await nextFrame();
}

const BATCH: ItemUpdate_Serialize[] = [
  { id: 0, status: { state: "running" } },
  { id: 0, status: done(4_000_000, 1_000_000, SHA_IN, SHA_OUT) },
  { id: 1, status: skipped(2_000_000, "already optimal: the result was not smaller") },
  { id: 2, status: { state: "failed", reason: "truncated TIFF: unexpected end of data" } },
  { id: 4, status: { state: "running" } },
];

describe("the app", () => {
  it("starts empty with the drop zone, presets and settings loaded", () => {
    expect(document.querySelector<HTMLElement>("[data-testid=dropzone]")!.hidden).toBe(false);
    expect(document.querySelectorAll("[data-testid=row]")).toHaveLength(0);
    const select = document.querySelector<HTMLSelectElement>("select[data-testid=preset]")!;
    expect(Array.from(select.options, (o) => o.value)).toEqual(["balanced", "maximum", "web"]);
    expect(select.value).toBe("balanced");
    for (const id of ["add-files", "add-folder", "cancel-all", "retry-failed", "open-settings", "totals"]) {
      expect(document.querySelector(`[data-testid=${id}]`), id).not.toBeNull();
    }
  });

  it("highlights the window while dragging and adds dropped paths", async () => {
    await emit("tauri://drag-enter", { paths: ["/photos"], position: { x: 1, y: 1 } });
    expect(document.body.classList.contains("dragging")).toBe(true);
    await emit("tauri://drag-leave", {});
    expect(document.body.classList.contains("dragging")).toBe(false);

    await dropAndPlay([]);
    expect(called("add_paths")[0].args).toEqual({ paths: ["/photos"] });
    expect(document.body.classList.contains("dragging")).toBe(false);
    expect(document.querySelectorAll("[data-testid=row]")).toHaveLength(5);
    expect(document.querySelector<HTMLElement>("[data-testid=dropzone]")!.hidden).toBe(true);
    expect(row(3).dataset.state).toBe("queued");
    // Paths that could not be read are reported.
    expect(document.querySelector("[data-testid=notice]")!.textContent).toContain("/photos/notes.txt: not an image");
  });

  it("offers the compare view for pictures only", async () => {
    const pdf = done(6_648_423, 4_021_607);
    if (pdf.state !== "done") throw new Error("fixture");
    pdf.report.input = { ...pdf.report.input, type: "document", format: "pdf", mime: "application/pdf", width: undefined, height: undefined, pages: 42 };
    pdf.report.output = { ...pdf.report.output, type: "document", format: "pdf", mime: "application/pdf", width: undefined, height: undefined, pages: 42 };
    await dropAndPlay([{ id: 0, status: pdf }, { id: 1, status: done(2_000, 1_000) }]);
    expect(cell(0, "type").textContent).toBe("PDF");
    expect(row(0).dataset.state).toBe("done");
    expect(row(0).querySelector("[data-action]")).toBeNull();
    expect(row(1).querySelector("[data-action=compare]")).not.toBeNull();
    // What was done, and the page count, are on the status cell instead.
    const title = cell(0, "status").getAttribute("title")!;
    expect(title.split("\n")[0]).toBe("42 pages · 6.65 MB → 4.02 MB");
    expect(title).toContain("mozjpeg q75 4:2:0");
  });

  it("says a salvaged damaged input is damaged in its row, not just done", async () => {
    const salvaged = done(4_000_000, 1_000_000);
    if (salvaged.state === "done") salvaged.report.damage = "the JPEG data ends early: 40 % of the picture is missing";
    await dropAndPlay([{ id: 0, status: salvaged }, { id: 1, status: done(2_000_000, 1_000_000) }]);
    expect(row(0).dataset.state).toBe("done");
    expect(cell(0, "status").textContent).toContain("damaged input, salvaged: the JPEG data ends early: 40 % of the picture is missing");
    expect(cell(1, "status").textContent).not.toContain("damaged");
  });

  it("shows states, sizes, short hashes and reasons from a files-updated batch", async () => {
    await dropAndPlay(BATCH);

    expect(row(0).dataset.state).toBe("done");
    expect(row(0).dataset.bytesBefore).toBe("4000000");
    expect(row(0).dataset.bytesAfter).toBe("1000000");
    expect(row(0).dataset.shaBefore).toBe(SHA_IN);
    expect(row(0).dataset.shaAfter).toBe(SHA_OUT);
    expect(cell(0, "name").textContent).toContain("beach.jpg");
    expect(cell(0, "type").textContent).toBe("JPEG");
    expect(cell(0, "before").textContent).toBe("4.00 MB");
    expect(cell(0, "after").textContent).toBe("1.00 MB");
    expect(cell(0, "saved").textContent).toBe("75.0 %");
    expect(cell(0, "sha-before").textContent).toBe("0123456789ab");
    expect(cell(0, "sha-before").querySelector("[title]")!.getAttribute("title")).toBe(SHA_IN);
    expect(cell(0, "sha-after").textContent).toBe("fedcba987654");
    expect(cell(0, "status").textContent).toContain("Done");

    expect(row(1).dataset.state).toBe("skipped");
    expect(cell(1, "status").textContent).toContain("already optimal: the result was not smaller");
    expect(row(2).dataset.state).toBe("failed");
    expect(cell(2, "status").textContent).toContain("truncated TIFF: unexpected end of data");
    expect(row(2).hasAttribute("data-bytes-after")).toBe(false);
    expect(cell(2, "after").textContent).toBe("—");
    expect(row(4).dataset.state).toBe("running");
    expect(cell(4, "status").querySelector("[role=progressbar]")).not.toBeNull();

    // One action per state.
    expect(row(0).querySelector("[data-action=compare]")).not.toBeNull();
    expect(row(2).querySelector("[data-action=retry]")).not.toBeNull();
    expect(row(3).querySelector("[data-action=cancel]")).not.toBeNull();
    expect(row(4).querySelector("[data-action=cancel]")).not.toBeNull();
    expect(row(0).querySelector("[data-action=cancel]")).toBeNull();

    const totals = document.querySelector<HTMLElement>("[data-testid=totals]")!;
    expect(totals.dataset).toMatchObject({ files: "5", done: "1", failed: "1", bytesBefore: "6000000", bytesAfter: "3000000" });
    expect(totals.textContent).toContain("5 files");
    expect(totals.textContent).toContain("1 done");
    expect(totals.textContent).toContain("1 failed");
    expect(totals.textContent).toContain("6.00 MB → 3.00 MB");
    expect(totals.textContent).toContain("saved 50.0 %");
  });

  it("shows how far a long file is once the engine reports it", async () => {
    await dropAndPlay([]);
    await emit("files-updated", { updates: [{ id: 3, status: { state: "running" } }] });
    await nextFrame();
    const bar = () => cell(3, "status").querySelector<HTMLElement>("[role=progressbar]")!;
    expect(bar().hasAttribute("aria-valuenow")).toBe(false); // not known yet: indeterminate
    await emit("files-updated", { updates: [{ id: 3, status: { state: "running", progress: 0.42 } }] });
    await nextFrame();
    expect(bar().getAttribute("aria-valuenow")).toBe("42");
    expect(bar().querySelector<HTMLElement>(".progress-bar")!.style.width).toBe("42%");
    await emit("files-updated", { updates: [{ id: 3, status: { state: "cancelled" } }] });
    await nextFrame();
    expect(cell(3, "status").querySelector("[role=progressbar]")).toBeNull();
  });

  it("applies several batches in one frame, newest state winning", async () => {
    await dropAndPlay([]);
    await emit("files-updated", { updates: [{ id: 3, status: { state: "running" } }] });
    await emit("files-updated", { updates: [{ id: 3, status: { state: "cancelled" } }] });
    expect(row(3).dataset.state).toBe("queued"); // not drawn yet: waits for the frame
    await nextFrame();
    expect(row(3).dataset.state).toBe("cancelled");
  });

  it("sends cancel, retry, cancel all and retry failed", async () => {
    await dropAndPlay(BATCH);
    row(4).querySelector<HTMLButtonElement>("[data-action=cancel]")!.click();
    row(2).querySelector<HTMLButtonElement>("[data-action=retry]")!.click();
    document.querySelector<HTMLButtonElement>("[data-testid=cancel-all]")!.click();
    document.querySelector<HTMLButtonElement>("[data-testid=retry-failed]")!.click();
    await vi.waitFor(() => expect(called("retry")).toHaveLength(2));
    expect(called("cancel").map((c) => c.args)).toEqual([{ ids: [4] }]);
    expect(called("retry").map((c) => c.args)).toEqual([{ ids: [2] }, { ids: [2] }]);
    expect(called("cancel_all")).toHaveLength(1);
  });

  it("moves between rows with the keyboard; Delete cancels", async () => {
    await dropAndPlay(BATCH);
    row(0).focus();
    key(row(0), "ArrowDown");
    expect(document.activeElement).toBe(row(1));
    key(row(1), "ArrowDown");
    key(row(2), "ArrowDown");
    key(row(3), "ArrowUp");
    key(row(2), "ArrowDown");
    expect(document.activeElement).toBe(row(3));
    key(row(3), "Delete");
    await vi.waitFor(() => expect(called("cancel").map((c) => c.args)).toEqual([{ ids: [3] }]));
  });

  it("opens the compare view with Enter, and Escape closes it and returns focus", async () => {
    await dropAndPlay(BATCH);
    row(0).focus();
    key(row(0), "Enter");
    const dialog = document.querySelector<HTMLDialogElement>("[data-testid=compare]")!;
    expect(dialog.hasAttribute("open")).toBe(true);
    await vi.waitFor(() => expect(dialog.querySelector<HTMLImageElement>("img[data-side=before]")!.getAttribute("src")).toBe("asset://localhost/%2Fphotos%2Fbeach.jpg"));
    expect(called("preview")[0].args).toEqual({ id: 0 });
    expect(dialog.querySelector("img[data-side=after]")!.getAttribute("src")).toBe("asset://localhost/%2Fphotos%2Fbeach-min.jpg");
    // The report, side by side.
    expect(dialog.textContent).toContain(SHA_IN);
    expect(dialog.textContent).toContain(SHA_OUT);
    expect(dialog.textContent).toContain("4000 × 3000");
    expect(dialog.textContent).toContain("1920 × 1440");
    expect(dialog.textContent).toContain("mozjpeg q75 4:2:0");

    const slider = dialog.querySelector<HTMLInputElement>("input[data-testid=compare-slider]")!;
    slider.value = "25";
    slider.dispatchEvent(new Event("input"));
    expect(dialog.querySelector<HTMLImageElement>("img[data-side=after]")!.style.clipPath).toBe("inset(0 0 0 25%)");

    const zoom = dialog.querySelector<HTMLButtonElement>("[data-testid=zoom]")!;
    expect(zoom.getAttribute("aria-pressed")).toBe("false");
    zoom.click();
    expect(zoom.getAttribute("aria-pressed")).toBe("true");

    key(document.activeElement!, "Escape");
    expect(dialog.hasAttribute("open")).toBe(false);
    expect(document.activeElement).toBe(row(0));
  });

  it("traps Tab inside a dialog", async () => {
    await dropAndPlay(BATCH);
    const opener = row(0).querySelector<HTMLButtonElement>("[data-action=compare]")!;
    opener.focus();
    opener.click();
    const dialog = document.querySelector<HTMLDialogElement>("[data-testid=compare]")!;
    const close = dialog.querySelector<HTMLButtonElement>("[data-testid=close-compare]")!;
    const focusables = Array.from(dialog.querySelectorAll<HTMLElement>("button, input"));
    const last = focusables[focusables.length - 1];
    last.focus();
    key(last, "Tab");
    expect(document.activeElement).toBe(focusables[0]);
    key(focusables[0], "Tab"); // shift not held, not last: left to the browser
    expect(document.activeElement).toBe(focusables[0]);
    focusables[0].dispatchEvent(new KeyboardEvent("keydown", { key: "Tab", shiftKey: true, bubbles: true, cancelable: true }));
    expect(document.activeElement).toBe(last);
    close.click();
    expect(dialog.hasAttribute("open")).toBe(false);
    expect(document.activeElement).toBe(opener);
  });

  it("returns focus to the row when the opener did not have focus", async () => {
    await dropAndPlay(BATCH);
    (document.activeElement as HTMLElement | null)?.blur();
    row(1).querySelector<HTMLButtonElement>("[data-action=compare]")!.click();
    const dialog = document.querySelector<HTMLDialogElement>("[data-testid=compare]")!;
    expect(dialog.contains(document.activeElement)).toBe(true);
    dialog.querySelector<HTMLButtonElement>("[data-testid=close-compare]")!.click();
    expect(document.activeElement).toBe(row(1));
  });

  it("saves the preset when it changes", async () => {
    const select = document.querySelector<HTMLSelectElement>("select[data-testid=preset]")!;
    select.value = "web";
    select.dispatchEvent(new Event("change"));
    await vi.waitFor(() => expect(called("save_settings")).toHaveLength(1));
    expect((called("save_settings")[0].args.settings as Settings_Serialize).preset).toBe("web");
  });

  it("shows the error of save_settings and stays open", async () => {
    document.querySelector<HTMLButtonElement>("[data-testid=open-settings]")!.click();
    const dialog = document.querySelector<HTMLDialogElement>("[data-testid=settings-dialog]")!;
    expect(dialog.hasAttribute("open")).toBe(true);
    dialog.querySelector<HTMLInputElement>("input[value=folder]")!.click();
    saveError = "choose an output folder first";
    dialog.querySelector<HTMLButtonElement>("[data-testid=save-settings]")!.click();
    await vi.waitFor(() => expect(dialog.querySelector("[data-testid=settings-error]")!.textContent).toBe("choose an output folder first"));
    expect(dialog.hasAttribute("open")).toBe(true);
    const sent = called("save_settings")[0].args.settings as Settings_Serialize;
    expect(sent.output.mode).toBe("folder");

    saveError = null;
    (dialog.querySelector("#set-jobs") as HTMLInputElement).value = "3";
    (dialog.querySelector("#set-keep-exif") as HTMLInputElement).click();
    dialog.querySelector<HTMLButtonElement>("[data-testid=save-settings]")!.click();
    await vi.waitFor(() => expect(dialog.hasAttribute("open")).toBe(false));
    const saved = called("save_settings")[1].args.settings as Settings_Serialize;
    expect(saved).toMatchObject({ jobs: 3, keep_exif: true, keep_dates: true, engine: "local", preset: "balanced" });
    expect(document.activeElement).toBe(document.querySelector("[data-testid=open-settings]"));
  });

  it("copies a full hash", async () => {
    const writeText = vi.fn(async () => {});
    Object.defineProperty(navigator, "clipboard", { value: { writeText }, configurable: true });
    await dropAndPlay(BATCH);
    cell(0, "sha-after").querySelector<HTMLButtonElement>("button.copy")!.click();
    await vi.waitFor(() => expect(writeText).toHaveBeenCalledWith(SHA_OUT));
  });
});
