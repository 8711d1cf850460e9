// The Connectors screen: the storage connectors with where they store, a "Test" that writes and
// deletes a probe object, "Sync…" opening the sync panel in the row (compress what is under a
// prefix of the bucket), "Remove" (asked again first), and "Add connector" opening the setup
// dialog. Secrets never reach this screen: they stay in the system keychain.

import { commands, type ConnectionTest, type ConnectorFailure, type Connector_Serialize as Connector, type ProviderInfo_Serialize as ProviderInfo } from "./bindings";
import { ConnectorDialog } from "./connector-dialog";
import { connectorDetails, describeTest, failureLines, providerLabel } from "./connector-model";
import { h, icon, setText } from "./dom";
import { announce, errorText } from "./notice";
import { SyncPanel } from "./sync-view";

export interface ConnectorsViewHandlers {
  /** The list changed here (added or removed): the sink pick lists follow. */
  onChange(connectors: Connector[]): void;
  /** Shows an error in the app's notice bar. */
  notify(title: string, lines: string[]): void;
}

type CommandResult<T, E> = { status: "ok"; data: T } | { status: "error"; error: E };

/** One connector in the list, with its test result and the remove confirmation. */
class ConnectorRow {
  readonly el: HTMLLIElement;
  readonly syncButton: HTMLButtonElement;
  private readonly testButton: HTMLButtonElement;
  private readonly removeButton: HTMLButtonElement;
  private readonly confirm: HTMLElement;
  private readonly confirmButton: HTMLButtonElement;
  private readonly keepButton: HTMLButtonElement;
  private readonly result: HTMLElement;
  private testing = false;

  constructor(
    readonly connector: Connector,
    providers: readonly ProviderInfo[],
    private readonly onRemove: (row: ConnectorRow) => Promise<string | null>,
    onSync: (row: ConnectorRow) => void,
  ) {
    const c = connector;
    const hasSecret = providers.find((p) => p.provider === c.provider)?.has_secret ?? c.provider !== "local";
    const titleId = `connector-${c.id}-name`;
    this.testButton = h("button", { type: "button", class: "small connector-test", "data-testid": "connector-row-test", "aria-label": `Test ${c.name}` }, "Test");
    this.syncButton = h("button", { type: "button", class: "small connector-sync", "data-testid": "connector-row-sync", "aria-label": `Sync ${c.name}`, "aria-expanded": "false", "aria-controls": "sync-panel" }, "Sync\u2026");
    this.removeButton = h("button", { type: "button", class: "small danger connector-remove", "data-testid": "connector-row-remove", "aria-label": `Remove ${c.name}` }, "Remove");
    this.confirmButton = h("button", { type: "button", class: "small danger connector-remove-confirm", "data-testid": "connector-remove-confirm" }, "Remove");
    this.keepButton = h("button", { type: "button", class: "small connector-remove-cancel", "data-testid": "connector-remove-cancel" }, "Keep");
    this.confirm = h("div", { class: "connector-confirm", role: "group", "aria-label": `Remove ${c.name}?`, hidden: true },
      h("span", {}, `Remove ${c.name}? ${hasSecret ? "Its secret is deleted from the keychain; uploaded files stay." : "Uploaded files stay."}`),
      this.keepButton,
      this.confirmButton,
    );
    this.result = h("div", { class: "connector-result", role: "status", "aria-live": "polite", "data-testid": "connector-result", hidden: true });
    const details = connectorDetails(c, providers);
    this.el = h("li", { class: "connector", "data-testid": "connector", "data-connector-id": c.id, "data-provider": c.provider, "aria-labelledby": titleId },
      h("div", { class: "connector-head" },
        h("span", { class: "connector-icon", "aria-hidden": "true" }, icon(c.provider === "local" ? "folder" : "cloud")),
        h("div", { class: "connector-title" },
          h("span", { class: "connector-name", id: titleId }, c.name),
          h("span", { class: "connector-provider", "data-testid": "connector-provider-label" }, providerLabel(providers, c.provider)),
        ),
        h("div", { class: "connector-actions" }, this.testButton, this.syncButton, this.removeButton),
      ),
      details.length
        ? h("dl", { class: "connector-details" }, ...details.flatMap((d) => [h("dt", {}, d.label), h("dd", { title: d.value }, d.value)]))
        : null,
      this.confirm,
      this.result,
    );

    this.testButton.addEventListener("click", () => void this.test());
    this.syncButton.addEventListener("click", () => onSync(this));
    this.removeButton.addEventListener("click", () => this.askRemove(true));
    this.keepButton.addEventListener("click", () => this.askRemove(false));
    this.confirmButton.addEventListener("click", () => void this.remove());
  }

