// A connector's sync panel, shown inside its row on the Connectors screen: the objects under a
// prefix of its bucket are compressed with the chosen preset, into another prefix or beside
// them with a suffix. Only new or changed objects are compressed (the backend remembers what
// it synced); the panel then says what happened to each object.

import { commands, type Connector_Serialize as Connector, type ProviderInfo_Serialize as ProviderInfo, type SyncOutcome_Serialize as SyncOutcome } from "./bindings";
import { plainLabel, providerInfo } from "./connector-model";
import { h, setText } from "./dom";
import { announce, errorText } from "./notice";
import { buildSyncRequest, DEFAULT_SUFFIX, describeSync, outcomeLine, type SyncForm, type SyncStatusName, syncFormError } from "./sync-model";

type CommandResult<T, E> = { status: "ok"; data: T } | { status: "error"; error: E };

const BADGE: Record<SyncStatusName, string> = {
  compressed: "badge badge-done",
  skipped: "badge badge-skipped",
  unchanged: "badge",
  failed: "badge badge-failed",
};

/** One labelled input with an optional hint. */
function field(id: string, label: string, input: HTMLInputElement, hint?: string): HTMLElement {
  const hintEl = hint ? h("p", { class: "hint", id: `${id}-hint` }, hint) : null;
  if (hintEl) input.setAttribute("aria-describedby", hintEl.id);
  return h("div", { class: "form-field", "data-field": id }, h("label", { for: id }, label), input, hintEl);
}

export class SyncPanel {
  readonly el: HTMLElement;
  private readonly title: HTMLElement;
  private readonly prefix: HTMLInputElement;
  private readonly destination: HTMLInputElement;
  private readonly suffix: HTMLInputElement;
  private readonly suffixField: HTMLElement;
  private readonly bucket: HTMLInputElement;
  private readonly bucketLabel: HTMLLabelElement;
  private readonly presetName: HTMLElement;
  private readonly runButton: HTMLButtonElement;
  private readonly closeButton: HTMLButtonElement;
  private readonly error: HTMLElement;
  private readonly summary: HTMLElement;
  private readonly results: HTMLUListElement;
  private current: Connector | null = null;
  private preset = "";
  private running = false;
  /** Called when the panel closes (`hadFocus`: focus was in it), to give focus back to the row. */
  private onClose: ((hadFocus: boolean) => void) | null = null;

  constructor() {
    this.title = h("h3", { class: "sync-title", id: "sync-title" }, "Sync");
    this.prefix = h("input", { type: "text", id: "sync-prefix", "data-testid": "sync-prefix", placeholder: "uploads/", autocomplete: "off", spellcheck: "false" });
    this.destination = h("input", { type: "text", id: "sync-destination", "data-testid": "sync-destination", placeholder: "optimized/", autocomplete: "off", spellcheck: "false" });
    this.suffix = h("input", { type: "text", id: "sync-suffix", "data-testid": "sync-suffix", value: DEFAULT_SUFFIX, placeholder: DEFAULT_SUFFIX, autocomplete: "off", spellcheck: "false" });
    this.bucket = h("input", { type: "text", id: "sync-bucket", "data-testid": "sync-bucket", autocomplete: "off", spellcheck: "false" });
    this.suffixField = field("sync-suffix", "Suffix", this.suffix, "Used when results go beside each object: photo.jpg \u2192 photo-min.jpg.");
    const bucketField = field("sync-bucket", "Bucket (optional)", this.bucket, "Empty: the connector's own.");
    this.bucketLabel = bucketField.querySelector("label")!;
    this.presetName = h("strong", { class: "sync-preset-name", "data-testid": "sync-preset" });
    this.runButton = h("button", { type: "submit", class: "primary small", id: "sync-run", "data-testid": "sync-run" }, "Sync now");
    this.closeButton = h("button", { type: "button", class: "small", id: "sync-close", "data-testid": "sync-close" }, "Close");
    this.error = h("div", { class: "connector-result sync-error", role: "alert", "data-state": "error", "data-testid": "sync-error", hidden: true });
    this.summary = h("p", { class: "sync-summary", role: "status", "aria-live": "polite", "data-testid": "sync-summary", hidden: true });
    this.results = h("ul", { class: "sync-results", "data-testid": "sync-results", "aria-label": "Synced objects", hidden: true });

    const form = h("form", { class: "sync-form", novalidate: true },
      h("div", { class: "sync-fields" },
        field("sync-prefix", "Prefix to read", this.prefix, "Empty: the whole bucket."),
        field("sync-destination", "Results under prefix", this.destination, "Empty: beside each object, with the suffix."),
        this.suffixField,
        bucketField,
      ),
      h("div", { class: "sync-actions" },
        h("span", { class: "sync-preset" }, "Preset: ", this.presetName),
        this.closeButton,
        this.runButton,
      ),
    );
    this.el = h("section", { class: "sync-panel", id: "sync-panel", "data-testid": "sync-panel", "aria-labelledby": "sync-title", hidden: true },
      this.title,
      form,
      this.error,
      this.summary,
      this.results,
      h("p", { class: "hint sync-note" },
        "Only new or changed objects are compressed; ",
        h("code", {}, "compressor sync --every 24h"),
        " runs this on a schedule."),
    );

    form.addEventListener("submit", (e) => {
      e.preventDefault();
      void this.run();
    });
    this.destination.addEventListener("input", () => this.showSuffix());
    this.closeButton.addEventListener("click", () => this.close());
    this.el.addEventListener("keydown", (e) => {
      if (e.key === "Escape" && !this.running) {
        e.preventDefault();
        this.close();
      }
    });
  }

