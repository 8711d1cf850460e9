// The settings dialog: output policy (beside, in a folder, in place, or uploaded through a
// storage connector), metadata to keep, parallel jobs, where compression runs (this computer or a
// Compressor API server), and the user's presets. "Save" calls save_settings; its error (if any)
// is shown in the dialog, which stays open. A server's API key typed here goes to the system
// keychain (set_remote_key) before the settings are saved, and never into them; the key input is
// emptied when the dialog closes. Creating or deleting a preset saves at once (the last saved
// settings with the new list).

import { commands, type Connector_Serialize as Connector, type EngineMode, type OutputMode, type PresetInfo_Serialize, type ProviderInfo_Serialize as ProviderInfo, type Settings_Serialize, type UserPreset_Serialize } from "./bindings";
import { h } from "./dom";
import { type EngineProblems, engineFields, engineProblems, type EngineValues, isServerUrl, noProblems, serverUrl } from "./engine-model";
import { Modal } from "./modal";
import { errorText } from "./notice";
import { buildOutput, connectorChoices, defaultConnector, outputProblem, storeFields } from "./output-model";
import { PresetsSection } from "./user-presets";

/** How long the server's URL must stay unchanged before the keychain is asked about it. */
export const KEY_CHECK_DELAY_MS = 400;

export interface SettingsDialogHandlers {
  /** Called with the settings that were saved. */
  onSaved(settings: Settings_Serialize): void;
  /** Called after a preset was created or deleted and saved (refresh the preset menu). */
  onPresetsSaved(settings: Settings_Serialize): Promise<void>;
  /** Where focus goes on close when the opener did not have it (e.g. a mouse click in WebKit). */
  restoreFocus(): boolean;
}

let uid = 0;

