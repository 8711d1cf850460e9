// The Watch folders screen: a form that adds a watched folder, the rules with their state,
// counts and controls, and the live activity log. Live events are applied once per animation
// frame; only the new log lines and the changed counts are drawn.

import { type Activity, commands, type Connector_Serialize as Connector, type OutputMode, type OutputSetting_Serialize, type PresetInfo_Serialize, type ProviderInfo_Serialize as ProviderInfo, type RuleStatus_Serialize, type StoreOptions_Serialize, type WatchOverview_Serialize, type WatchRuleSetting_Serialize } from "./bindings";
import { h, icon, setAttr, setText } from "./dom";
import { fillPresetSelect } from "./header";
import { announce, errorText } from "./notice";
import { buildOutput, connectorChoices, defaultConnector, outputProblem, storeFields } from "./output-model";
import { activityDetail, activityFile, activityKey, baseName, cleanPath, formatClock, formatCounts, KIND_LABELS, OUTPUT_MODE_LABELS, outputText, stateLabel } from "./watch-format";
import { type Ticket, WatchModel } from "./watch-model";

/** Log lines drawn at most (the model keeps as many as the backend: 500). */
export const LOG_RENDERED = 200;

/** Sub-folder levels watched for a rule added here. */
export const DEFAULT_DEPTH = 8;

export const DEFAULT_SUFFIX = "-min";

/** Notices may mean a rule changed state: the overview is fetched again, at most this often. */
const NOTICE_REFRESH_MS = 1000;

type CommandResult<T> = { status: "ok"; data: T } | { status: "error"; error: string };

export interface WatchViewHandlers {
  /** Shows an error in the app's notice bar. */
  notify(title: string, lines: string[]): void;
}

let uid = 0;

// ---- the output sink: mode, suffix, output folder, storage connector ----

interface SinkOptions {
  /** data-testid prefix: "watch" gives watch-output-mode, watch-suffix, watch-connector, … */
  testid: string;
  /** Added to the accessible names of the fields ("for /photos/inbox"). */
  context?: string;
}

class SinkEditor {
  readonly el: HTMLElement;
  /** The mode's visible label ("Results"), placed by the owner. */
  readonly label: HTMLLabelElement;
  readonly mode: HTMLSelectElement;
  readonly suffix: HTMLInputElement;
  readonly folder: HTMLInputElement;
  readonly browse: HTMLButtonElement;
  readonly connector: HTMLSelectElement;
  readonly storePath: HTMLInputElement;
  private readonly suffixField: HTMLElement;
  private readonly folderField: HTMLElement;
  private readonly inPlaceHint: HTMLElement;
  private readonly storeField: HTMLElement;
  private readonly storeOption: HTMLOptionElement;
  private connectors: readonly Connector[] = [];
  private providers: readonly ProviderInfo[] = [];
  /** The store options as loaded: those the editor does not show are kept. */
  private store: StoreOptions_Serialize | undefined;

