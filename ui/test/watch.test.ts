// The Watch folders screen, mounted with the whole app against a mocked backend that keeps
// rules like the real one: adding, pausing, editing and removing rules, the live activity
// log, counts, and the view switch.

import { emit } from "@tauri-apps/api/event";
import { clearMocks, mockIPC, mockWindows } from "@tauri-apps/api/mocks";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { type App, mountApp } from "../src/app";
import type { Activity, RuleCounts, RuleStatus_Serialize, WatchOverview_Serialize, WatchRuleSetting_Serialize } from "../src/bindings";
import { PRESETS, settings } from "./fixtures";

type Call = { cmd: string; args: Record<string, unknown> };

const INBOX = "/photos/inbox";
const SHOTS = "/photos/screenshots";

let calls: Call[];
let app: App;
/** The mocked backend's state. */
let rules: RuleStatus_Serialize[];
let log: Activity[];
/** When set, the next add/update/remove fails with this text. */
let failWith: string | null;

const zero = (): RuleCounts => ({ compressed: 0, skipped: 0, failed: 0, bytes_before: 0, bytes_after: 0 });
const rule = (folder: string, extra: Partial<WatchRuleSetting_Serialize> = {}): WatchRuleSetting_Serialize => ({
  folder,
  preset: "balanced",
  output: { mode: "suffix", suffix: "-min", folder: null },
  depth: 8,
  include: [],
  exclude: [],
  paused: false,
  ...extra,
});
const status = (r: WatchRuleSetting_Serialize, counts = zero()): RuleStatus_Serialize => ({ rule: r, counts, state: r.paused ? "paused" : "watching" });
/** A copy, as the real backend sends a fresh one each time. */
const overview = (): WatchOverview_Serialize => JSON.parse(JSON.stringify({ rules, log }));

/** 14:03:09 local time on a fixed day, plus `seconds`. */
const AT = new Date(2024, 5, 11, 14, 3, 9).getTime();
const compressed = (folder: string, name: string, before: number, after: number, seconds = 0): Activity =>
  ({ folder, at: AT + seconds * 1000, kind: "compressed", file: `${folder}/${name}`, output: `${folder}/out-${name}`, before, after });

const nextFrame = () => new Promise<void>((resolve) => requestAnimationFrame(() => resolve()));
const called = (cmd: string) => calls.filter((c) => c.cmd === cmd);
const $ = <T extends Element = HTMLElement>(selector: string, root: ParentNode = document) => root.querySelector<T>(selector)!;
const $$ = <T extends Element = HTMLElement>(selector: string, root: ParentNode = document) => Array.from(root.querySelectorAll<T>(selector));
const ruleEl = (folder: string) => document.querySelector<HTMLElement>(`[data-testid=watch-rule][data-folder="${folder}"]`);
const inRule = <T extends Element = HTMLElement>(folder: string, testid: string) => ruleEl(folder)!.querySelector<T>(`[data-testid=${testid}]`)!;
const logEntries = () => $$("[data-testid=watch-log-entry]");
const change = (el: HTMLInputElement | HTMLSelectElement, value: string) => {
  el.value = value;
  el.dispatchEvent(new Event("input", { bubbles: true }));
  el.dispatchEvent(new Event("change", { bubbles: true }));
};

/** Something happens in a watched folder: the backend records it, then sends the event. */
async function happen(activity: Activity): Promise<void> {
  log.push(activity);
  if (log.length > 500) log.shift();
  const counts = rules.find((r) => r.rule.folder === activity.folder)?.counts;
  if (counts && activity.kind === "compressed") {
    counts.compressed++;
    counts.bytes_before += activity.before;
    counts.bytes_after += activity.after;
  } else if (counts && activity.kind === "skipped") counts.skipped++;
  else if (counts && activity.kind === "failed") counts.failed++;
  await emit("watch-activity", { activity });
}

