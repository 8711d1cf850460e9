// The app bar: add buttons, the preset picker and the settings button.

import type { PresetInfo_Serialize } from "./bindings";
import { h, icon } from "./dom";

export interface HeaderHandlers {
  onAddFiles(): void;
  onAddFolder(): void;
  onPreset(name: string): void;
  onSettings(): void;
}

export class Header {
  readonly el: HTMLElement;
  readonly preset: HTMLSelectElement;
  readonly settingsButton: HTMLButtonElement;
  private presets: readonly PresetInfo_Serialize[] = [];

  constructor(handlers: HeaderHandlers) {
    const addFiles = h("button", { type: "button", class: "primary", "data-testid": "add-files" }, icon("file"), "Add files…");
    const addFolder = h("button", { type: "button", "data-testid": "add-folder" }, icon("folder"), "Add folder…");
    this.preset = h("select", { id: "preset", "data-testid": "preset", disabled: true });
    this.settingsButton = h("button", { type: "button", "data-testid": "open-settings" }, icon("gear"), "Settings");

    addFiles.addEventListener("click", () => handlers.onAddFiles());
    addFolder.addEventListener("click", () => handlers.onAddFolder());
    this.preset.addEventListener("change", () => handlers.onPreset(this.preset.value));
    this.settingsButton.addEventListener("click", () => handlers.onSettings());

    this.el = h("header", { class: "appbar" },
      h("div", { class: "brand" }, h("span", { class: "logo", "aria-hidden": "true" }), h("h1", {}, "Compressor")),
      h("div", { class: "appbar-actions" },
        addFiles,
        addFolder,
        h("span", { class: "divider", "aria-hidden": "true" }),
        h("label", { class: "preset-label", for: "preset" }, "Preset"),
        this.preset,
        this.settingsButton,
      ),
    );
  }

  /** Fills the preset list (built-in first, then the user's) and selects `selected`. */
  setPresets(presets: readonly PresetInfo_Serialize[], selected: string): void {
    this.presets = presets;
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
    this.preset.replaceChildren(...groups);
    if (!presets.some((p) => p.name === selected) && selected) {
      this.preset.appendChild(h("option", { value: selected }, selected));
    }
    this.preset.disabled = presets.length === 0;
    this.selectPreset(selected);
  }

  selectPreset(name: string): void {
    this.preset.value = name;
    this.preset.title = this.presets.find((p) => p.name === name)?.description ?? "";
  }
}