  constructor(opts: SinkOptions) {
    const id = `sink-${++uid}`;
    const context = opts.context ? ` ${opts.context}` : "";
    const rule = opts.testid === "watch-rule";
    this.mode = h("select", { id: `${id}-mode`, "data-testid": `${opts.testid}-output-mode`, "aria-label": rule ? `Results${context}` : null },
      ...(Object.keys(OUTPUT_MODE_LABELS) as OutputMode[]).map((m) => h("option", { value: m }, OUTPUT_MODE_LABELS[m])));
    this.suffix = h("input", { type: "text", id: `${id}-suffix`, class: "sink-suffix", "data-testid": `${opts.testid}-suffix`, spellcheck: "false", autocomplete: "off", "aria-describedby": `${id}-suffix-hint`, "aria-label": rule ? `Suffix${context}` : null });
    this.folder = h("input", { type: "text", id: `${id}-folder`, class: "sink-folder", "data-testid": `${opts.testid}-output-folder`, spellcheck: "false", autocomplete: "off", placeholder: "No folder chosen", "aria-label": rule ? `Output folder${context}` : null });
    this.browse = h("button", { type: "button", "data-testid": `${opts.testid}-output-browse`, "aria-label": `Browse for an output folder${context}` }, "Browse…");
    this.connector = h("select", { id: `${id}-connector`, class: "sink-connector", "data-testid": `${opts.testid}-connector`, "aria-label": `Storage connector${context}` });
    this.storePath = h("input", { type: "text", id: `${id}-store-path`, class: "sink-store-path", "data-testid": `${opts.testid}-store-path`, spellcheck: "false", autocomplete: "off", placeholder: "Path in the bucket, e.g. assets/", "aria-label": `Path in the bucket${context}` });
    this.storeOption = this.mode.querySelector<HTMLOptionElement>("option[value=store]")!;

    this.suffixField = h("div", { class: "sink-field" },
      rule ? null : h("label", { for: this.suffix.id }, "Suffix"),
      this.suffix,
      h("span", { class: "hint", id: `${id}-suffix-hint` }, "photo.jpg → photo", h("span", { class: "suffix-example" }), ".jpg"),
    );
    this.folderField = h("div", { class: "sink-field sink-folder-field" },
      rule ? null : h("label", { for: this.folder.id }, "Output folder"),
      this.folder,
      this.browse,
    );
    this.inPlaceHint = h("div", { class: "sink-field hint" }, "Originals go to the trash.");
    this.storeField = h("div", { class: "sink-field sink-store-field" }, this.connector, this.storePath);
    this.label = h("label", { for: this.mode.id }, "Results");
    this.el = h("div", { class: "sink" }, this.mode, this.suffixField, this.folderField, this.inPlaceHint, this.storeField);
    this.setConnectors([], []);
    this.mode.addEventListener("change", () => this.sync());
    this.suffix.addEventListener("input", () => this.sync());
  }

  set(output: OutputSetting_Serialize): void {
    this.mode.value = output.mode;
    this.suffix.value = output.suffix;
    this.folder.value = output.folder ?? "";
    this.store = output.store;
    const store = storeFields(output);
    this.fillConnectors(store.connectorId);
    this.storePath.value = store.storePath;
    this.sync();
  }

  value(): OutputSetting_Serialize {
    return buildOutput({
      mode: this.mode.value as OutputMode,
      suffix: this.suffix.value,
      folder: cleanPath(this.folder.value),
      connectorId: this.connector.value,
      storePath: this.storePath.value,
    }, this.store);
  }

  /** The connectors to upload to; without any, "Upload to a storage connector" cannot be chosen. */
  setConnectors(connectors: readonly Connector[], providers: readonly ProviderInfo[]): void {
    this.connectors = connectors;
    this.providers = providers;
    this.fillConnectors(this.connector.value);
  }

  /** Why the sink cannot be saved as shown, and the field to fix; null when it can. */
  problem(): { message: string; field: HTMLElement } | null {
    const output = this.value();
    const message = output.mode === "store" ? outputProblem(output, this.connectors) : null;
    return message ? { message, field: this.connector } : null;
  }

  /** Store mode without a connector chosen: takes the first one. Returns whether one is chosen. */
  chooseConnector(): boolean {
    if (!this.connector.value) this.connector.value = defaultConnector(this.connectors, "");
    return this.connector.value !== "";
  }

  private fillConnectors(selected: string): void {
    const choices = connectorChoices(this.connectors, this.providers, selected);
    this.connector.replaceChildren(...choices.map((c) => h("option", { value: c.value, disabled: c.missing }, c.label)));
    this.connector.value = defaultConnector(this.connectors, selected);
    const none = this.connectors.length === 0;
    // Without connectors there is nothing to upload to (a rule that already does keeps showing it).
    this.storeOption.disabled = none && this.mode.value !== "store";
    this.storeOption.textContent = none ? `${OUTPUT_MODE_LABELS.store} (add one under Connectors)` : OUTPUT_MODE_LABELS.store;
  }

  /** Asks for an output folder; fills it in and returns true when one was chosen. */
  async pickFolder(): Promise<boolean> {
    const folder = await commands.pickOutputFolder();
    if (!folder) return false;
    this.folder.value = folder;
    this.mode.value = "folder";
    this.sync();
    return true;
  }

  setDisabled(disabled: boolean): void {
    for (const el of [this.mode, this.suffix, this.folder, this.browse, this.connector, this.storePath]) el.disabled = disabled;
  }