export class SettingsDialog {
  readonly el: HTMLDialogElement;
  private readonly modal: Modal;
  private readonly modes: Record<OutputMode, HTMLInputElement>;
  private readonly suffix: HTMLInputElement;
  private readonly folder: HTMLInputElement;
  private readonly choose: HTMLButtonElement;
  private readonly connector: HTMLSelectElement;
  private readonly storePath: HTMLInputElement;
  private readonly storeDetail: HTMLElement;
  private readonly noConnectors: HTMLElement;
  private readonly keepDates: HTMLInputElement;
  private readonly keepExif: HTMLInputElement;
  private readonly keepIcc: HTMLInputElement;
  private readonly jobs: HTMLInputElement;
  private readonly engines: Record<EngineMode, HTMLInputElement>;
  private readonly remoteDetail: HTMLElement;
  private readonly remoteUrl: HTMLInputElement;
  private readonly remoteKey: HTMLInputElement;
  private readonly remoteKeySaved: HTMLElement;
  private readonly remoteUrlError: HTMLElement;
  private readonly remoteKeyError: HTMLElement;
  private readonly error: HTMLElement;
  private readonly saveButton: HTMLButtonElement;
  private readonly presets: PresetsSection;
  private base: Settings_Serialize | null = null;
  private connectors: readonly Connector[] = [];
  private providers: readonly ProviderInfo[] = [];
  /** Whether the keychain holds a key for the URL in the field (as last checked). */
  private keySaved = false;
  /** Bumped by each keychain check (and on close): an answer to an older one is dropped. */
  private keyCheck = 0;
  private keyTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly handlers: SettingsDialogHandlers) {
    const radio = (name: string, value: string) => h("input", { type: "radio", name, value, id: `set-${name}-${value}-${++uid}` });
    const check = (id: string) => h("input", { type: "checkbox", id });
    this.modes = {
      suffix: radio("output", "suffix"),
      folder: radio("output", "folder"),
      in_place: radio("output", "in_place"),
      store: h("input", { type: "radio", name: "output", value: "store", id: "output-store", "data-testid": "output-store" }),
    };
    this.suffix = h("input", { type: "text", id: "set-suffix", "data-testid": "output-suffix", spellcheck: "false", autocomplete: "off", "aria-describedby": "set-suffix-hint" });
    this.folder = h("input", { type: "text", id: "set-folder", "data-testid": "output-folder", readonly: true, placeholder: "No folder chosen" });
    this.choose = h("button", { type: "button", "data-testid": "choose-folder" }, "Choose…");
    this.connector = h("select", { id: "output-connector", "data-testid": "output-connector", "aria-label": "Storage connector" });
    this.storePath = h("input", { type: "text", id: "output-store-path", "data-testid": "output-store-path", spellcheck: "false", autocomplete: "off", placeholder: "e.g. assets/", "aria-describedby": "output-store-path-hint" });
    this.noConnectors = h("span", { class: "hint", "data-testid": "output-store-hint" }, "No connectors yet: add one on the Connectors screen.");
    this.keepDates = check("set-keep-dates");
    this.keepExif = check("set-keep-exif");
    this.keepIcc = check("set-keep-icc");
    this.jobs = h("input", { type: "number", id: "set-jobs", min: 0, max: 256, step: 1, inputmode: "numeric", "data-testid": "jobs", "aria-describedby": "set-jobs-hint" });
    this.engines = {
      local: h("input", { type: "radio", name: "engine", value: "local", id: "engine-local", "data-testid": "engine-local", checked: true }),
      remote: h("input", { type: "radio", name: "engine", value: "remote", id: "engine-remote", "data-testid": "engine-remote" }),
    };
    this.remoteUrl = h("input", { type: "url", id: "remote-url", "data-testid": "remote-url", spellcheck: "false", autocomplete: "off", inputmode: "url", placeholder: "http://127.0.0.1:8080", "aria-describedby": "remote-url-error" });
    this.remoteKey = h("input", { type: "password", id: "remote-key", "data-testid": "remote-key", spellcheck: "false", autocomplete: "off", "aria-describedby": "remote-key-hint remote-key-saved remote-key-error" });
    this.remoteKeySaved = h("span", { class: "hint key-saved", id: "remote-key-saved", "data-testid": "remote-key-saved", hidden: true }, "A key is saved for this server");
    this.remoteUrlError = h("p", { class: "field-error", id: "remote-url-error", "data-testid": "remote-url-error", hidden: true });
    this.remoteKeyError = h("p", { class: "field-error", id: "remote-key-error", "data-testid": "remote-key-error", hidden: true });
    this.error = h("p", { class: "form-error", role: "alert", "data-testid": "settings-error", hidden: true });
    this.saveButton = h("button", { type: "submit", class: "primary", "data-testid": "save-settings" }, "Save");
    const cancel = h("button", { type: "button", "data-testid": "cancel-settings" }, "Cancel");
    this.presets = new PresetsSection({ save: (userPresets, selected) => this.savePresets(userPresets, selected) });

    const option = (input: HTMLInputElement, label: string, ...extra: (Node | null)[]) =>
      h("div", { class: "option" }, input, h("label", { for: input.id }, label), ...extra);

    const form = h("form", { class: "settings-form", method: "dialog", novalidate: true },
      h("header", { class: "dialog-head" }, h("div", { class: "dialog-titles" }, h("h2", { id: "settings-title" }, "Settings"),
        h("p", { class: "dialog-subtitle" }, "Apply to files added from now on."))),
      h("div", { class: "settings-body" },
        h("fieldset", {},
          h("legend", {}, "Where results go"),
          option(this.modes.suffix, "Next to the original, with a suffix",
            h("div", { class: "option-detail" }, this.suffix, h("span", { class: "hint", id: "set-suffix-hint" }, "e.g. photo.jpg → photo-min.jpg"))),
          option(this.modes.folder, "In an output folder",
            h("div", { class: "option-detail" }, this.folder, this.choose)),
          option(this.modes.in_place, "Replace the original",
            h("div", { class: "option-detail hint" }, "Originals go to the trash.")),
          option(this.modes.store, "Upload to a storage connector",
            this.storeDetail = h("div", { class: "option-detail store-detail" },
              this.connector,
              h("label", { class: "store-path-label", for: this.storePath.id }, "Path in the bucket"),
              this.storePath),
            h("div", { class: "option-detail" },
              this.noConnectors,
              h("span", { class: "hint", id: "output-store-path-hint" }, "Optional; ending in / it is a folder. Nothing is written locally."))),
        ),
        h("fieldset", {},
          h("legend", {}, "Keep"),
          option(this.keepDates, "File dates (modified time)"),
          option(this.keepExif, "EXIF metadata (camera, date, location)"),
          option(this.keepIcc, "ICC colour profile"),
        ),
        h("fieldset", {},
          h("legend", {}, "Processing"),
          h("div", { class: "field-row" },
            h("label", { for: this.jobs.id }, "Parallel jobs"), this.jobs,
            h("span", { class: "hint", id: "set-jobs-hint" }, "0 = one per CPU core ", h("span", { class: "restart-hint", "data-testid": "jobs-restart-hint" }, "(applies after restart)"))),
        ),
        h("fieldset", { class: "engine-choice", "data-testid": "engine-choice" },
          h("legend", {}, "Compress on"),
          option(this.engines.local, "This computer"),
          option(this.engines.remote, "A Compressor API server",
            this.remoteDetail = h("div", { class: "option-detail remote-detail", "data-testid": "remote-detail" },
              h("label", { for: this.remoteUrl.id }, "URL"),
              this.remoteUrl,
              this.remoteUrlError,
              h("label", { for: this.remoteKey.id }, "API key"),
              this.remoteKey,
              this.remoteKeySaved,
              h("span", { class: "hint", id: "remote-key-hint" }, "Kept in the system keychain, never in the settings file."),
              this.remoteKeyError)),
        ),
        this.presets.el,
      ),
      h("footer", { class: "dialog-foot" }, this.error, h("div", { class: "dialog-foot-actions" }, cancel, this.saveButton)),
    );

    this.el = h("dialog", { class: "dialog settings", "data-testid": "settings-dialog", "aria-labelledby": "settings-title" }, form);
    this.modal = new Modal(this.el, { restoreFocus: () => this.handlers.restoreFocus(), onClose: () => this.forgetKey() });

    for (const input of Object.values(this.modes)) input.addEventListener("change", () => this.syncEnabled());
    this.suffix.addEventListener("focus", () => this.pick("suffix"));
    this.storePath.addEventListener("focus", () => !this.modes.store.disabled && this.pick("store"));
    this.connector.addEventListener("change", () => this.pick("store"));
    this.choose.addEventListener("click", () => void this.chooseFolder());
    for (const input of Object.values(this.engines)) input.addEventListener("change", () => this.syncEngine());
    this.remoteUrl.addEventListener("input", () => {
      showFieldError(this.remoteUrl, this.remoteUrlError, undefined);
      this.scheduleKeyCheck();
    });
    this.remoteKey.addEventListener("input", () => showFieldError(this.remoteKey, this.remoteKeyError, undefined));
    cancel.addEventListener("click", () => this.modal.close());
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      void this.save();
    });
  }

  get isOpen(): boolean {
    return this.modal.open;
  }

  /** The connectors "Upload to a storage connector" offers; with none that choice is disabled. */
  setConnectors(connectors: readonly Connector[], providers: readonly ProviderInfo[]): void {
    this.connectors = connectors;
    this.providers = providers;
    this.fillConnectors(this.connector.value);
  }

  /** Opens on `settings`; `presets` (from list_presets) gives the built-in names a new preset must not take. */
  open(settings: Settings_Serialize, presets: readonly PresetInfo_Serialize[] = []): void {
    this.base = settings;
    this.presets.load(settings.user_presets, settings.preset, presets.filter((p) => p.builtin).map((p) => p.name));
    this.pick(settings.output.mode);
    this.suffix.value = settings.output.suffix;
    this.folder.value = settings.output.folder ?? "";
    const store = storeFields(settings.output);
    this.fillConnectors(store.connectorId);
    this.storePath.value = store.storePath;
    this.keepDates.checked = settings.keep_dates;
    this.keepExif.checked = settings.keep_exif;
    this.keepIcc.checked = settings.keep_icc;
    this.jobs.value = String(settings.jobs);
    this.remoteUrl.value = settings.remote_url ?? "";
    this.remoteKey.value = "";
    this.pickEngine(settings.engine);
    this.showError(null);
    this.showFieldErrors({});
    this.setKeySaved(false);
    void this.checkKey();
    this.modal.show(this.modes[settings.output.mode]);
  }

  close(): void {
    this.modal.close();
  }

  /** The settings as edited (everything the dialog does not show is kept as loaded). */
  value(): Settings_Serialize {
    const base = this.base!;
    const mode = (Object.keys(this.modes) as OutputMode[]).find((m) => this.modes[m].checked) ?? base.output.mode;
    const jobs = Math.max(0, Math.floor(Number(this.jobs.value) || 0));
    const output = buildOutput({ mode, suffix: this.suffix.value, folder: this.folder.value, connectorId: this.connector.value, storePath: this.storePath.value }, base.output.store);
    return {
      ...base,
      output,
      keep_dates: this.keepDates.checked,
      keep_exif: this.keepExif.checked,
      keep_icc: this.keepIcc.checked,
      jobs,
      ...engineFields(this.engineValues(), base),
    };
  }

  /** What the "Compress on" fields hold. */
  private engineValues(): EngineValues {
    return {
      engine: this.engines.remote.checked ? "remote" : "local",
      url: this.remoteUrl.value,
      key: this.remoteKey.value,
      keySaved: this.keySaved,
    };
  }

  private pickEngine(engine: EngineMode): void {
    this.engines[engine].checked = true;
    this.syncEngine();
  }

  private syncEngine(): void {
    const remote = this.engines.remote.checked;
    this.remoteDetail.hidden = !remote;
    if (!remote) this.showFieldErrors({});
  }

  private setKeySaved(saved: boolean): void {
    this.keySaved = saved;
    this.remoteKeySaved.hidden = !saved;
    this.remoteKey.placeholder = saved ? "Optional: a new key replaces the saved one" : "";
  }

  /** Asks the keychain about the URL once it has stopped changing for a moment. */
  private scheduleKeyCheck(): void {
    clearTimeout(this.keyTimer);
    this.keyCheck++;
    this.setKeySaved(false);
    this.keyTimer = setTimeout(() => void this.checkKey(), KEY_CHECK_DELAY_MS);
  }

  /** Whether the keychain holds a key for the URL in the field; shows the answer if still current. */
  private async checkKey(): Promise<boolean> {
    clearTimeout(this.keyTimer);
    const check = ++this.keyCheck;
    const url = serverUrl(this.remoteUrl.value);
    let saved = false;
    if (isServerUrl(url)) {
      try {
        saved = await commands.hasRemoteKey(url);
      } catch {
        saved = false;
      }
    }
    if (check === this.keyCheck) this.setKeySaved(saved);
    return saved;
  }

  /** On close: the typed key is dropped, and an answer still on its way is ignored. */
  private forgetKey(): void {
    this.remoteKey.value = "";
    clearTimeout(this.keyTimer);
    this.keyCheck++;
  }

  private showFieldErrors(problems: EngineProblems): void {
    showFieldError(this.remoteUrl, this.remoteUrlError, problems.url);
    showFieldError(this.remoteKey, this.remoteKeyError, problems.key);
  }

  /**
   * Checks the "Compress on" fields and stores a typed key in the keychain; false (with the
   * reason shown by the field) when the settings must not be saved.
   */
  private async prepareEngine(): Promise<boolean> {
    const values = this.engineValues();
    if (values.engine !== "remote") return true;
    let problems = engineProblems(values);
    // The last check may be out of date (the URL was just typed): ask the keychain again.
    if (problems.url === undefined && problems.key !== undefined) {
      problems = engineProblems({ ...values, keySaved: await this.checkKey() });
    }
    if (!noProblems(problems)) {
      this.showFieldErrors(problems);
      (problems.url !== undefined ? this.remoteUrl : this.remoteKey).focus();
      return false;
    }
    const key = values.key.trim();
    if (key === "") return true;
    const url = serverUrl(values.url);
    let failure: string | null = null;
    try {
      const result = await commands.setRemoteKey(url, key);
      if (result.status === "error") failure = result.error;
    } catch (err) {
      failure = errorText(err);
    }
    if (failure !== null) {
      this.showFieldErrors({ key: failure });
      this.remoteKey.focus();
      return false;
    }
    // Kept: if saving the settings fails now, the key need not be typed again.
    this.remoteKey.value = "";
    this.keyCheck++;
    this.setKeySaved(true);
    return true;
  }

  private pick(mode: OutputMode): void {
    this.modes[mode].checked = true;
    this.syncEnabled();
  }

  private syncEnabled(): void {
    this.folder.classList.toggle("inactive", !this.modes.folder.checked);
    this.suffix.classList.toggle("inactive", !this.modes.suffix.checked);
    this.storeDetail.classList.toggle("inactive", !this.modes.store.checked);
  }

  /** Fills the connector select, keeping `selected` (even a removed one, to show it is gone). */
  private fillConnectors(selected: string): void {
    const choices = connectorChoices(this.connectors, this.providers, selected);
    this.connector.replaceChildren(...choices.map((c) => h("option", { value: c.value, disabled: c.missing }, c.label)));
    this.connector.value = defaultConnector(this.connectors, selected);
    const none = this.connectors.length === 0;
    // Without connectors there is nothing to upload to, unless the settings already say so.
    this.modes.store.disabled = none && !this.modes.store.checked;
    this.connector.disabled = none;
    this.storePath.disabled = none;
    this.noConnectors.hidden = !none;
  }

  private async chooseFolder(): Promise<void> {
    try {
      const folder = await commands.pickOutputFolder();
      if (folder) {
        this.folder.value = folder;
        this.pick("folder");
      }
    } catch (err) {
      this.showError(errorText(err));
    }
  }

  private async save(): Promise<void> {
    const settings = this.value();
    this.showError(null);
    this.showFieldErrors({});
    // The backend would only find out when files are added: say it now.
    const problem = settings.output.mode === "store" ? outputProblem(settings.output, this.connectors) : null;
    if (problem) {
      this.showError(problem);
      this.connector.focus();
      return;
    }
    this.saveButton.disabled = true;
    try {
      if (!(await this.prepareEngine())) return;
      const result = await commands.saveSettings(settings);
      if (result.status === "error") {
        this.showError(result.error);
        return;
      }
      this.base = settings;
      this.handlers.onSaved(settings);
      this.modal.close();
    } catch (err) {
      this.showError(errorText(err));
    } finally {
      this.saveButton.disabled = false;
    }
  }

  /** Saves the last saved settings with `userPresets` and `selected`; the backend's error text, or null. */
  private async savePresets(userPresets: UserPreset_Serialize[], selected: string): Promise<string | null> {
    const next: Settings_Serialize = { ...this.base!, user_presets: userPresets, preset: selected };
    try {
      const result = await commands.saveSettings(next);
      if (result.status === "error") return result.error;
    } catch (err) {
      return errorText(err);
    }
    this.base = next;
    await this.handlers.onPresetsSaved(next);
    return null;
  }

  private showError(text: string | null): void {
    this.error.hidden = text === null;
    this.error.textContent = text ?? "";
  }
}

/** Shows `text` under `input` (and marks it invalid), or hides the line when undefined. */
function showFieldError(input: HTMLInputElement, line: HTMLElement, text: string | undefined): void {
  line.hidden = text === undefined;
  line.textContent = text ?? "";
  if (text === undefined) input.removeAttribute("aria-invalid");
  else input.setAttribute("aria-invalid", "true");
}
