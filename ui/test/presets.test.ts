// User presets in the settings dialog, against a mocked backend that keeps what save_settings
// was given (list_presets then returns the built-in presets followed by the user's).

import { clearMocks, mockIPC, mockWindows } from "@tauri-apps/api/mocks";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { type App, mountApp } from "../src/app";
import type { PresetInfo_Serialize, Settings_Serialize, UserPreset_Serialize } from "../src/bindings";
import { describeOptions, presetOptions } from "../src/user-presets";
import { PRESETS, settings } from "./fixtures";

type Call = { cmd: string; args: Record<string, unknown> };

let calls: Call[];
let app: App | null;
let saveError: string | null;
let stored: Settings_Serialize;

const BLOG: UserPreset_Serialize = { name: "Blog", description: "WebP, high, ≤ 1600 px wide", options: { image: { compression: "high", format: "webp", resize: { width: 1600, mode: "auto" } } } };
const ARCHIVE: UserPreset_Serialize = { name: "Archive", description: "PNG, medium, lossless", options: { image: { compression: "medium", lossless: true, format: "png" } } };

const called = (cmd: string) => calls.filter((c) => c.cmd === cmd);
const saved = (i = 0) => called("save_settings")[i].args.settings as Settings_Serialize;
const $ = <T extends Element = HTMLElement>(selector: string) => document.querySelector<T>(selector)!;
const dialog = () => $<HTMLDialogElement>("[data-testid=settings-dialog]");
const presetError = () => $("[data-testid=preset-error]");
const listed = () => Array.from(document.querySelectorAll<HTMLElement>("[data-testid=user-preset]"), (li) => li.dataset.name);
const headerSelect = () => $<HTMLSelectElement>("select[data-testid=preset]");
const headerYours = () => Array.from(headerSelect().querySelectorAll<HTMLOptionElement>("optgroup[label='Your presets'] option"), (o) => o.value);

function type(testid: string, value: string) {
  const input = $<HTMLInputElement>(`[data-testid=${testid}]`);
  input.value = value;
  input.dispatchEvent(new Event("input", { bubbles: true }));
}

function choose(testid: string, value: string) {
  const select = $<HTMLSelectElement>(`[data-testid=${testid}]`);
  select.value = value;
  expect(select.value, `${testid} has an option ${value}`).toBe(value);
  select.dispatchEvent(new Event("change", { bubbles: true }));
}

function check(testid: string, on: boolean) {
  const box = $<HTMLInputElement>(`[data-testid=${testid}]`);
  if (box.checked !== on) box.click();
}

async function mount(initial: Settings_Serialize) {
  stored = initial;
  app = mountApp(document.getElementById("app")!);
  await vi.waitFor(() => expect(document.body.dataset.ready).toBe("true"));
  $<HTMLButtonElement>("[data-testid=open-settings]").click();
  expect(dialog().hasAttribute("open")).toBe(true);
}

beforeEach(() => {
  calls = [];
  saveError = null;
  app = null;
  mockWindows("main");
  mockIPC(async (cmd, args) => {
    calls.push({ cmd, args: (args ?? {}) as Record<string, unknown> });
    switch (cmd) {
      case "list_presets":
        return [...PRESETS, ...stored.user_presets.map((p): PresetInfo_Serialize => ({ ...p, builtin: false }))];
      case "load_settings":
        return stored;
      case "save_settings":
        if (saveError) throw saveError;
        stored = (args as { settings: Settings_Serialize }).settings;
        return null;
      default:
        return null;
    }
  }, { shouldMockEvents: true });
  document.body.innerHTML = '<div id="app"></div>';
});

afterEach(() => {
  app?.destroy();
  clearMocks();
  document.body.replaceChildren();
});