  /** Shows the field of the chosen mode only. */
  sync(): void {
    const mode = this.mode.value as OutputMode;
    this.suffixField.hidden = mode !== "suffix";
    this.folderField.hidden = mode !== "folder";
    this.inPlaceHint.hidden = mode !== "in_place";
    this.storeField.hidden = mode !== "store";
    setText(this.suffixField.querySelector(".suffix-example")!, this.suffix.value);
  }
}

// ---- one rule ----

interface RuleRowHandlers {
  /** Saves `rule` for `folder`; false when it failed (the error was shown). */
  update(folder: string, rule: WatchRuleSetting_Serialize): Promise<boolean>;
  remove(folder: string): void;
  error(title: string, message: string): void;
}

class RuleRow {
  readonly el: HTMLLIElement;
  readonly folder: string;
  private readonly badge: HTMLElement;
  private readonly preset: HTMLSelectElement;
  private readonly sink: SinkEditor;
  private readonly counts: HTMLElement;
  private readonly toggle: HTMLButtonElement;
  private readonly removeButton: HTMLButtonElement;
  private status: RuleStatus_Serialize;
  private presets: readonly PresetInfo_Serialize[];
  /** A change is being saved. Controls stay enabled (disabling would take focus away). */
  private inFlight = false;
  /** The preset or sink was edited and not saved yet. */
  private dirty = false;

  constructor(status: RuleStatus_Serialize, presets: readonly PresetInfo_Serialize[], private readonly handlers: RuleRowHandlers) {
    this.status = status;
    this.presets = presets;
    this.folder = status.rule.folder;
    const name = baseName(this.folder) || this.folder;
    const id = `rule-${++uid}`;
    this.badge = h("span", { class: "badge watch-state", "data-testid": "watch-state" });
    this.preset = h("select", { id: `${id}-preset`, "data-testid": "watch-rule-preset", "aria-label": `Preset for ${name}` });
    this.sink = new SinkEditor({ testid: "watch-rule", context: `for ${name}` });
    this.counts = h("p", { class: "watch-counts", "data-testid": "watch-counts" });
    this.toggle = h("button", { type: "button", class: "small", "data-testid": "watch-toggle" });
    this.removeButton = h("button", { type: "button", class: "small danger", "data-testid": "watch-remove", "aria-label": `Remove ${name}` }, "Remove");

    this.el = h("li", { class: "watch-rule", "data-testid": "watch-rule", "data-folder": this.folder, "aria-labelledby": `${id}-name` },
      h("div", { class: "watch-rule-head" },
        h("span", { class: "watch-rule-icon", "aria-hidden": "true" }, icon("folder")),
        h("div", { class: "watch-rule-title" },
          h("span", { class: "watch-rule-name", id: `${id}-name` }, name),
          h("span", { class: "watch-rule-path", title: this.folder }, this.folder),
        ),
        this.badge,
      ),
      h("div", { class: "watch-rule-settings" },
        h("div", { class: "watch-rule-field" }, h("label", { for: this.preset.id }, "Preset"), this.preset),
        h("div", { class: "watch-rule-field watch-rule-output" }, this.sink.label, this.sink.el),
      ),
      h("div", { class: "watch-rule-foot" }, this.counts, h("div", { class: "watch-rule-actions" }, this.toggle, this.removeButton)),
    );

    this.preset.addEventListener("change", () => this.edited());
    this.sink.mode.addEventListener("change", () => void this.modeChanged());
    this.sink.suffix.addEventListener("change", () => this.edited());
    this.sink.folder.addEventListener("change", () => this.edited());
    this.sink.connector.addEventListener("change", () => this.edited());
    this.sink.storePath.addEventListener("change", () => this.edited());
    this.sink.browse.addEventListener("click", () => void this.browse());
    this.toggle.addEventListener("click", () => {
      if (this.inFlight) return;
      // An errored rule is not paused: "Resume" tries to start it again.
      void this.send({ ...this.status.rule, paused: this.status.state === "watching" });
    });
    this.removeButton.addEventListener("click", () => handlers.remove(this.folder));

    this.update(status, presets);
  }

