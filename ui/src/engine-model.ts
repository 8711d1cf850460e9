// Where compression runs, without the DOM: this computer, or a Compressor API server
// (`compressor serve`, or the hosted API) whose key is kept in the system keychain. What the
// settings dialog's "Compress on" fields must hold before saving, the engine fields of Settings
// they give, and the header's badge in remote mode.

import type { EngineMode, Settings_Serialize } from "./bindings";

/** What the "Compress on" fields hold. */
export interface EngineValues {
  engine: EngineMode;
  /** The server's URL, as typed. */
  url: string;
  /** The API key, as typed ("" when none). */
  key: string;
  /** Whether the keychain already holds a key for this server. */
  keySaved: boolean;
}

/** Why each field cannot be saved yet; empty when they can. */
export interface EngineProblems {
  url?: string;
  key?: string;
}

/** A server's URL as stored and as the keychain knows it: trimmed, without trailing slashes. */
export function serverUrl(text: string): string {
  return text.trim().replace(/\/+$/, "");
}

/** Whether `url` is one the backend accepts: http:// or https:// (as typed: lower case) and a host. */
export function isServerUrl(url: string): boolean {
  return /^https?:\/\/[^/\s]/.test(url);
}

/** What is missing or wrong before the fields can be saved (nothing in local mode). */
export function engineProblems(values: EngineValues): EngineProblems {
  if (values.engine !== "remote") return {};
  const problems: EngineProblems = {};
  const url = serverUrl(values.url);
  if (url === "") problems.url = "Enter the server's URL, e.g. http://127.0.0.1:8080.";
  else if (!isServerUrl(url)) problems.url = "The URL must start with http:// or https://.";
  if (values.key.trim() === "" && !values.keySaved) problems.key = "Enter the server's API key.";
  return problems;
}

/** Whether `problems` holds nothing. */
export function noProblems(problems: EngineProblems): boolean {
  return problems.url === undefined && problems.key === undefined;
}

/**
 * The engine fields of Settings for `values`. Back on this computer, the server saved before
 * (if any) is kept, so that choosing the server again finds it filled in.
 */
export function engineFields(values: EngineValues, previous: Pick<Settings_Serialize, "remote_url">): Pick<Settings_Serialize, "engine" | "remote_url"> {
  if (values.engine === "remote") return { engine: "remote", remote_url: serverUrl(values.url) };
  return previous.remote_url ? { engine: "local", remote_url: previous.remote_url } : { engine: "local" };
}

/** The host (and port) of a server's URL, or the URL itself when it cannot be parsed. */
export function serverHost(url: string): string {
  try {
    return new URL(url).host || url;
  } catch {
    return url;
  }
}

/** The header's badge: "Remote: <host>" when compressing on a server, else null. */
export function engineBadge(settings: Pick<Settings_Serialize, "engine" | "remote_url">): string | null {
  if (settings.engine !== "remote") return null;
  return settings.remote_url ? `Remote: ${serverHost(settings.remote_url)}` : "Remote";
}