describe("user presets", () => {
  it("creates a preset: saves exactly the expected settings, then lists it in the header", async () => {
    await mount(settings());
    expect(listed()).toEqual([]);
    expect(headerYours()).toEqual([]);

    type("new-preset-name", "  Newsletter ");
    choose("new-preset-level", "ultra");
    choose("new-preset-format", "webp");
    type("new-preset-quality", "70");
    type("new-preset-max-width", "1920");
    expect($("[data-testid=new-preset-description]").textContent).toBe("WebP, ultra, quality 70, ≤ 1920 px wide");
    $<HTMLButtonElement>("[data-testid=create-preset]").click();

    await vi.waitFor(() => expect(headerYours()).toEqual(["Newsletter"]));
    expect(called("save_settings")).toHaveLength(1);
    const expected: Settings_Serialize = {
      ...settings(),
      user_presets: [{
        name: "Newsletter",
        description: "WebP, ultra, quality 70, ≤ 1920 px wide",
        options: { image: { compression: "ultra", quality: 70, format: "webp", resize: { width: 1920, mode: "auto" } } },
      }],
    };
    // toStrictEqual: a field present as undefined fails too, and the JSON has no nulls in the preset.
    expect(saved()).toStrictEqual(expected);
    expect(JSON.stringify(saved().user_presets)).not.toContain("null");
    expect(JSON.parse(JSON.stringify(saved().user_presets[0].options))).toStrictEqual(expected.user_presets[0].options);

    // The header was refreshed from list_presets: built-in first, then "Your presets"; selection kept.
    expect(called("list_presets")).toHaveLength(2);
    expect(Array.from(headerSelect().options, (o) => o.value)).toEqual(["balanced", "maximum", "web", "Newsletter"]);
    expect(headerSelect().value).toBe("balanced");
    // The dialog lists it, with its description, and the form is ready for another.
    expect(listed()).toEqual(["Newsletter"]);
    expect($("[data-testid=user-preset][data-name=Newsletter]").textContent).toContain("WebP, ultra, quality 70, ≤ 1920 px wide");
    expect($<HTMLInputElement>("[data-testid=new-preset-name]").value).toBe("");
    expect(presetError().hidden).toBe(true);
    expect(dialog().hasAttribute("open")).toBe(true);
  });

  it("saves a max file size in bytes for images, PDFs, video and audio", async () => {
    await mount(settings());
    type("new-preset-name", "Mail");
    type("new-preset-max-size", "2.5");
    expect($("[data-testid=new-preset-description]").textContent).toBe("Same format, high, ≤ 2.50 MB a file");
    $<HTMLButtonElement>("[data-testid=create-preset]").click();
    await vi.waitFor(() => expect(listed()).toEqual(["Mail"]));
    const limit = { compression: "high", max_size: 2_500_000 } as const;
    expect(saved(0).user_presets).toStrictEqual([{
      name: "Mail",
      description: "Same format, high, ≤ 2.50 MB a file",
      options: { image: limit, pdf: limit, video: limit, audio: limit },
    }]);
    expect($<HTMLInputElement>("[data-testid=new-preset-max-size]").value).toBe("");
  });

  it("sends resize 'fit' for both sizes, 'auto' for one, and no quality when lossless", async () => {
    await mount(settings());
    type("new-preset-name", "Archive");
    choose("new-preset-format", "png");
    type("new-preset-quality", "80");
    check("new-preset-lossless", true);
    expect($<HTMLInputElement>("[data-testid=new-preset-quality]").disabled).toBe(true);
    type("new-preset-max-width", "4000");
    type("new-preset-max-height", "3000");
    $<HTMLButtonElement>("[data-testid=create-preset]").click();
    await vi.waitFor(() => expect(listed()).toEqual(["Archive"]));
    expect(saved(0).user_presets).toStrictEqual([{
      name: "Archive",
      description: "PNG, high, lossless, ≤ 4000×3000 px",
      options: { image: { compression: "high", lossless: true, format: "png", resize: { width: 4000, height: 3000, mode: "fit" } } },
    }]);

    // Keep original, height only; Enter in a field creates the preset, not the dialog's Save.
    type("new-preset-name", "Tall");
    type("new-preset-max-height", "1080");
    const name = $<HTMLInputElement>("[data-testid=new-preset-name]");
    name.dispatchEvent(new KeyboardEvent("keydown", { key: "Enter", bubbles: true, cancelable: true }));
    await vi.waitFor(() => expect(listed()).toEqual(["Archive", "Tall"]));
    expect(saved(1).user_presets[1]).toStrictEqual({ name: "Tall", description: "Same format, high, ≤ 1080 px tall", options: { image: { compression: "high", resize: { height: 1080, mode: "auto" } } } });
    expect(dialog().hasAttribute("open")).toBe(true);
    expect(headerYours()).toEqual(["Archive", "Tall"]);

    // The dialog's own Save keeps the presets created meanwhile.
    $<HTMLButtonElement>("[data-testid=save-settings]").click();
    await vi.waitFor(() => expect(dialog().hasAttribute("open")).toBe(false));
    expect(saved(2).user_presets.map((p) => p.name)).toEqual(["Archive", "Tall"]);
  });

  it("refuses a name already taken (any case), or none, without calling save_settings", async () => {
    await mount({ ...settings(), user_presets: [BLOG] });
    expect(listed()).toEqual(["Blog"]);
    const create = $<HTMLButtonElement>("[data-testid=create-preset]");

    create.click();
    expect(presetError().hidden).toBe(false);
    expect(presetError().textContent).toBe("Give the preset a name.");

    type("new-preset-name", "BALANCED");
    create.click();
    expect(presetError().textContent).toBe("A preset named “balanced” already exists.");
    expect(document.activeElement).toBe($("[data-testid=new-preset-name]"));
    expect($("[data-testid=new-preset-name]").getAttribute("aria-invalid")).toBe("true");

    type("new-preset-name", " blog ");
    create.click();
    expect(presetError().textContent).toBe("A preset named “Blog” already exists.");

    await new Promise((r) => setTimeout(r, 20));
    expect(called("save_settings")).toHaveLength(0);
    expect(listed()).toEqual(["Blog"]);
    // Fixing the name clears the error.
    type("new-preset-name", "Blog 2");
    expect(presetError().hidden).toBe(true);
  });

  it("refuses AVIF with lossless, inline, before saving", async () => {
    await mount(settings());
    type("new-preset-name", "Tiny");
    choose("new-preset-format", "avif");
    expect(presetError().hidden).toBe(true);
    check("new-preset-lossless", true);
    // Shown as soon as the combination is chosen…
    expect(presetError().hidden).toBe(false);
    expect(presetError().textContent).toContain("AVIF has no lossless mode");
    // …and creating is refused.
    $<HTMLButtonElement>("[data-testid=create-preset]").click();
    expect(presetError().textContent).toContain("AVIF has no lossless mode");
    await new Promise((r) => setTimeout(r, 20));
    expect(called("save_settings")).toHaveLength(0);
    expect(listed()).toEqual([]);

    choose("new-preset-format", "webp");
    expect(presetError().hidden).toBe(true);
  });

  it("refuses out-of-range numbers without saving", async () => {
    await mount(settings());
    type("new-preset-name", "Odd");
    type("new-preset-quality", "101");
    $<HTMLButtonElement>("[data-testid=create-preset]").click();
    expect(presetError().textContent).toBe("Quality must be a whole number from 1 to 100.");
    type("new-preset-quality", "");
    type("new-preset-max-width", "0");
    $<HTMLButtonElement>("[data-testid=create-preset]").click();
    expect(presetError().textContent).toBe("Max width must be a whole number from 1 to 65535.");
    type("new-preset-max-width", "");
    for (const size of ["0", "-1", "0.0000001", "2000000"]) {
      type("new-preset-max-size", size);
      $<HTMLButtonElement>("[data-testid=create-preset]").click();
      expect(presetError().textContent, size).toBe("Max file size must be a number of MB above 0, at most 1000000.");
    }
    await new Promise((r) => setTimeout(r, 20));
    expect(called("save_settings")).toHaveLength(0);
  });

  it("shows the backend's error and keeps the form and the lists as they were", async () => {
    await mount({ ...settings(), user_presets: [BLOG] });
    saveError = "preset 'Huge': image.resize.width: Must be between 1 and 65535.";
    type("new-preset-name", "Huge");
    type("new-preset-max-width", "2000");
    $<HTMLButtonElement>("[data-testid=create-preset]").click();
    await vi.waitFor(() => expect(presetError().textContent).toBe("preset 'Huge': image.resize.width: Must be between 1 and 65535."));
    expect(presetError().hidden).toBe(false);
    expect(called("save_settings")).toHaveLength(1);
    expect(listed()).toEqual(["Blog"]);
    expect(headerYours()).toEqual(["Blog"]);
    expect($<HTMLInputElement>("[data-testid=new-preset-name]").value).toBe("Huge");
    expect($<HTMLButtonElement>("[data-testid=create-preset]").disabled).toBe(false);

    // A failed delete leaves the preset in place, with the error shown.
    saveError = "cannot write settings /home/u/.config/compressor/settings.json: disk full";
    $<HTMLButtonElement>("[data-testid=user-preset][data-name=Blog] [data-action=delete-preset]").click();
    await vi.waitFor(() => expect(presetError().textContent).toBe("cannot write settings /home/u/.config/compressor/settings.json: disk full"));
    expect(listed()).toEqual(["Blog"]);
  });

  it("deleting the selected preset saves preset 'balanced' in the same call", async () => {
    await mount({ ...settings(), preset: "Blog", user_presets: [BLOG, ARCHIVE] });
    expect(headerSelect().value).toBe("Blog");
    expect($("[data-testid=user-preset][data-name=Blog]").textContent).toContain("In use");

    $<HTMLButtonElement>("[data-testid=user-preset][data-name=Blog] [data-action=delete-preset]").click();
    await vi.waitFor(() => expect(listed()).toEqual(["Archive"]));
    expect(called("save_settings")).toHaveLength(1);
    expect(saved()).toStrictEqual({ ...settings(), preset: "balanced", user_presets: [ARCHIVE] });
    await vi.waitFor(() => expect(headerYours()).toEqual(["Archive"]));
    expect(headerSelect().value).toBe("balanced");

    // Deleting one that is not selected keeps the selection; the last one removes the group.
    $<HTMLButtonElement>("[data-testid=user-preset][data-name=Archive] [data-action=delete-preset]").click();
    await vi.waitFor(() => expect(listed()).toEqual([]));
    expect(saved(1)).toStrictEqual({ ...settings(), preset: "balanced", user_presets: [] });
    await vi.waitFor(() => expect(headerSelect().querySelector("optgroup")).toBeNull());
    expect(Array.from(headerSelect().options, (o) => o.value)).toEqual(["balanced", "maximum", "web"]);
    expect(dialog().contains(document.activeElement)).toBe(true);
  });

  it("keeps the selection when another preset is deleted", async () => {
    await mount({ ...settings(), preset: "Archive", user_presets: [BLOG, ARCHIVE] });
    $<HTMLButtonElement>("[data-testid=user-preset][data-name=Blog] [data-action=delete-preset]").click();
    await vi.waitFor(() => expect(called("save_settings")).toHaveLength(1));
    expect(saved()).toStrictEqual({ ...settings(), preset: "Archive", user_presets: [ARCHIVE] });
    await vi.waitFor(() => expect(headerYours()).toEqual(["Archive"]));
    expect(headerSelect().value).toBe("Archive");
  });

  it("says that parallel jobs apply after a restart", async () => {
    await mount(settings());
    const row = $<HTMLInputElement>("[data-testid=jobs]").closest(".field-row")!;
    expect(row.textContent).toContain("(applies after restart)");
  });
});