  /**
   * Shows `status`; the preset list is filled again when `presets` are given. Edits not saved
   * yet are kept unless `revert`.
   */
  update(status: RuleStatus_Serialize, presets?: readonly PresetInfo_Serialize[], revert = false): void {
    this.status = status;
    const { rule } = status;
    if (revert) this.dirty = false;
    if (!this.dirty) {
      if (presets || !Array.from(this.preset.options).some((o) => o.value === rule.preset)) {
        fillPresetSelect(this.preset, presets ?? this.presets, rule.preset);
      } else if (this.preset.value !== rule.preset) {
        this.preset.value = rule.preset;
      }
      this.sink.set(rule.output);
    }
    if (presets) this.presets = presets;
    const label = stateLabel(status);
    setText(this.badge, label);
    setAttr(this.badge, "title", label);
    setAttr(this.badge, "class", `badge watch-state state-${status.state}`);
    this.el.dataset.state = status.state;
    const resume = status.state !== "watching";
    setText(this.toggle, resume ? "Resume" : "Pause");
    setAttr(this.toggle, "aria-label", `${resume ? "Resume" : "Pause"} watching ${baseName(this.folder) || this.folder}`);
    this.updateCounts(status);
  }

  updateCounts(status: RuleStatus_Serialize): void {
    const c = status.counts;
    setText(this.counts, formatCounts(c));
    const d = this.counts.dataset;
    d.compressed = String(c.compressed);
    d.skipped = String(c.skipped);
    d.failed = String(c.failed);
    d.bytesBefore = String(c.bytes_before);
    d.bytesAfter = String(c.bytes_after);
  }

  setBusy(busy: boolean): void {
    this.el.setAttribute("aria-busy", String(busy));
  }

  setConnectors(connectors: readonly Connector[], providers: readonly ProviderInfo[]): void {
    this.sink.setConnectors(connectors, providers);
  }

  /** Focuses the row's first button (after a neighbour was removed). */
  focus(): void {
    this.toggle.focus();
  }

  private async modeChanged(): Promise<void> {
    const output = this.sink.value();
    if (output.mode === "store" && !this.sink.chooseConnector()) {
      // No connector to upload to: keep the rule as it is.
      this.sink.set(this.status.rule.output);
      return;
    }
    if (output.mode === "folder" && !output.folder) {
      // Nothing to save without a folder: ask for one; without it, keep the rule as it is.
      let picked = false;
      try {
        picked = await this.sink.pickFolder();
      } catch (err) {
        this.handlers.error("The output folder could not be chosen", errorText(err));
      }
      if (!picked) {
        this.sink.set(this.status.rule.output);
        return;
      }
    }
    this.edited();
  }

  private async browse(): Promise<void> {
    try {
      if (!(await this.sink.pickFolder())) return;
    } catch (err) {
      this.handlers.error("The output folder could not be chosen", errorText(err));
      return;
    }
    this.edited();
  }

  /** Saves the preset and sink as shown; edits made while saving are saved next. */
  private edited(): void {
    this.dirty = true;
    void this.saveEdits();
  }

  private async saveEdits(): Promise<void> {
    if (this.inFlight || !this.dirty) return;
    this.dirty = false;
    const ok = await this.send({ ...this.status.rule, preset: this.preset.value, output: this.sink.value() });
    if (ok && this.dirty) await this.saveEdits();
  }

  /** Saves `rule`; on failure shows the rule as it was. */
  private async send(rule: WatchRuleSetting_Serialize): Promise<boolean> {
    this.inFlight = true;
    this.setBusy(true);
    let ok = false;
    try {
      ok = await this.handlers.update(this.folder, rule);
    } finally {
      this.inFlight = false;
      this.setBusy(false);
    }
    if (!ok && this.el.isConnected) this.update(this.status, undefined, true);
    return ok;
  }
}

// ---- the screen ----

