// The settings dialog's "Presets" section: the user's presets, each with "Delete", and a form
// that builds a new one. Creating or deleting saves at once (through `save`), independently of
// the dialog's own Save button.

import type { Compression, ImageFormat, ImageOptions_Serialize, Options_Serialize, PdfOptions_Serialize, Resize_Serialize, UserPreset_Serialize } from "./bindings";
import { h } from "./dom";
import { formatBytes } from "./format";
import { announce, errorText } from "./notice";

/** Largest resize target the engine accepts (its MAX_DIMENSION). */
export const MAX_DIMENSION = 65_535;

/** Largest "Max file size" the form takes, in MB (a terabyte). */
export const MAX_SIZE_MB = 1_000_000;

/** Where deleting the selected preset moves the selection. */
export const FALLBACK_PRESET = "balanced";

const FORMAT_LABELS: Record<ImageFormat, string> = { jpeg: "JPEG", png: "PNG", webp: "WebP", avif: "AVIF", gif: "GIF", jxl: "JPEG XL" };

export const AVIF_LOSSLESS = "AVIF has no lossless mode: choose PNG or WebP, or turn off Lossless.";

/** What the form asks for, already parsed. Absent numbers mean "not given". */
export interface PresetChoices {
  compression: Compression;
  format?: ImageFormat;
  lossless: boolean;
  quality?: number;
  maxWidth?: number;
  maxHeight?: number;
  /** Bytes: every file (image, PDF, video, audio) at most this big. */
  maxSize?: number;
}

/**
 * The engine options for `choices`, with only the fields that are set (the backend rejects
 * unknown fields; optional ones are left out rather than sent as null).
 */
export function presetOptions(choices: PresetChoices): Options_Serialize {
  const image: ImageOptions_Serialize = { compression: choices.compression };
  if (choices.lossless) image.lossless = true;
  else if (choices.quality !== undefined) image.quality = choices.quality;
  if (choices.format) image.format = choices.format;
  const { maxWidth: width, maxHeight: height } = choices;
  let resize: Resize_Serialize | undefined;
  if (width !== undefined && height !== undefined) resize = { width, height, mode: "fit" };
  else if (width !== undefined) resize = { width, mode: "auto" };
  else if (height !== undefined) resize = { height, mode: "auto" };
  if (resize) image.resize = resize;
  const { compression, maxSize: max_size } = choices;
  if (max_size === undefined) return { image };
  // The size is for every kind that can give up quality; their sections then take the
  // preset's level too (a section cannot be sent without one).
  image.max_size = max_size;
  // A lossless preset keeps PDF images too (and reports a PDF it cannot fit).
  const pdf: PdfOptions_Serialize = choices.lossless ? { compression, lossless: true, max_size } : { compression, max_size };
  return { image, pdf, video: { compression, max_size }, audio: { compression, max_size } };
}

/** A short description for people: "WebP, high, ≤ 1920 px wide". */
export function describeOptions({ image }: Options_Serialize): string {
  const parts: string[] = [image.format ? FORMAT_LABELS[image.format] : "Same format", image.compression];
  if (image.lossless) parts.push("lossless");
  else if (image.quality !== undefined) parts.push(`quality ${image.quality}`);
  const r = image.resize;
  if (r?.width !== undefined && r.height !== undefined) parts.push(`≤ ${r.width}×${r.height} px`);
  else if (r?.width !== undefined) parts.push(`≤ ${r.width} px wide`);
  else if (r?.height !== undefined) parts.push(`≤ ${r.height} px tall`);
  if (image.max_size != null) parts.push(`≤ ${formatBytes(image.max_size)} a file`);
  return parts.join(", ");
}

/** Why `name` cannot be used, or null. Names are compared without regard to case. */
export function nameProblem(name: string, taken: readonly string[]): string | null {
  if (name === "") return "Give the preset a name.";
  const lower = name.toLowerCase();
  const clash = taken.find((t) => t.toLowerCase() === lower);
  return clash === undefined ? null : `A preset named “${clash}” already exists.`;
}

export interface PresetsSectionHandlers {
  /** Saves the user's presets and the selected preset; resolves to the backend's error text, or null. */
  save(userPresets: UserPreset_Serialize[], selected: string): Promise<string | null>;
}

type Problem = { message: string; field: HTMLElement | null };

