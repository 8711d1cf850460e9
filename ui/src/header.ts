// The app bar: the view switch (Files / Watch folders / Connectors), add buttons, the preset picker and the
// settings button.

import type { PresetInfo_Serialize } from "./bindings";
import { h, icon } from "./dom";

export type View = "files" | "watch" | "connectors";

export const VIEWS: readonly View[] = ["files", "watch", "connectors"];

export interface HeaderHandlers {
  onAddFiles(): void;
  onAddFolder(): void;
  onPreset(name: string): void;
  onSettings(): void;
  onView(view: View): void;
}

/** The id of a view's tab, and of the panel it controls (for aria-controls/aria-labelledby). */
export const tabId = (view: View) => (view === "connectors" ? "connectors-tab" : `view-tab-${view}`);
export const panelId = (view: View) => `view-panel-${view}`;

export class Header {
  readonly el: HTMLElement;
  readonly preset: HTMLSelectElement;
  readonly settingsButton: HTMLButtonElement;
  readonly tabs: Record<View, HTMLButtonElement>;
  private readonly addButtons: HTMLElement;
  private presets: readonly PresetInfo_Serialize[] = [];

  constructor(handlers: HeaderHandlers) {
    const addFiles = h("button", { type: "button", class: "primary", "data-testid": "add-files" }, icon("file"), "Add files…");
    const addFolder = h("button", { type: "button", "data-testid": "add-folder" }, icon("folder"), "Add folder…");
    this.preset = h("select", { id: "preset", "data-testid": "preset", disabled: true });
    this.settingsButton = h("button", { type: "button", "data-testid": "open-settings" }, icon("gear"), "Settings");
    const tab = (view: View, label: string, glyph: "file" | "eye" | "cloud") =>
      h("button", { type: "button", role: "tab", id: tabId(view), class: "view-tab", "data-testid": `view-${view}`, "aria-controls": panelId(view), "aria-selected": "false", tabindex: -1 }, icon(glyph), label);
    this.tabs = { files: tab("files", "Files", "file"), watch: tab("watch", "Watch folders", "eye"), connectors: tab("connectors", "Connectors", "cloud") };

    addFiles.addEventListener("click", () => handlers.onAddFiles());
    addFolder.addEventListener("click", () => handlers.onAddFolder());
    this.preset.addEventListener("change", () => handlers.onPreset(this.preset.value));
    this.settingsButton.addEventListener("click", () => handlers.onSettings());
    for (const view of VIEWS) this.tabs[view].addEventListener("click", () => handlers.onView(view));

    const tablist = h("div", { class: "view-switch", role: "tablist", "aria-label": "View" }, ...VIEWS.map((v) => this.tabs[v]));
    // Arrow keys, Home and End move between the tabs and select (automatic activation).
    tablist.addEventListener("keydown", (e) => {
      const current = VIEWS.findIndex((v) => this.tabs[v] === e.target);
      if (current < 0) return;
      let next: number;
      switch (e.key) {
        case "ArrowRight": next = (current + 1) % VIEWS.length; break;
        case "ArrowLeft": next = (current - 1 + VIEWS.length) % VIEWS.length; break;
        case "Home": next = 0; break;
        case "End": next = VIEWS.length - 1; break;
        default: return;
      }
      e.preventDefault();
      this.tabs[VIEWS[next]].focus();
      handlers.onView(VIEWS[next]);
    });

    this.addButtons = h("div", { class: "add-buttons" }, addFiles, addFolder, h("span", { class: "divider", "aria-hidden": "true" }));
    this.el = h("header", { class: "appbar" },
      h("div", { class: "brand" }, h("span", { class: "logo", "aria-hidden": "true" }), h("h1", {}, "Compressor")),
      tablist,
      h("div", { class: "appbar-actions" },
        this.addButtons,
        h("label", { class: "preset-label", for: "preset" }, "Preset"),
        this.preset,
        this.settingsButton,
      ),
    );
    this.setView("files");
  }

  /** Marks `view` as the selected tab; the add buttons only belong to the Files view. */
  setView(view: View): void {
    for (const v of VIEWS) {
      const selected = v === view;
      this.tabs[v].setAttribute("aria-selected", String(selected));
      this.tabs[v].tabIndex = selected ? 0 : -1;
    }
    this.addButtons.hidden = view !== "files";
  }

  /** Fills the preset list (built-in first, then the user's) and selects `selected`. */
  setPresets(presets: readonly PresetInfo_Serialize[], selected: string): void {
    this.presets = presets;
    fillPresetSelect(this.preset, presets, selected);
    this.selectPreset(selected);
  }

  selectPreset(name: string): void {
    this.preset.value = name;
    this.preset.title = this.presets.find((p) => p.name === name)?.description ?? "";
  }
}

/**
 * Fills `select` with `presets` (built-in first, then the user's, in groups when there are
 * both) and selects `selected`, listed even when it is not among them (e.g. a deleted preset).
 */
export function fillPresetSelect(select: HTMLSelectElement, presets: readonly PresetInfo_Serialize[], selected: string): void {
  const builtin = presets.filter((p) => p.builtin);
  const mine = presets.filter((p) => !p.builtin);
  const option = (p: PresetInfo_Serialize) => h("option", { value: p.name, title: p.description }, p.name);
  const groups: HTMLElement[] = [];
  if (mine.length === 0) {
    groups.push(...builtin.map(option));
  } else {
    groups.push(h("optgroup", { label: "Built-in" }, ...builtin.map(option)));
    groups.push(h("optgroup", { label: "Your presets" }, ...mine.map(option)));
  }
  select.replaceChildren(...groups);
  if (!presets.some((p) => p.name === selected) && selected) {
    select.appendChild(h("option", { value: selected }, selected));
  }
  select.disabled = presets.length === 0;
  select.value = selected;
}