export class WatchView {
  readonly el: HTMLElement;
  readonly model = new WatchModel();
  private readonly folderInput: HTMLInputElement;
  private readonly browseButton: HTMLButtonElement;
  private readonly presetSelect: HTMLSelectElement;
  private readonly sink: SinkEditor;
  private readonly addButton: HTMLButtonElement;
  private readonly formError: HTMLElement;
  private readonly ruleList: HTMLUListElement;
  private readonly empty: HTMLElement;
  private readonly ruleCount: HTMLElement;
  private readonly logList: HTMLOListElement;
  private readonly logEmpty: HTMLElement;
  private readonly rows = new Map<string, RuleRow>();
  private readonly removing = new Set<string>();
  /** The identity of each drawn log line. */
  private readonly logKeys = new WeakMap<Element, string>();
  private presets: readonly PresetInfo_Serialize[] = [];
  private connectors: readonly Connector[] = [];
  private providers: readonly ProviderInfo[] = [];
  private currentPreset = "";
  private presetTouched = false;
  private visible = false;
  /** The log must be drawn again from the model (not only the new lines). */
  private stale = true;
  private frame = 0;
  private adding = false;
  private lastNoticeRefresh = 0;
  private noticeTimer: ReturnType<typeof setTimeout> | null = null;

  constructor(private readonly handlers: WatchViewHandlers) {
    this.folderInput = h("input", { type: "text", id: "watch-folder", "data-testid": "watch-folder-input", spellcheck: "false", autocomplete: "off", placeholder: "Paste a folder path or choose one", "aria-describedby": "watch-folder-hint" });
    this.browseButton = h("button", { type: "button", "data-testid": "watch-browse", "aria-label": "Browse for a folder to watch" }, icon("folder"), "Browse…");
    this.presetSelect = h("select", { id: "watch-preset", "data-testid": "watch-preset", disabled: true });
    this.sink = new SinkEditor({ testid: "watch" });
    this.sink.set({ mode: "suffix", suffix: DEFAULT_SUFFIX, folder: null });
    this.addButton = h("button", { type: "submit", class: "primary", "data-testid": "watch-add" }, icon("eye"), "Watch");
    this.formError = h("p", { class: "form-error", role: "alert", "data-testid": "watch-form-error", hidden: true });

    const form = h("form", { class: "card watch-form", "aria-labelledby": "watch-form-title", novalidate: true },
      h("h2", { class: "card-title", id: "watch-form-title" }, "Add a watched folder"),
      h("div", { class: "watch-form-grid" },
        h("label", { for: this.folderInput.id }, "Folder"),
        h("div", { class: "watch-folder-field" }, this.folderInput, this.browseButton),
        h("span", {}),
        h("span", { class: "hint", id: "watch-folder-hint" }, `Images that land in it (or up to ${DEFAULT_DEPTH} levels of sub-folders down) are compressed as they arrive.`),
        h("label", { for: this.presetSelect.id }, "Preset"),
        h("div", {}, this.presetSelect),
        this.sink.label,
        this.sink.el,
      ),
      h("div", { class: "watch-form-foot" }, this.formError, this.addButton),
    );

    this.ruleCount = h("span", { class: "card-count" });
    this.empty = h("p", { class: "watch-empty", "data-testid": "watch-empty", hidden: true }, "No folders are watched yet. Add one above: new images in it are compressed as they arrive.");
    this.ruleList = h("ul", { class: "watch-rules", "data-testid": "watch-rules", "aria-labelledby": "watch-rules-title" });
    const rules = h("section", { class: "card watch-rules-card", "aria-labelledby": "watch-rules-title" },
      h("h2", { class: "card-title", id: "watch-rules-title" }, "Watched folders", this.ruleCount),
      this.empty,
      this.ruleList,
    );

    this.logList = h("ol", { class: "watch-log-list" });
    this.logEmpty = h("p", { class: "watch-log-empty", "data-testid": "watch-log-empty" }, "Nothing happened yet. Compressed, skipped and failed files appear here as they come.");
    const log = h("div", { class: "watch-log", role: "log", "aria-live": "polite", "aria-relevant": "additions", "aria-labelledby": "watch-log-title", "data-testid": "watch-log", tabindex: 0 },
      this.logList,
      this.logEmpty,
    );
    const activity = h("section", { class: "card watch-activity", "aria-labelledby": "watch-log-title" },
      h("h2", { class: "card-title", id: "watch-log-title" }, "Activity", h("span", { class: "card-count" }, `newest first, last ${LOG_RENDERED}`)),
      log,
    );

    this.el = h("section", { class: "watch-view", "data-testid": "watch-view" },
      h("div", { class: "watch-column" }, form, rules),
      activity,
    );

    this.browseButton.addEventListener("click", () => void this.browse());
    this.sink.browse.addEventListener("click", () => void this.browseOutput());
    this.presetSelect.addEventListener("change", () => (this.presetTouched = true));
    this.folderInput.addEventListener("input", () => {
      if (this.folderInput.getAttribute("aria-invalid")) this.showFormError(null);
    });
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      void this.add();
    });
  }

  /** The presets for the selects; `current` (the app's preset) is the form's default. */
  setPresets(presets: readonly PresetInfo_Serialize[], current: string): void {
    this.presets = presets;
    this.currentPreset = current;
    const keep = this.presetTouched && presets.some((p) => p.name === this.presetSelect.value) ? this.presetSelect.value : current;
    fillPresetSelect(this.presetSelect, presets, keep);
    for (const row of this.rows.values()) {
      const status = this.model.rule(row.folder);
      if (status) row.update(status, presets);
    }
  }

  /** The app's preset changed: it becomes the form's default unless one was chosen there. */
  setCurrentPreset(name: string): void {
    this.currentPreset = name;
    if (!this.presetTouched) fillPresetSelect(this.presetSelect, this.presets, name);
  }

  /** The connectors the form and the rules can upload to. */
  setConnectors(connectors: readonly Connector[], providers: readonly ProviderInfo[]): void {
    this.connectors = connectors;
    this.providers = providers;
    this.sink.setConnectors(connectors, providers);
    for (const row of this.rows.values()) row.setConnectors(connectors, providers);
  }

  /** The form's output starts as the settings' suffix and folder (beside the original). */
  setOutputDefaults(output: OutputSetting_Serialize): void {
    this.sink.set({ mode: "suffix", suffix: output.suffix || DEFAULT_SUFFIX, folder: output.folder });
  }

  /** Shows the screen: draws what is known at once, then loads the overview. */
  show(): Promise<void> {
    this.visible = true;
    this.render();
    return this.refresh();
  }

  hide(): void {
    this.visible = false;
  }

  /** A live activity line (from the watch-activity event). */
  receive(activity: Activity): void {
    this.model.receive(activity);
    this.schedule();
  }

  /** Puts a path (e.g. a dropped folder) in the form's folder field. */
  fillFolder(path: string): void {
    this.folderInput.value = path;
    this.showFormError(null);
    this.folderInput.focus();
  }

  /** Loads the overview and shows it. */
  async refresh(): Promise<void> {
    const ticket = this.model.begin();
    let overview: WatchOverview_Serialize;
    try {
      overview = await commands.watchOverview();
    } catch (err) {
      this.handlers.notify("The watched folders could not be loaded", [errorText(err)]);
      return;
    }
    this.apply(ticket, overview);
  }

  destroy(): void {
    if (this.frame) cancelAnimationFrame(this.frame);
    if (this.noticeTimer) clearTimeout(this.noticeTimer);
    this.frame = 0;
    this.noticeTimer = null;
  }

  // ---- commands ----

  private async browse(): Promise<void> {
    try {
      const folder = await commands.pickWatchFolder();
      if (folder) this.fillFolder(folder);
    } catch (err) {
      this.showFormError(errorText(err));
    }
  }

  private async browseOutput(): Promise<void> {
    try {
      await this.sink.pickFolder();
    } catch (err) {
      this.showFormError(errorText(err));
    }
  }

  private async add(): Promise<void> {
    if (this.adding) return;
    const folder = cleanPath(this.folderInput.value);
    if (folder === "") {
      this.showFormError("Choose a folder to watch.", this.folderInput);
      return;
    }
    const output = this.sink.value();
    if (output.mode === "folder" && output.folder === null) {
      this.showFormError("Choose an output folder.", this.sink.folder);
      return;
    }
    const problem = this.sink.problem();
    if (problem) {
      this.showFormError(problem.message, problem.field);
      return;
    }
    const rule: WatchRuleSetting_Serialize = {
      folder,
      preset: this.presetSelect.value || this.currentPreset,
      output,
      depth: DEFAULT_DEPTH,
      include: [],
      exclude: [],
      paused: false,
    };
    this.adding = true;
    this.addButton.disabled = true;
    this.showFormError(null);
    const error = await this.mutate(() => commands.addWatchRule(rule));
    this.adding = false;
    this.addButton.disabled = false;
    if (error !== null) {
      this.showFormError(error);
      return;
    }
    this.folderInput.value = "";
    announce(`Watching ${folder}`);
  }

  private async update(folder: string, rule: WatchRuleSetting_Serialize): Promise<boolean> {
    const error = await this.mutate(() => commands.updateWatchRule(folder, rule));
    if (error !== null) {
      this.handlers.notify(`${baseName(folder) || folder}: the change could not be saved`, [error]);
      return false;
    }
    const status = this.model.rule(rule.folder);
    if (status) announce(`${baseName(folder) || folder}: ${stateLabel(status)}`);
    return true;
  }

  private async remove(folder: string): Promise<void> {
    if (this.removing.has(folder)) return;
    this.removing.add(folder);
    try {
      await this.removeNow(folder);
    } finally {
      this.removing.delete(folder);
    }
  }

  private async removeNow(folder: string): Promise<void> {
    const row = this.rows.get(folder);
    const index = row ? Array.prototype.indexOf.call(this.ruleList.children, row.el) : -1;
    const hadFocus = !!row?.el.contains(document.activeElement);
    row?.setBusy(true);
    const error = await this.mutate(() => commands.removeWatchRule(folder));
    if (error !== null) {
      row?.setBusy(false);
      this.handlers.notify(`${baseName(folder) || folder} could not be removed`, [error]);
      return;
    }
    announce(`Stopped watching ${folder}`);
    if (hadFocus || document.activeElement === document.body) {
      // The button that had focus is gone: move to the neighbouring rule, or to the form.
      const rows = Array.from(this.rows.values());
      const next = rows[Math.min(Math.max(index, 0), rows.length - 1)];
      if (next) next.focus();
      else this.folderInput.focus();
    }
  }

  /** Runs a command answered with an overview; shows it, or returns the error text. */
  private async mutate(call: () => Promise<CommandResult<WatchOverview_Serialize>>): Promise<string | null> {
    const ticket = this.model.begin();
    let result: CommandResult<WatchOverview_Serialize>;
    try {
      result = await call();
    } catch (err) {
      result = { status: "error", error: errorText(err) };
    }
    if (result.status === "error") return result.error;
    this.apply(ticket, result.data);
    return null;
  }

  private apply(ticket: Ticket, overview: WatchOverview_Serialize): void {
    if (!this.model.replace(ticket, overview)) return;
    this.stale = true;
    this.render();
  }

  // ---- drawing ----

  private schedule(): void {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.onFrame();
    });
  }

  /** Applies the events of this frame: new log lines on top, changed counts. */
  private onFrame(): void {
    const { added, folders } = this.model.flush();
    if (added.some((a) => a.kind === "notice")) this.refreshSoon();
    if (!this.visible) {
      this.stale ||= added.length > 0;
      return;
    }
    if (this.stale) {
      this.render();
      return;
    }
    if (added.length) this.prependLog(added);
    for (const folder of folders) {
      const status = this.model.rule(folder);
      if (status) this.rows.get(folder)?.updateCounts(status);
    }
  }

  /** Draws everything from the model (after an overview, or when shown). */
  private render(): void {
    this.model.flush();
    if (!this.visible) return;
    this.renderRules();
    this.renderLog();
    this.stale = false;
  }

  private renderRules(): void {
    const rules = this.model.rules;
    const seen = new Set<string>();
    rules.forEach((status, i) => {
      const folder = status.rule.folder;
      seen.add(folder);
      let row = this.rows.get(folder);
      if (row) {
        row.update(status);
      } else {
        row = new RuleRow(status, this.presets, {
          update: (f, rule) => this.update(f, rule),
          remove: (f) => void this.remove(f),
          error: (title, message) => this.handlers.notify(title, [message]),
        });
        row.setConnectors(this.connectors, this.providers);
        this.rows.set(folder, row);
      }
      // Moves a row only when it is out of place (moving would lose focus).
      if (this.ruleList.children[i] !== row.el) this.ruleList.insertBefore(row.el, this.ruleList.children[i] ?? null);
    });
    for (const [folder, row] of this.rows) {
      if (!seen.has(folder)) {
        row.el.remove();
        this.rows.delete(folder);
      }
    }
    this.empty.hidden = !this.model.loaded || rules.length > 0;
    this.ruleList.hidden = rules.length === 0;
    const watching = rules.filter((r) => r.state === "watching").length;
    setText(this.ruleCount, rules.length ? `${watching} of ${rules.length} watching` : "");
  }

  /**
   * Draws the newest LOG_RENDERED lines of the model, keeping the lines already there (the log
   * is a live region: lines put in again would be read out again).
   */
  private renderLog(): void {
    const wanted = this.model.log.slice(-LOG_RENDERED).reverse();
    const keys = wanted.map(activityKey);
    const wantedKeys = new Set(keys);
    for (const el of Array.from(this.logList.children)) {
      if (!wantedKeys.has(this.logKeys.get(el) ?? "")) el.remove();
    }
    const children = this.logList.children;
    let run: DocumentFragment | null = null;
    let i = 0;
    for (let w = 0; w < wanted.length; w++) {
      const child = children[i] as HTMLElement | undefined;
      if (child && this.logKeys.get(child) === keys[w]) {
        if (run) {
          i += run.childNodes.length;
          this.logList.insertBefore(run, child);
        }
        run = null;
        i++;
        continue;
      }
      // A new line: new lines in a row go in together.
      run ??= document.createDocumentFragment();
      run.appendChild(this.logEntry(wanted[w]));
      if (!child) continue;
      // Out of order (rare): a line already drawn further down is dropped and drawn here.
      if (keys.indexOf(this.logKeys.get(child) ?? "", w + 1) < 0) {
        child.remove();
      }
    }
    if (run) this.logList.insertBefore(run, children[i] ?? null);
    while (this.logList.childElementCount > wanted.length) this.logList.lastElementChild!.remove();
    this.logEmpty.hidden = wanted.length > 0 || !this.model.loaded;
  }

  private prependLog(added: Activity[]): void {
    const newest = added.slice(-LOG_RENDERED).reverse();
    const fragment = document.createDocumentFragment();
    for (const a of newest) fragment.appendChild(this.logEntry(a));
    this.logList.insertBefore(fragment, this.logList.firstChild);
    while (this.logList.childElementCount > LOG_RENDERED) this.logList.lastElementChild!.remove();
    this.logEmpty.hidden = true;
  }

  private logEntry(a: Activity): HTMLLIElement {
    const el = logEntry(a);
    this.logKeys.set(el, activityKey(a));
    return el;
  }

  /** Fetches the overview again soon (rule states may have changed), at most once a second. */
  private refreshSoon(): void {
    if (this.noticeTimer) return;
    const wait = Math.max(0, this.lastNoticeRefresh + NOTICE_REFRESH_MS - Date.now());
    this.noticeTimer = setTimeout(() => {
      this.noticeTimer = null;
      this.lastNoticeRefresh = Date.now();
      void this.refresh();
    }, wait);
  }

  private showFormError(text: string | null, field?: HTMLElement): void {
    this.folderInput.removeAttribute("aria-invalid");
    this.sink.folder.removeAttribute("aria-invalid");
    this.sink.connector.removeAttribute("aria-invalid");
    this.formError.hidden = text === null;
    this.formError.textContent = text ?? "";
    if (field) {
      field.setAttribute("aria-invalid", "true");
      field.focus();
    }
  }
}

/** One line of the log. */
function logEntry(a: Activity): HTMLLIElement {
  const file = activityFile(a);
  const time = new Date(a.at);
  return h("li", { class: "watch-log-entry", "data-testid": "watch-log-entry", "data-kind": a.kind, title: file ? null : a.folder },
    h("time", { class: "log-time", datetime: Number.isNaN(time.getTime()) ? null : time.toISOString() }, formatClock(a.at)),
    h("span", { class: `log-kind kind-${a.kind}` }, KIND_LABELS[a.kind]),
    file ? h("span", { class: "log-file", title: file }, baseName(file)) : null,
    h("span", { class: "log-detail", title: a.kind === "compressed" ? outputText(a.output) : null }, activityDetail(a)),
  );
}