function backend(): void {
  mockIPC(async (cmd, args) => {
    const a = (args ?? {}) as Record<string, unknown>;
    calls.push({ cmd, args: a });
    const fail = () => {
      if (failWith) {
        const error = failWith;
        failWith = null;
        throw error;
      }
    };
    switch (cmd) {
      case "list_presets":
        return PRESETS;
      case "load_settings":
        return settings();
      case "watch_overview":
        return overview();
      case "pick_watch_folder":
        return "/picked/folder";
      case "pick_output_folder":
        return "/photos/compressed";
      case "add_watch_rule": {
        fail();
        const r = a.rule as WatchRuleSetting_Serialize;
        rules.push(status(r));
        return overview();
      }
      case "update_watch_rule": {
        fail();
        const r = a.rule as WatchRuleSetting_Serialize;
        const i = rules.findIndex((s) => s.rule.folder === a.folder);
        rules[i] = status(r, rules[i].counts);
        return overview();
      }
      case "remove_watch_rule":
        fail();
        rules = rules.filter((s) => s.rule.folder !== a.folder);
        return overview();
      default:
        return null;
    }
  }, { shouldMockEvents: true });
}

beforeEach(async () => {
  calls = [];
  failWith = null;
  rules = [status(rule(INBOX), { compressed: 3, skipped: 1, failed: 0, bytes_before: 3_000_000, bytes_after: 1_770_000 })];
  log = [compressed(INBOX, "earlier.jpg", 1_000_000, 590_000, -60)];
  mockWindows("main");
  backend();
  document.body.innerHTML = '<div id="app"></div>';
  app = mountApp(document.getElementById("app")!);
  await vi.waitFor(() => expect(document.body.dataset.ready).toBe("true"));
});

afterEach(() => {
  app.destroy();
  clearMocks();
  document.body.replaceChildren();
});

/** Switches to the Watch folders view and waits for the overview to be drawn. */
async function openWatch(): Promise<void> {
  $<HTMLButtonElement>("[data-testid=view-watch]").click();
  await vi.waitFor(() => expect(called("watch_overview").length).toBeGreaterThan(0));
  await vi.waitFor(() => expect($$("[data-testid=watch-rule]")).toHaveLength(rules.length));
}

describe("the view switch", () => {
  it("starts on Files, and shows one view at a time", async () => {
    const files = $("[data-testid=view-files]");
    const watch = $("[data-testid=view-watch]");
    const filesPanel = $("[data-testid=files-view-panel]");
    const watchPanel = $("[data-testid=watch-view-panel]");
    expect(files.getAttribute("role")).toBe("tab");
    expect(files.getAttribute("aria-selected")).toBe("true");
    expect(watch.getAttribute("aria-selected")).toBe("false");
    expect(filesPanel.hidden).toBe(false);
    expect(watchPanel.hidden).toBe(true);
    expect(filesPanel.contains($("[data-testid=dropzone]"))).toBe(true);
    expect(watchPanel.getAttribute("aria-labelledby")).toBe(watch.id);
    // The screen is not loaded before it is opened.
    expect(called("watch_overview")).toHaveLength(0);

    await openWatch();
    expect(watch.getAttribute("aria-selected")).toBe("true");
    expect(files.getAttribute("aria-selected")).toBe("false");
    expect(filesPanel.hidden).toBe(true);
    expect(watchPanel.hidden).toBe(false);
    expect(app.view).toBe("watch");
    // The add buttons belong to the Files view; the preset and settings stay.
    expect($("[data-testid=add-files]").closest("[hidden]")).not.toBeNull();
    expect($("[data-testid=open-settings]").closest("[hidden]")).toBeNull();

    files.click();
    expect(filesPanel.hidden).toBe(false);
    expect(watchPanel.hidden).toBe(true);
    expect(files.getAttribute("aria-selected")).toBe("true");
    expect($("[data-testid=add-files]").closest("[hidden]")).toBeNull();
  });

  it("moves between the tabs with the arrow keys", async () => {
    const files = $("[data-testid=view-files]");
    files.focus();
    files.dispatchEvent(new KeyboardEvent("keydown", { key: "ArrowRight", bubbles: true, cancelable: true }));
    expect(document.activeElement).toBe($("[data-testid=view-watch]"));
    expect($("[data-testid=watch-view-panel]").hidden).toBe(false);
    expect($("[data-testid=view-files]").tabIndex).toBe(-1);
    expect($("[data-testid=view-watch]").tabIndex).toBe(0);
  });

  it("loads the overview again each time the screen is opened", async () => {
    await openWatch();
    $<HTMLButtonElement>("[data-testid=view-files]").click();
    rules.push(status(rule(SHOTS)));
    $<HTMLButtonElement>("[data-testid=view-watch]").click();
    await vi.waitFor(() => expect(ruleEl(SHOTS)).not.toBeNull());
    expect(called("watch_overview")).toHaveLength(2);
  });
});