  /** The connector whose panel this is, while it is open. */
  get connectorId(): string | null {
    return this.el.hidden ? null : (this.current?.id ?? null);
  }

  get busy(): boolean {
    return this.running;
  }

  /** The preset new syncs use (the one chosen in the app bar). */
  setPreset(name: string): void {
    this.preset = name;
    setText(this.presetName, name || "none chosen");
  }

  /**
   * Shows the panel for `connector` at the end of `host`. Another connector's panel starts
   * empty; the same connector's keeps what was typed and shown.
   */
  open(connector: Connector, providers: readonly ProviderInfo[], host: HTMLElement, onClose: (hadFocus: boolean) => void): void {
    if (this.current?.id !== connector.id) {
      this.prefix.value = "";
      this.destination.value = "";
      this.suffix.value = DEFAULT_SUFFIX;
      this.bucket.value = "";
      this.clearResults();
    }
    this.current = connector;
    this.onClose = onClose;
    setText(this.title, `Sync ${connector.name}`);
    const label = providerInfo(providers, connector.provider)?.bucket_label;
    setText(this.bucketLabel, `${plainLabel(label || "Bucket")} (optional)`);
    this.bucket.placeholder = connector.bucket ?? "";
    this.setPreset(this.preset);
    this.showSuffix();
    if (this.el.parentElement !== host) host.appendChild(this.el);
    this.el.hidden = false;
    this.prefix.focus();
  }

  /** Keeps the panel in `host` (its row was drawn again, maybe with a changed connector). */
  attach(connector: Connector, host: HTMLElement): void {
    this.current = connector;
    if (this.el.parentElement !== host) host.appendChild(this.el);
  }

  close(): void {
    if (this.running || this.el.hidden) return;
    const hadFocus = this.el.contains(document.activeElement);
    this.el.hidden = true;
    const onClose = this.onClose;
    this.onClose = null;
    onClose?.(hadFocus);
  }

  /** Closes the panel when its connector is gone, whatever it was doing. */
  forget(): void {
    this.el.hidden = true;
    this.el.remove();
    this.current = null;
    this.onClose = null;
  }

  private form(): SyncForm {
    return { prefix: this.prefix.value, destination: this.destination.value, suffix: this.suffix.value, bucket: this.bucket.value };
  }

  /** The suffix only matters when results go beside the objects. */
  private showSuffix(): void {
    const beside = this.destination.value.trim() === "";
    this.suffix.disabled = !beside;
    this.suffixField.classList.toggle("inactive", !beside);
  }

  private clearResults(): void {
    this.error.hidden = true;
    this.error.replaceChildren();
    this.summary.hidden = true;
    setText(this.summary, "");
    this.results.hidden = true;
    this.results.replaceChildren();
  }

  private showError(message: string): void {
    this.error.replaceChildren(...message.split("\n").map((line, i) => h("p", { class: i === 0 ? "result-head" : "result-line" }, line)));
    this.error.hidden = false;
  }

  /** Runs the sync and shows what it did to each object. */
  async run(): Promise<void> {
    const connector = this.current;
    if (this.running || !connector) return;
    this.clearResults();
    const form = this.form();
    const problem = syncFormError(form);
    if (problem) {
      this.showError(problem);
      return;
    }
    if (!this.preset) {
      this.showError("Choose a preset in the app bar first.");
      return;
    }
    this.running = true;
    this.runButton.disabled = true;
    this.closeButton.disabled = true;
    setText(this.runButton, "Syncing\u2026");
    this.el.setAttribute("aria-busy", "true");
    let result: CommandResult<SyncOutcome[], string>;
    try {
      result = await commands.syncBucket(buildSyncRequest(connector.id, form, this.preset));
    } catch (err) {
      result = { status: "error", error: errorText(err) };
    }
    this.running = false;
    this.runButton.disabled = false;
    this.closeButton.disabled = false;
    setText(this.runButton, "Sync now");
    this.el.setAttribute("aria-busy", "false");
    if (result.status === "error") {
      this.showError(result.error);
      announce(`${connector.name}: the sync failed`);
      return;
    }
    const text = describeSync(result.data, form.prefix);
    setText(this.summary, text);
    this.summary.hidden = false;
    this.results.replaceChildren(...result.data.map((outcome) => this.resultItem(outcome)));
    this.results.hidden = result.data.length === 0;
    announce(`${connector.name}: ${text}`);
  }

  private resultItem(outcome: SyncOutcome): HTMLLIElement {
    const line = outcomeLine(outcome);
    return h("li", {
      class: "sync-result",
      "data-testid": "sync-result",
      "data-status": line.status,
      "data-key": line.key,
      "data-bytes-before": outcome.size_before,
      "data-bytes-after": outcome.size_after ?? null,
      "data-url": line.url,
    },
      h("span", { class: BADGE[line.status] ?? "badge" }, line.label),
      h("span", { class: "sync-key", title: line.key }, line.key),
      line.sizes ? h("span", { class: "sync-sizes" }, line.sizes) : null,
      line.url ? h("span", { class: "sync-url result-url", "data-testid": "sync-url", title: line.url }, line.url) : null,
      line.note ? h("span", { class: "sync-message" }, line.note) : null,
    );
  }
}