describe("preset options and descriptions", () => {
  it("leaves out what is not chosen", () => {
    expect(presetOptions({ compression: "high", lossless: false })).toStrictEqual({ image: { compression: "high" } });
    expect(presetOptions({ compression: "medium", lossless: true, quality: 50, format: "webp", maxWidth: 800 }))
      .toStrictEqual({ image: { compression: "medium", lossless: true, format: "webp", resize: { width: 800, mode: "auto" } } });
    expect(describeOptions({ image: { compression: "high", format: "webp", resize: { width: 1920, mode: "auto" } } })).toBe("WebP, high, ≤ 1920 px wide");
    expect(describeOptions({ image: { compression: "ultra" } })).toBe("Same format, ultra");
  });

  it("puts a max file size on every kind that can give up quality", () => {
    expect(presetOptions({ compression: "ultra", lossless: false, maxSize: 2_500_000 })).toStrictEqual({
      image: { compression: "ultra", max_size: 2_500_000 },
      pdf: { compression: "ultra", max_size: 2_500_000 },
      video: { compression: "ultra", max_size: 2_500_000 },
      audio: { compression: "ultra", max_size: 2_500_000 },
    });
    expect(describeOptions({ image: { compression: "high", max_size: 250_000 } })).toBe("Same format, high, ≤ 250 kB a file");
    expect(presetOptions({ compression: "high", lossless: true, maxSize: 1000 }).pdf).toStrictEqual({ compression: "high", lossless: true, max_size: 1000 });
  });
});