describe("adding a watched folder", () => {
  it("sends the rule and shows the one returned", async () => {
    await openWatch();
    const preset = $<HTMLSelectElement>("[data-testid=watch-preset]");
    // The app's preset is the default; the list is the app's presets.
    expect(preset.value).toBe("balanced");
    expect(Array.from(preset.options, (o) => o.value)).toEqual(["balanced", "maximum", "web"]);
    expect($<HTMLSelectElement>("[data-testid=watch-output-mode]").value).toBe("suffix");
    expect($<HTMLInputElement>("[data-testid=watch-suffix]").value).toBe("-min");

    const folder = $<HTMLInputElement>("[data-testid=watch-folder-input]");
    change(folder, `  "${SHOTS}"  `); // pasted with quotes, as "Copy as path" gives it
    change(preset, "web");
    change($<HTMLInputElement>("[data-testid=watch-suffix]"), ".small");
    $<HTMLButtonElement>("[data-testid=watch-add]").click();

    await vi.waitFor(() => expect(ruleEl(SHOTS)).not.toBeNull());
    expect(called("add_watch_rule")).toHaveLength(1);
    expect(called("add_watch_rule")[0].args).toEqual({
      rule: { folder: SHOTS, preset: "web", output: { mode: "suffix", suffix: ".small", folder: null }, depth: 8, include: [], exclude: [], paused: false },
    });
    expect(inRule(SHOTS, "watch-state").textContent).toBe("Watching");
    expect(inRule<HTMLSelectElement>(SHOTS, "watch-rule-preset").value).toBe("web");
    expect(inRule<HTMLInputElement>(SHOTS, "watch-rule-suffix").value).toBe(".small");
    expect(inRule(SHOTS, "watch-counts").textContent).toBe("0 compressed · 0 skipped · 0 failed");
    expect(inRule(SHOTS, "watch-toggle").textContent).toBe("Pause");
    expect($$("[data-testid=watch-rule]").map((el) => el.dataset.folder)).toEqual([INBOX, SHOTS]);
    // Ready for the next one; the other choices stay.
    expect(folder.value).toBe("");
    expect(preset.value).toBe("web");
    expect($("[data-testid=watch-form-error]").hidden).toBe(true);
  });

  it("fills the folder from Browse…, and sends an output folder", async () => {
    await openWatch();
    $<HTMLButtonElement>("[data-testid=watch-browse]").click();
    await vi.waitFor(() => expect($<HTMLInputElement>("[data-testid=watch-folder-input]").value).toBe("/picked/folder"));

    const mode = $<HTMLSelectElement>("[data-testid=watch-output-mode]");
    change(mode, "folder");
    const outputFolder = $<HTMLInputElement>("[data-testid=watch-output-folder]");
    expect(outputFolder.closest("[hidden]")).toBeNull();
    expect($<HTMLInputElement>("[data-testid=watch-suffix]").closest("[hidden]")).not.toBeNull();
    // No output folder yet: said at once, without a round trip.
    $<HTMLButtonElement>("[data-testid=watch-add]").click();
    expect($("[data-testid=watch-form-error]").textContent).toBe("Choose an output folder.");
    expect(outputFolder.getAttribute("aria-invalid")).toBe("true");
    expect(called("add_watch_rule")).toHaveLength(0);

    $<HTMLButtonElement>("[data-testid=watch-output-browse]").click();
    await vi.waitFor(() => expect(outputFolder.value).toBe("/photos/compressed"));
    $<HTMLButtonElement>("[data-testid=watch-add]").click();
    await vi.waitFor(() => expect(ruleEl("/picked/folder")).not.toBeNull());
    expect((called("add_watch_rule")[0].args.rule as WatchRuleSetting_Serialize).output).toEqual({ mode: "folder", suffix: "-min", folder: "/photos/compressed" });
    expect(inRule<HTMLSelectElement>("/picked/folder", "watch-rule-output-mode").value).toBe("folder");
    expect(inRule<HTMLInputElement>("/picked/folder", "watch-rule-output-folder").value).toBe("/photos/compressed");
  });

  it("shows the backend's error in the form and keeps what was typed", async () => {
    await openWatch();
    const folder = $<HTMLInputElement>("[data-testid=watch-folder-input]");
    change(folder, "/photos/missing");
    change($<HTMLSelectElement>("[data-testid=watch-preset]"), "maximum");
    failWith = "/photos/missing: no such folder";
    $<HTMLButtonElement>("[data-testid=watch-add]").click();

    const error = $("[data-testid=watch-form-error]");
    await vi.waitFor(() => expect(error.textContent).toBe("/photos/missing: no such folder"));
    expect(error.hidden).toBe(false);
    expect(error.getAttribute("role")).toBe("alert");
    expect(folder.value).toBe("/photos/missing");
    expect($<HTMLSelectElement>("[data-testid=watch-preset]").value).toBe("maximum");
    expect(ruleEl("/photos/missing")).toBeNull();
    expect($$("[data-testid=watch-rule]")).toHaveLength(1);
    expect($<HTMLButtonElement>("[data-testid=watch-add]").disabled).toBe(false);

    // The next attempt clears it.
    change(folder, SHOTS);
    $<HTMLButtonElement>("[data-testid=watch-add]").click();
    await vi.waitFor(() => expect(ruleEl(SHOTS)).not.toBeNull());
    expect(error.hidden).toBe(true);
  });

  it("asks for a folder before sending anything", async () => {
    await openWatch();
    $<HTMLButtonElement>("[data-testid=watch-add]").click();
    expect($("[data-testid=watch-form-error]").textContent).toBe("Choose a folder to watch.");
    expect(document.activeElement).toBe($("[data-testid=watch-folder-input]"));
    expect(called("add_watch_rule")).toHaveLength(0);
  });

  it("puts a folder dropped on the screen into the form", async () => {
    await openWatch();
    await emit("tauri://drag-drop", { paths: ["/photos/dropped"], position: { x: 10, y: 10 } });
    await vi.waitFor(() => expect($<HTMLInputElement>("[data-testid=watch-folder-input]").value).toBe("/photos/dropped"));
    expect(called("add_paths")).toHaveLength(0);
  });
});