export class PresetsSection {
  readonly el: HTMLFieldSetElement;
  private readonly list: HTMLUListElement;
  private readonly name: HTMLInputElement;
  private readonly level: HTMLSelectElement;
  private readonly format: HTMLSelectElement;
  private readonly lossless: HTMLInputElement;
  private readonly quality: HTMLInputElement;
  private readonly maxWidth: HTMLInputElement;
  private readonly maxHeight: HTMLInputElement;
  private readonly maxSize: HTMLInputElement;
  private readonly description: HTMLElement;
  private readonly createButton: HTMLButtonElement;
  private readonly error: HTMLElement;
  private readonly fields: HTMLElement[];
  private presets: UserPreset_Serialize[] = [];
  private selected = "";
  private builtin: string[] = [];
  private busy = false;
  /** "form" errors are re-checked as the form changes; "save" errors stay until the next attempt. */
  private errorKind: "form" | "save" | null = null;

  constructor(private readonly handlers: PresetsSectionHandlers) {
    const number = (id: string, max: number, placeholder: string) =>
      h("input", { type: "number", id, min: 1, max, step: 1, inputmode: "numeric", placeholder, "data-testid": id, "aria-describedby": "new-preset-hint" });
    this.list = h("ul", { class: "user-presets", "data-testid": "user-presets", "aria-label": "Your presets" });
    this.name = h("input", { type: "text", id: "new-preset-name", "data-testid": "new-preset-name", maxlength: 64, spellcheck: "false", autocomplete: "off", placeholder: "e.g. Blog images", required: true });
    this.level = h("select", { id: "new-preset-level", "data-testid": "new-preset-level" },
      h("option", { value: "medium" }, "Medium (light)"),
      h("option", { value: "high", selected: true }, "High (balanced)"),
      h("option", { value: "ultra" }, "Ultra (smallest)"),
    );
    this.format = h("select", { id: "new-preset-format", "data-testid": "new-preset-format" },
      h("option", { value: "" }, "Keep original"),
      ...(["jpeg", "png", "webp", "avif", "jxl"] as const).map((f) => h("option", { value: f }, FORMAT_LABELS[f])),
    );
    this.lossless = h("input", { type: "checkbox", id: "new-preset-lossless", "data-testid": "new-preset-lossless" });
    this.quality = number("new-preset-quality", 100, "Default");
    this.maxWidth = number("new-preset-max-width", MAX_DIMENSION, "Any");
    this.maxHeight = number("new-preset-max-height", MAX_DIMENSION, "Any");
    this.maxSize = h("input", { type: "number", id: "new-preset-max-size", min: 0.000001, max: MAX_SIZE_MB, step: "any", inputmode: "decimal", placeholder: "Any", "data-testid": "new-preset-max-size", "aria-describedby": "new-preset-hint" });
    this.description = h("span", { class: "new-preset-description", "data-testid": "new-preset-description" });
    this.createButton = h("button", { type: "button", "data-testid": "create-preset" }, "Create preset");
    this.error = h("p", { class: "form-error", role: "alert", "data-testid": "preset-error", hidden: true });
    this.fields = [this.name, this.level, this.format, this.lossless, this.quality, this.maxWidth, this.maxHeight, this.maxSize];

    const label = (input: HTMLElement, text: string, cls = "") => h("label", { for: input.id, class: cls || null }, text);
    const unit = (input: HTMLInputElement, text: string) => h("span", { class: "with-unit" }, input, h("span", { class: "unit", "aria-hidden": "true" }, text));
    const px = (input: HTMLInputElement) => unit(input, "px");
    const form = h("div", { class: "new-preset", role: "group", "aria-labelledby": "new-preset-title" },
      h("h3", { class: "subhead", id: "new-preset-title" }, "New preset…"),
      h("div", { class: "new-preset-grid" },
        label(this.name, "Name"), h("div", { class: "span-3" }, this.name),
        label(this.level, "Compression"), this.level,
        label(this.format, "Format", "second"), this.format,
        label(this.quality, "Quality"), this.quality,
        h("div", { class: "option span-2" }, this.lossless, label(this.lossless, "Lossless (every pixel kept)")),
        label(this.maxWidth, "Max width"), px(this.maxWidth),
        label(this.maxHeight, "Max height", "second"), px(this.maxHeight),
        label(this.maxSize, "Max file size"), unit(this.maxSize, "MB"),
      ),
      h("p", { class: "hint", id: "new-preset-hint" }, "Quality 1–100, empty for the level's default. Resizing keeps the aspect ratio. A max file size applies to images, PDFs, video and audio: quality is lowered until each file fits."),
      h("div", { class: "new-preset-foot" },
        h("span", { class: "new-preset-summary" }, h("span", { class: "muted" }, "Description: "), this.description),
        this.createButton,
      ),
      this.error,
    );

    this.el = h("fieldset", { class: "presets", "data-testid": "presets-section" },
      h("legend", {}, "Presets"),
      h("p", { class: "hint section-hint" }, "Listed in the Preset menu. Creating or deleting one is saved at once."),
      this.list,
      form,
    );

    for (const input of this.fields) {
      input.addEventListener("input", () => this.changed());
      input.addEventListener("change", () => this.changed());
    }
    this.createButton.addEventListener("click", () => void this.create());
    // Enter in a field creates the preset instead of submitting the whole settings form.
    form.addEventListener("keydown", (e) => {
      if (e.key === "Enter" && e.target instanceof HTMLInputElement) {
        e.preventDefault();
        void this.create();
      }
    });
    this.syncForm();
  }