  /** Writes and deletes a probe object in the connector's bucket; shows what happened. */
  async test(): Promise<void> {
    if (this.testing) return;
    this.testing = true;
    this.testButton.disabled = true;
    this.el.setAttribute("aria-busy", "true");
    this.show("running", ["Testing…"]);
    let result: CommandResult<ConnectionTest, ConnectorFailure>;
    try {
      result = await commands.testConnector(this.connector.id, null);
    } catch (err) {
      result = { status: "error", error: { message: errorText(err), fields: [] } };
    }
    this.testing = false;
    this.testButton.disabled = false;
    this.el.setAttribute("aria-busy", "false");
    const lines = result.status === "ok" ? describeTest(result.data) : failureLines(result.error);
    this.show(result.status === "ok" ? "ok" : "error", lines);
    announce(`${this.connector.name}: ${lines[0]}`);
  }

  focus(): void {
    this.testButton.focus();
  }

  private askRemove(ask: boolean): void {
    this.confirm.hidden = !ask;
    this.removeButton.hidden = ask;
    (ask ? this.keepButton : this.removeButton).focus();
  }

  private async remove(): Promise<void> {
    this.confirmButton.disabled = true;
    this.el.setAttribute("aria-busy", "true");
    const error = await this.onRemove(this);
    if (error === null) return;
    this.el.setAttribute("aria-busy", "false");
    this.confirmButton.disabled = false;
    this.askRemove(false);
    this.show("error", [error]);
  }

  private show(state: "running" | "ok" | "error", lines: string[]): void {
    this.result.dataset.state = state;
    this.result.replaceChildren(...lines.map((line, i) => h("p", { class: i === 0 ? "result-head" : "result-line" }, line)));
    this.result.hidden = false;
  }
}

export class ConnectorsView {
  readonly el: HTMLElement;
  /** The setup dialog; the app puts it at the top level, beside the other dialogs. */
  readonly dialog: ConnectorDialog;
  private readonly addButton: HTMLButtonElement;
  private readonly list: HTMLUListElement;
  private readonly empty: HTMLElement;
  private readonly count: HTMLElement;
  /** The sync panel, shown in one row at a time. */
  readonly sync = new SyncPanel();
  private connectors: Connector[] = [];
  private providers: ProviderInfo[] = [];
  private rows = new Map<string, ConnectorRow>();
  private loaded = false;

  constructor(private readonly handlers: ConnectorsViewHandlers) {
    this.addButton = h("button", { type: "button", class: "primary", id: "add-connector", "data-testid": "add-connector" }, icon("plus"), "Add connector…");
    this.count = h("span", { class: "card-count" });
    this.empty = h("div", { class: "connectors-empty", "data-testid": "connectors-empty", hidden: true },
      h("p", {}, "No storage connectors yet."),
      h("p", {},
        "A connector is a storage account: Amazon S3 or an S3-compatible service, Cloudflare R2, DigitalOcean Spaces, ",
        "Backblaze B2, Google Cloud Storage, Azure Blob Storage, or a folder on this computer. Add one, then choose ",
        "\u201cUpload to a storage connector\u201d in Settings or for a watched folder: results go straight into its bucket."),
      h("p", {}, "Secrets stay in the system keychain; Compressor's settings file only names the account."),
    );
    this.list = h("ul", { class: "connector-list", id: "connector-list", "data-testid": "connector-list", "aria-labelledby": "connectors-title" });
    this.dialog = new ConnectorDialog({
      onAdded: (connector) => void this.added(connector),
      restoreFocus: () => {
        this.addButton.focus();
        return true;
      },
    });
    this.el = h("section", { class: "connectors-view", "data-testid": "connectors-view" },
      h("section", { class: "card connectors-card", "aria-labelledby": "connectors-title" },
        h("div", { class: "connectors-head" },
          h("h2", { class: "card-title", id: "connectors-title" }, "Storage connectors", this.count),
          this.addButton,
        ),
        h("p", { class: "hint connectors-intro" }, "Where uploaded results go. Secrets are kept in the system keychain only."),
        this.empty,
        this.list,
      ),
    );
    this.addButton.addEventListener("click", () => this.dialog.open(this.providers));
  }