describe("a watched folder", () => {
  it("shows its folder, state, preset, output and counts", async () => {
    await openWatch();
    const el = ruleEl(INBOX)!;
    expect(el.textContent).toContain(INBOX);
    expect(inRule(INBOX, "watch-state").textContent).toBe("Watching");
    expect(inRule<HTMLSelectElement>(INBOX, "watch-rule-preset").value).toBe("balanced");
    expect(inRule<HTMLSelectElement>(INBOX, "watch-rule-output-mode").value).toBe("suffix");
    expect(inRule(INBOX, "watch-counts").textContent).toBe("3 compressed · 1 skipped · 0 failed · saved 1.23 MB (41.0 %)");
    expect($("[data-testid=watch-empty]").hidden).toBe(true);
  });

  it("pauses and resumes", async () => {
    await openWatch();
    const toggle = inRule<HTMLButtonElement>(INBOX, "watch-toggle");
    expect(toggle.textContent).toBe("Pause");
    toggle.click();
    await vi.waitFor(() => expect(toggle.textContent).toBe("Resume"));
    expect(called("update_watch_rule")[0].args).toEqual({ folder: INBOX, rule: { ...rule(INBOX), paused: true } });
    expect(inRule(INBOX, "watch-state").textContent).toBe("Paused");
    // The same element: focus stays on the button.
    expect(ruleEl(INBOX)!.contains(toggle)).toBe(true);

    toggle.click();
    await vi.waitFor(() => expect(toggle.textContent).toBe("Pause"));
    expect(called("update_watch_rule")[1].args).toEqual({ folder: INBOX, rule: { ...rule(INBOX), paused: false } });
    expect(inRule(INBOX, "watch-state").textContent).toBe("Watching");
  });

  it("shows an error state, and Resume tries to start the rule again", async () => {
    rules = [{ rule: rule(INBOX), counts: zero(), state: "error", message: "the folder does not exist" }];
    await openWatch();
    expect(inRule(INBOX, "watch-state").textContent).toBe("Error: the folder does not exist");
    expect(ruleEl(INBOX)!.dataset.state).toBe("error");
    const toggle = inRule<HTMLButtonElement>(INBOX, "watch-toggle");
    expect(toggle.textContent).toBe("Resume");
    toggle.click();
    await vi.waitFor(() => expect(called("update_watch_rule")).toHaveLength(1));
    expect((called("update_watch_rule")[0].args.rule as WatchRuleSetting_Serialize).paused).toBe(false);
    await vi.waitFor(() => expect(inRule(INBOX, "watch-state").textContent).toBe("Watching"));
  });

  it("changes the preset and the output", async () => {
    await openWatch();
    change(inRule<HTMLSelectElement>(INBOX, "watch-rule-preset"), "web");
    await vi.waitFor(() => expect(called("update_watch_rule")).toHaveLength(1));
    expect(called("update_watch_rule")[0].args).toEqual({ folder: INBOX, rule: { ...rule(INBOX), preset: "web" } });

    // Folder mode without a folder asks for one first.
    change(inRule<HTMLSelectElement>(INBOX, "watch-rule-output-mode"), "folder");
    await vi.waitFor(() => expect(called("update_watch_rule")).toHaveLength(2));
    expect(called("pick_output_folder")).toHaveLength(1);
    expect(called("update_watch_rule")[1].args).toEqual({
      folder: INBOX,
      rule: { ...rule(INBOX), preset: "web", output: { mode: "folder", suffix: "-min", folder: "/photos/compressed" } },
    });
    await vi.waitFor(() => expect(inRule<HTMLInputElement>(INBOX, "watch-rule-output-folder").value).toBe("/photos/compressed"));
    expect(inRule<HTMLInputElement>(INBOX, "watch-rule-output-folder").closest("[hidden]")).toBeNull();
  });

  it("shows a failed change in the notice and goes back to what was saved", async () => {
    await openWatch();
    const preset = inRule<HTMLSelectElement>(INBOX, "watch-rule-preset");
    failWith = "preset 'web' cannot write PNG here";
    change(preset, "web");
    const notice = $("[data-testid=notice]");
    await vi.waitFor(() => expect(notice.hidden).toBe(false));
    expect(notice.textContent).toContain("preset 'web' cannot write PNG here");
    expect(notice.textContent).toContain("inbox");
    expect(preset.value).toBe("balanced");

    failWith = "the suffix must not be empty";
    change(inRule<HTMLInputElement>(INBOX, "watch-rule-suffix"), "");
    await vi.waitFor(() => expect(notice.textContent).toContain("the suffix must not be empty"));
    expect(inRule<HTMLInputElement>(INBOX, "watch-rule-suffix").value).toBe("-min");
  });

  it("is removed", async () => {
    rules.push(status(rule(SHOTS)));
    await openWatch();
    const remove = inRule<HTMLButtonElement>(INBOX, "watch-remove");
    remove.focus();
    remove.click();
    await vi.waitFor(() => expect(ruleEl(INBOX)).toBeNull());
    expect(called("remove_watch_rule")[0].args).toEqual({ folder: INBOX });
    // Focus moves to the next rule.
    expect(document.activeElement).toBe(inRule(SHOTS, "watch-toggle"));

    inRule<HTMLButtonElement>(SHOTS, "watch-remove").click();
    await vi.waitFor(() => expect($$("[data-testid=watch-rule]")).toHaveLength(0));
    const empty = $("[data-testid=watch-empty]");
    expect(empty.hidden).toBe(false);
    expect(empty.textContent).toContain("No folders are watched yet");
  });

  it("stays when removing fails", async () => {
    await openWatch();
    failWith = "the settings could not be written";
    inRule<HTMLButtonElement>(INBOX, "watch-remove").click();
    await vi.waitFor(() => expect($("[data-testid=notice]").textContent).toContain("the settings could not be written"));
    expect(ruleEl(INBOX)).not.toBeNull();
  });
});