  /** Shows `presets` (the user's), with `selected` the preset in use and `builtin` the built-in names. */
  load(presets: readonly UserPreset_Serialize[], selected: string, builtin: readonly string[]): void {
    this.presets = [...presets];
    this.selected = selected;
    this.builtin = [...builtin];
    this.resetForm();
    this.showError(null);
    this.renderList();
  }

  private renderList(): void {
    const items = this.presets.map((p) => {
      const remove = h("button", { type: "button", class: "small", "data-action": "delete-preset", "aria-label": `Delete preset ${p.name}`, disabled: this.busy }, "Delete");
      remove.addEventListener("click", () => void this.remove(p.name));
      return h("li", { class: "user-preset", "data-testid": "user-preset", "data-name": p.name },
        h("div", { class: "user-preset-text" },
          h("span", { class: "user-preset-name" }, p.name, p.name === this.selected ? h("span", { class: "badge badge-in-use" }, "In use") : null),
          h("span", { class: "user-preset-description", title: p.description }, p.description || describeOptions(p.options)),
        ),
        remove,
      );
    });
    if (items.length === 0) items.push(h("li", { class: "user-presets-empty" }, "No presets of your own yet."));
    this.list.replaceChildren(...items);
  }

  /** The preset the form describes, or the first problem with it. */
  private build(): UserPreset_Serialize | Problem {
    const format = (this.format.value || undefined) as ImageFormat | undefined;
    const lossless = this.lossless.checked;
    // First, as it is already shown while choosing.
    if (lossless && format === "avif") return { message: AVIF_LOSSLESS, field: this.format };
    const name = this.name.value.trim();
    const nameError = nameProblem(name, [...this.builtin, ...this.presets.map((p) => p.name)]);
    if (nameError) return { message: nameError, field: this.name };
    const quality = lossless ? { value: undefined } : whole(this.quality, "Quality", 100);
    if ("message" in quality) return quality;
    const maxWidth = whole(this.maxWidth, "Max width", MAX_DIMENSION);
    if ("message" in maxWidth) return maxWidth;
    const maxHeight = whole(this.maxHeight, "Max height", MAX_DIMENSION);
    if ("message" in maxHeight) return maxHeight;
    const maxSize = megabytes(this.maxSize);
    if ("message" in maxSize) return maxSize;
    const options = presetOptions({ compression: this.level.value as Compression, format, lossless, quality: quality.value, maxWidth: maxWidth.value, maxHeight: maxHeight.value, maxSize: maxSize.value });
    return { name, description: describeOptions(options), options };
  }

  private async create(): Promise<void> {
    if (this.busy) return;
    const built = this.build();
    if ("message" in built) {
      this.showProblem(built, true);
      return;
    }
    if (await this.commit([...this.presets, built], this.selected)) {
      this.resetForm();
      announce(`Preset ${built.name} created`);
    }
  }

  private async remove(name: string): Promise<void> {
    if (this.busy) return;
    const index = this.presets.findIndex((p) => p.name === name);
    if (index < 0) return;
    const hadFocus = this.list.contains(document.activeElement);
    const next = this.presets.filter((p) => p.name !== name);
    const wasSelected = this.selected === name;
    if (!(await this.commit(next, wasSelected ? FALLBACK_PRESET : this.selected))) return;
    announce(wasSelected ? `Preset ${name} deleted; ${FALLBACK_PRESET} is now selected` : `Preset ${name} deleted`);
    if (hadFocus || !this.el.contains(document.activeElement)) {
      // The button that had focus is gone: move to the neighbouring preset, or to the form.
      const buttons = this.list.querySelectorAll<HTMLButtonElement>("[data-action=delete-preset]");
      (buttons[Math.min(index, buttons.length - 1)] ?? this.name).focus();
    }
  }