  /** The providers the setup dialog offers (from list_providers). */
  setProviders(providers: readonly ProviderInfo[]): void {
    this.providers = [...providers];
    this.render(true);
  }

  /** The preset a sync uses: the one chosen in the app bar. */
  setCurrentPreset(name: string): void {
    this.sync.setPreset(name);
  }

  /** The connectors as the app knows them (e.g. loaded at start). */
  setConnectors(connectors: readonly Connector[]): void {
    this.connectors = [...connectors];
    this.loaded = true;
    this.render(false);
  }

  /** Loads the list again and shows it. */
  async show(): Promise<void> {
    this.render(false);
    await this.refresh();
  }

  /** Loads the list again (the CLI may have changed it); the sink pick lists follow. */
  async refresh(): Promise<void> {
    try {
      const connectors = (await commands.listConnectors()) ?? [];
      this.setConnectors(connectors);
      this.handlers.onChange(this.connectors);
    } catch (err) {
      this.handlers.notify("The connectors could not be loaded", [errorText(err)]);
    }
  }

  private async added(connector: Connector): Promise<void> {
    announce(`Connector ${connector.name} added`);
    if (!this.connectors.some((c) => c.id === connector.id)) this.connectors = [...this.connectors, connector];
    this.render(false);
    this.handlers.onChange(this.connectors);
    // The backend's list is the truth (it may hold connectors added by the CLI meanwhile).
    await this.refresh();
    this.rows.get(connector.id)?.focus();
  }

  /** Opens the sync panel in a row, or closes it when it is open there. */
  private toggleSync(row: ConnectorRow): void {
    const open = this.sync.connectorId;
    if (open === row.connector.id) {
      this.sync.close();
      return;
    }
    // One sync at a time: the panel stays where it runs.
    if (open !== null && this.sync.busy) {
      announce("A sync is running; wait for it to finish");
      return;
    }
    if (open !== null) this.sync.close();
    this.sync.open(row.connector, this.providers, row.el, (hadFocus) => {
      const current = this.rows.get(row.connector.id);
      current?.syncButton.setAttribute("aria-expanded", "false");
      if (hadFocus) current?.syncButton.focus();
    });
    row.syncButton.setAttribute("aria-expanded", "true");
  }

  /** Removes a row's connector; the error text, or null when it is gone. */
  private async remove(row: ConnectorRow): Promise<string | null> {
    const index = this.connectors.findIndex((c) => c.id === row.connector.id);
    let result: CommandResult<Connector[], string>;
    try {
      result = await commands.removeConnector(row.connector.id);
    } catch (err) {
      result = { status: "error", error: errorText(err) };
    }
    if (result.status === "error") return result.error;
    announce(`Connector ${row.connector.name} removed`);
    this.setConnectors(result.data);
    this.handlers.onChange(this.connectors);
    const next = this.connectors[Math.min(Math.max(index, 0), this.connectors.length - 1)];
    if (next) this.rows.get(next.id)?.focus();
    else this.addButton.focus();
    return null;
  }

  /** Draws the list; rows are kept (with their test results) unless `all`. */
  private render(all: boolean): void {
    if (all) this.rows.clear();
    const seen = new Set<string>();
    const rows = this.connectors.map((c) => {
      seen.add(c.id);
      let row = this.rows.get(c.id);
      if (!row || JSON.stringify(row.connector) !== JSON.stringify(c)) {
        row = new ConnectorRow(c, this.providers, (r) => this.remove(r), (r) => this.toggleSync(r));
        this.rows.set(c.id, row);
      }
      return row;
    });
    for (const id of this.rows.keys()) if (!seen.has(id)) this.rows.delete(id);
    // The sync panel follows its row when the row is drawn again, and goes with its connector.
    const syncing = this.sync.connectorId;
    if (syncing !== null) {
      const row = this.rows.get(syncing);
      if (row) {
        this.sync.attach(row.connector, row.el);
        row.syncButton.setAttribute("aria-expanded", "true");
      } else {
        this.sync.forget();
      }
    }
    // Rows in place stay (moving one would lose its focus).
    rows.forEach((row, i) => {
      if (this.list.children[i] !== row.el) this.list.insertBefore(row.el, this.list.children[i] ?? null);
    });
    while (this.list.children.length > rows.length) this.list.lastElementChild!.remove();
    this.empty.hidden = !this.loaded || this.connectors.length > 0;
    this.list.hidden = this.connectors.length === 0;
    setText(this.count, this.connectors.length ? String(this.connectors.length) : "");
  }
}
