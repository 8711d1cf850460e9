// Where results go, without the DOM: the OutputSetting built from the sink fields of the
// settings dialog and the watch form (suffix, output folder, or a storage connector and a path
// in its bucket), what is missing before it can be saved, and the connector pick list.

import type { Connector_Serialize as Connector, OutputMode, OutputSetting_Serialize, ProviderInfo_Serialize as ProviderInfo, StoreOptions_Serialize as StoreOptions } from "./bindings";
import { connectorOptionLabel } from "./connector-model";

/** What the sink fields hold. */
export interface SinkValues {
  mode: OutputMode;
  suffix: string;
  folder: string;
  /** The chosen connector's id ("" when none). */
  connectorId: string;
  /** The path in the bucket, as typed. */
  storePath: string;
}

/**
 * A path in a bucket as the API takes it: trimmed, without leading slashes (keys have none);
 * null when blank (the file's name at the bucket's root).
 */
export function storePath(text: string): string | null {
  const path = text.trim().replace(/^[/\\]+/, "");
  return path === "" ? null : path;
}

/**
 * The OutputSetting for `values`. In store mode the connector and path replace those of
 * `previous` (the setting as loaded); its other store options (bucket, ACL, headers… set in the
 * settings file or by the CLI) are kept while the connector stays the same.
 */
export function buildOutput(values: SinkValues, previous: StoreOptions | null | undefined = null): OutputSetting_Serialize {
  const base = { mode: values.mode, suffix: values.suffix, folder: values.folder === "" ? null : values.folder };
  if (values.mode !== "store") return base;
  const id = values.connectorId;
  const store: StoreOptions = previous && previous.id === id ? { ...previous } : {};
  store.id = id;
  delete store.path;
  const path = storePath(values.storePath);
  if (path !== null) store.path = path;
  return { ...base, store };
}

/** The connector id and path of a setting (empty when it does not upload). */
export function storeFields(output: OutputSetting_Serialize): { connectorId: string; storePath: string } {
  const store = output.store;
  return { connectorId: store?.id ?? "", storePath: store?.path ?? "" };
}

/** Why `output` cannot be saved yet, or null. */
export function outputProblem(output: OutputSetting_Serialize, connectors: readonly Connector[]): string | null {
  switch (output.mode) {
    case "folder":
      return output.folder ? null : "Choose an output folder.";
    case "suffix":
      return output.suffix ? null : "The suffix must not be empty.";
    case "store": {
      const id = output.store?.id;
      if (!id) return connectors.length ? "Choose a storage connector." : "Add a storage connector on the Connectors screen first.";
      return connectors.some((c) => c.id === id) ? null : "The chosen storage connector no longer exists: choose another.";
    }
    case "in_place":
      return null;
  }
}

export interface ConnectorChoice {
  value: string;
  label: string;
  /** A connector the setting names that is not there any more. */
  missing: boolean;
}

/** The options of a connector select: every connector, and the chosen one even when it is gone. */
export function connectorChoices(connectors: readonly Connector[], providers: readonly ProviderInfo[], selected: string): ConnectorChoice[] {
  const choices = connectors.map((c) => ({ value: c.id, label: connectorOptionLabel(c, providers), missing: false }));
  if (selected && !connectors.some((c) => c.id === selected)) {
    choices.push({ value: selected, label: "Removed connector", missing: true });
  }
  return choices;
}

/** The connector to preselect: the one chosen if any, else the first. */
export function defaultConnector(connectors: readonly Connector[], chosen: string): string {
  if (chosen) return chosen;
  return connectors[0]?.id ?? "";
}