  /** Saves; on success shows the new list, on failure the backend's error. */
  private async commit(presets: UserPreset_Serialize[], selected: string): Promise<boolean> {
    this.setBusy(true);
    this.showError(null);
    let error: string | null;
    try {
      error = await this.handlers.save(presets, selected);
    } catch (err) {
      error = errorText(err);
    }
    this.setBusy(false);
    if (error !== null) {
      this.showError(error, "save");
      return false;
    }
    this.presets = presets;
    this.selected = selected;
    this.renderList();
    return true;
  }

  private changed(): void {
    this.syncForm();
    if (this.lossless.checked && this.format.value === "avif") {
      this.showProblem({ message: AVIF_LOSSLESS, field: this.format }, false);
    } else if (this.errorKind === "form") {
      const built = this.build();
      if ("message" in built) this.showProblem(built, false);
      else this.showError(null);
    }
  }

  /** Lossless has no quality; the description follows the choices. */
  private syncForm(): void {
    this.quality.disabled = this.lossless.checked || this.busy;
    const options = presetOptions({
      compression: this.level.value as Compression,
      format: (this.format.value || undefined) as ImageFormat | undefined,
      lossless: this.lossless.checked,
      quality: optionalWhole(this.quality.value, 100),
      maxWidth: optionalWhole(this.maxWidth.value, MAX_DIMENSION),
      maxHeight: optionalWhole(this.maxHeight.value, MAX_DIMENSION),
      maxSize: bytesOf(this.maxSize.value),
    });
    this.description.textContent = describeOptions(options);
  }

  private resetForm(): void {
    this.name.value = "";
    this.level.value = "high";
    this.format.value = "";
    this.lossless.checked = false;
    this.quality.value = "";
    this.maxWidth.value = "";
    this.maxHeight.value = "";
    this.maxSize.value = "";
    for (const field of this.fields) field.removeAttribute("aria-invalid");
    if (this.errorKind === "form") this.showError(null);
    this.syncForm();
  }

  private setBusy(busy: boolean): void {
    this.busy = busy;
    this.createButton.disabled = busy;
    for (const button of this.list.querySelectorAll<HTMLButtonElement>("[data-action=delete-preset]")) button.disabled = busy;
    this.el.setAttribute("aria-busy", String(busy));
    this.syncForm();
  }

  private showProblem(problem: Problem, focus: boolean): void {
    this.showError(problem.message, "form");
    if (problem.field) {
      problem.field.setAttribute("aria-invalid", "true");
      if (focus) problem.field.focus();
    }
  }

  private showError(text: string | null, kind: "form" | "save" = "save"): void {
    for (const field of this.fields) field.removeAttribute("aria-invalid");
    this.errorKind = text === null ? null : kind;
    this.error.hidden = text === null;
    this.error.textContent = text ?? "";
  }
}

/** An optional whole number from 1 to `max`: `{}` when empty, or a problem naming `label`. */
function whole(input: HTMLInputElement, label: string, max: number): { value?: number } | Problem {
  const text = input.value.trim();
  if (text === "" && !input.validity?.badInput) return { value: undefined };
  const value = Number(text);
  if (text === "" || !Number.isInteger(value) || value < 1 || value > max) {
    return { message: `${label} must be a whole number from 1 to ${max}.`, field: input };
  }
  return { value };
}

/** The number in `text` when it is a valid whole number from 1 to `max` (for the live description). */
function optionalWhole(text: string, max: number): number | undefined {
  const value = Number(text.trim());
  return text.trim() !== "" && Number.isInteger(value) && value >= 1 && value <= max ? value : undefined;
}

/** Bytes for a size in MB typed as text (decimal MB, as sizes are shown), when it is valid. */
function bytesOf(text: string): number | undefined {
  const value = Number(text.trim());
  if (text.trim() === "" || !Number.isFinite(value) || value > MAX_SIZE_MB) return undefined;
  const bytes = Math.round(value * 1_000_000);
  return bytes >= 1 ? bytes : undefined;
}

/** An optional size in MB, as bytes: `{}` when empty, or a problem. */
function megabytes(input: HTMLInputElement): { value?: number } | Problem {
  const text = input.value.trim();
  if (text === "" && !input.validity?.badInput) return { value: undefined };
  const value = bytesOf(text);
  if (value === undefined) return { message: `Max file size must be a number of MB above 0, at most ${MAX_SIZE_MB}.`, field: input };
  return { value };
}