describe("the activity log", () => {
  it("shows the overview's log, newest first", async () => {
    log.push({ folder: INBOX, at: AT, kind: "notice", message: "watching /photos/inbox" });
    await openWatch();
    const entries = logEntries();
    expect(entries.map((e) => e.dataset.kind)).toEqual(["notice", "compressed"]);
    expect(entries[0].textContent).toContain("watching /photos/inbox");
    expect(entries[1].textContent).toContain("earlier.jpg");
    const region = $("[data-testid=watch-log]");
    expect(region.getAttribute("role")).toBe("log");
    expect(region.getAttribute("aria-live")).toBe("polite");
  });

  it("adds a line for each kind of activity and updates the counts", async () => {
    await openWatch();
    await happen(compressed(INBOX, "IMG_1.jpg", 4_000_000, 1_000_000));
    await nextFrame();
    const top = logEntries()[0];
    expect(top.dataset.kind).toBe("compressed");
    expect(top.textContent).toContain("14:03:09");
    expect(top.textContent).toContain("IMG_1.jpg");
    expect(top.textContent).toContain("4.00 MB → 1.00 MB (−75.0 %)");
    expect(top.textContent).not.toContain(INBOX); // the name only…
    expect(top.querySelector(".log-file")!.getAttribute("title")).toBe(`${INBOX}/IMG_1.jpg`); // …the full path in the title
    expect(inRule(INBOX, "watch-counts").textContent).toBe("4 compressed · 1 skipped · 0 failed · saved 4.23 MB (60.4 %)");

    await happen({ folder: INBOX, at: AT + 1000, kind: "skipped", file: `${INBOX}/logo.png`, reason: "already optimal" });
    await happen({ folder: INBOX, at: AT + 2000, kind: "failed", file: `${INBOX}\\broken.jpg`, message: "truncated JPEG" });
    await happen({ folder: INBOX, at: AT + 3000, kind: "notice", message: "the folder was moved" });
    await nextFrame();
    const entries = logEntries();
    expect(entries.map((e) => e.dataset.kind)).toEqual(["notice", "failed", "skipped", "compressed", "compressed"]);
    expect(entries[0].textContent).toContain("14:03:12");
    expect(entries[0].textContent).toContain("the folder was moved");
    expect(entries[1].textContent).toContain("broken.jpg");
    expect(entries[1].textContent).toContain("truncated JPEG");
    expect(entries[1].textContent).not.toContain("\\");
    expect(entries[2].textContent).toContain("logo.png");
    expect(entries[2].textContent).toContain("already optimal");
    expect(inRule(INBOX, "watch-counts").textContent).toBe("4 compressed · 2 skipped · 1 failed · saved 4.23 MB (60.4 %)");
  });

  it("keeps the lines already drawn when an overview comes", async () => {
    await openWatch();
    const [earlier] = logEntries();
    await happen(compressed(INBOX, "new.jpg", 2000, 1000, 5));
    await nextFrame();
    const [drawn] = logEntries();
    // A line the screen missed arrives with the next overview (here: after Pause).
    log.push(compressed(INBOX, "missed.jpg", 2000, 1000, 6));
    inRule<HTMLButtonElement>(INBOX, "watch-toggle").click();
    await vi.waitFor(() => expect(logEntries()).toHaveLength(3));
    const after = logEntries();
    expect(after[0].textContent).toContain("missed.jpg");
    // The same elements: the live region does not read them out again.
    expect(after[1]).toBe(drawn);
    expect(after[2]).toBe(earlier);
  });

  it("draws whatever log an overview brings, newest first, at most 200 lines", async () => {
    await openWatch();
    let seed = 7;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const pool = Array.from({ length: 400 }, (_, i) => compressed(INBOX, `f${i}.jpg`, 2000, 1000, i));
    for (let round = 0; round < 25; round++) {
      // Mostly a window sliding forward, sometimes anything at all.
      const start = Math.floor(random() * 200);
      log = round % 5 === 4 ? pool.filter(() => random() < 0.3) : pool.slice(start, start + Math.floor(random() * 260));
      await app.watch.refresh();
      const expected = log.slice(-200).reverse().map((a) => (a.kind === "compressed" ? a.file.slice(INBOX.length + 1) : ""));
      expect(logEntries().map((e) => e.querySelector(".log-file")!.textContent), `round ${round}`).toEqual(expected);
    }
  });

  it("draws a burst of events once, and at most 200 lines", async () => {
    await openWatch();
    const list = $("[data-testid=watch-log] ol");
    const insertions: MutationRecord[] = [];
    const observer = new MutationObserver((records) => insertions.push(...records.filter((r) => r.addedNodes.length > 0)));
    observer.observe(list, { childList: true });
    await Promise.all(Array.from({ length: 1000 }, (_, i) => happen(compressed(INBOX, `burst-${i}.jpg`, 2000, 1000, i))));
    await nextFrame();
    await Promise.resolve();
    observer.disconnect();

    expect(insertions).toHaveLength(1);
    const entries = logEntries();
    expect(entries).toHaveLength(200);
    expect(entries[0].textContent).toContain("burst-999.jpg");
    expect(entries[199].textContent).toContain("burst-800.jpg");
    expect(inRule(INBOX, "watch-counts").textContent).toContain("1,003 compressed");
  });

  it("keeps counting while the screen is hidden", async () => {
    await openWatch();
    $<HTMLButtonElement>("[data-testid=view-files]").click();
    await happen(compressed(INBOX, "hidden.jpg", 2_000_000, 1_000_000));
    await nextFrame();
    $<HTMLButtonElement>("[data-testid=view-watch]").click();
    await vi.waitFor(() => expect(called("watch_overview")).toHaveLength(2));
    await vi.waitFor(() => expect(logEntries()).toHaveLength(2));
    // Counted once, though it came both as an event and in the overview.
    expect(inRule(INBOX, "watch-counts").textContent).toBe("4 compressed · 1 skipped · 0 failed · saved 2.23 MB (44.6 %)");
    expect(logEntries()[0].textContent).toContain("hidden.jpg");
  });

  it("shows when nothing happened yet", async () => {
    log = [];
    await openWatch();
    expect(logEntries()).toHaveLength(0);
    expect($("[data-testid=watch-log-empty]").hidden).toBe(false);
    await happen(compressed(INBOX, "first.jpg", 2000, 1000));
    await nextFrame();
    expect(logEntries()).toHaveLength(1);
    expect($("[data-testid=watch-log-empty]").hidden).toBe(true);
  });
});
