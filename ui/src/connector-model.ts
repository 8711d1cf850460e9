// The Connectors screen's logic, without the DOM: which fields a provider's setup form shows,
// the ConnectorSpec built from the form, refusals mapped to the form's fields, and the texts of
// the connector list and of a connection test.

import type { ConnectionTest, ConnectorFailure, Connector_Serialize as Connector, ConnectorSpec_Serialize as ConnectorSpec, ProviderInfo_Serialize as ProviderInfo } from "./bindings";

/** The setup form's fields, named as the backend names them in `FieldError.field`. */
export type FormField = "provider" | "name" | "endpoint" | "region" | "bucket" | "access_key_id" | "secret";

export const FORM_FIELDS: readonly FormField[] = ["provider", "name", "endpoint", "region", "bucket", "access_key_id", "secret"];

/** What was typed in the setup form. The secret is not here: it stays in its input element. */
export interface ConnectorForm {
  provider: string;
  name: string;
  endpoint: string;
  region: string;
  bucket: string;
  accessKeyId: string;
}

export const EMPTY_FORM: Readonly<ConnectorForm> = { provider: "", name: "", endpoint: "", region: "", bucket: "", accessKeyId: "" };

export type RegionField =
  /** A pick list; `selected` is what it should show. An empty value means "none chosen". */
  | { kind: "select"; options: string[]; selected: string; required: boolean }
  /** Any name (an S3-compatible service, a provider without a fixed list). */
  | { kind: "text"; required: boolean };

/** The fields a provider's form shows, with the provider's own words for them. */
export interface FieldPlan {
  endpoint: { label: string; required: boolean; placeholder: string } | null;
  region: RegionField | null;
  bucket: { label: string } | null;
  accessKey: { label: string } | null;
  secret: { label: string } | null;
  /** What the credentials need, shown under the fields. */
  permissions: string;
}

/** Examples for the endpoint field; the labels come from the backend. */
const ENDPOINT_PLACEHOLDERS: Partial<Record<string, string>> = {
  local: "/home/me/Uploads",
  r2: "https://<account-id>.r2.cloudflarestorage.com",
  azure: "https://<account>.blob.core.windows.net",
  s3: "https://minio.example.com:9000",
};

/** Whether a label says its field may stay empty ("Custom endpoint (optional)"). */
export function isOptionalLabel(label: string): boolean {
  return /\boptional\b/i.test(label);
}

/** A label without its "(optional)" note: "Custom endpoint (optional)" → "Custom endpoint". */
export function plainLabel(label: string): string {
  return label.replace(/\s*\(optional\)\s*/i, " ").trim();
}

/**
 * The fields `info`'s form shows. `endpoint` is what the endpoint field holds: an S3-compatible
 * service (Amazon S3 with an endpoint) takes any region name instead of AWS's list.
 */
export function fieldsFor(info: ProviderInfo, endpoint = ""): FieldPlan {
  const showEndpoint = info.needs_endpoint || isOptionalLabel(info.endpoint_label);
  const customEndpoint = endpoint.trim() !== "";
  let region: RegionField | null = null;
  if (info.regions.length > 0 && !(info.provider === "s3" && customEndpoint)) {
    region = { kind: "select", options: [...info.regions], selected: info.default_region ?? "", required: info.needs_region };
  } else if (info.needs_region) {
    region = { kind: "text", required: false };
  }
  return {
    endpoint: showEndpoint
      ? { label: info.endpoint_label, required: info.needs_endpoint, placeholder: ENDPOINT_PLACEHOLDERS[info.provider] ?? "https://" }
      : null,
    region,
    bucket: info.bucket_label ? { label: info.bucket_label } : null,
    accessKey: info.has_secret && info.access_key_label ? { label: info.access_key_label } : null,
    secret: info.has_secret ? { label: info.secret_label || "Secret" } : null,
    permissions: info.permissions,
  };
}

/** The region a select should show: the one typed or kept if it is in the list, else the default. */
export function regionToShow(field: RegionField & { kind: "select" }, current: string): string {
  return field.options.includes(current) ? current : field.selected;
}

export function providerInfo(providers: readonly ProviderInfo[], provider: string): ProviderInfo | undefined {
  return providers.find((p) => p.provider === provider);
}

const blankToNull = (text: string): string | null => {
  const trimmed = text.trim();
  return trimmed === "" ? null : trimmed;
};

/**
 * The spec to test or save: trimmed, blanks as null, and only the fields the provider shows
 * (a region typed for another provider is not sent).
 */
export function buildSpec(form: ConnectorForm, providers: readonly ProviderInfo[]): ConnectorSpec {
  const info = providerInfo(providers, form.provider);
  const plan = info ? fieldsFor(info, form.endpoint) : null;
  return {
    name: form.name.trim(),
    provider: info ? info.provider : null,
    endpoint: plan?.endpoint ? blankToNull(form.endpoint) : null,
    region: plan?.region ? blankToNull(form.region) : null,
    bucket: plan?.bucket ? blankToNull(form.bucket) : null,
    access_key_id: plan?.accessKey ? form.accessKeyId.trim() : "",
  };
}

/** The form field a backend field name is about (`store.bucket` from a connection test too). */
export function formFieldOf(field: string): FormField | null {
  const name = field.startsWith("store.") ? field.slice("store.".length) : field;
  return (FORM_FIELDS as readonly string[]).includes(name) ? (name as FormField) : null;
}

export interface FormErrors {
  /** Messages next to their fields. */
  fields: Partial<Record<FormField, string>>;
  /** Messages for the top of the form. */
  general: string[];
}

/**
 * Where a refusal's messages go: each field's next to it (several joined), anything else at the
 * top. The failure's own message only repeats the field messages when there are any, so the top
 * then just points at them.
 */
export function formErrors(failure: ConnectorFailure, shown: ReadonlySet<FormField> = new Set(FORM_FIELDS)): FormErrors {
  const fields: Partial<Record<FormField, string>> = {};
  const general: string[] = [];
  for (const error of failure.fields) {
    const field = formFieldOf(error.field);
    if (field && shown.has(field)) {
      fields[field] = fields[field] ? `${fields[field]}; ${error.message}` : error.message;
    } else {
      general.push(`${error.field}: ${error.message}`);
    }
  }
  if (failure.fields.length === 0) general.push(failure.message);
  else if (Object.keys(fields).length > 0) general.unshift("Check the marked fields.");
  else general.unshift(firstLine(failure.message));
  return { fields, general };
}

/** A refusal as lines of text (for a saved connector's test, which has no form). */
export function failureLines(failure: ConnectorFailure): string[] {
  const lines = [failure.message];
  for (const error of failure.fields) {
    const line = `${error.field}: ${error.message}`;
    if (!failure.message.includes(error.message)) lines.push(line);
  }
  return lines;
}

function firstLine(text: string): string {
  return text.split("\n")[0].replace(/:$/, "");
}

/** What a connection test that worked says, then its warnings (one per line). */
export function describeTest(test: ConnectionTest): string[] {
  // A warning (e.g. the probe could not be deleted) must not be contradicted by the headline.
  const headline = test.warnings.length === 0
    ? `Connection works: wrote and deleted ${test.probe_url}`
    : `Connection works: wrote ${test.probe_url}`;
  return [headline, ...test.warnings.map((w) => `Warning: ${w}`)];
}

/** A provider's name for people ("DigitalOcean Spaces"), or its id when it is not known. */
export function providerLabel(providers: readonly ProviderInfo[], provider: string): string {
  return providerInfo(providers, provider)?.label ?? provider;
}

/** Where a connector stores, as label/value pairs in the provider's words ("Space": "photos"). */
export function connectorDetails(connector: Connector, providers: readonly ProviderInfo[]): { label: string; value: string }[] {
  const info = providerInfo(providers, connector.provider);
  const details: { label: string; value: string }[] = [];
  if (connector.endpoint) details.push({ label: plainLabel(info?.endpoint_label || "Endpoint"), value: connector.endpoint });
  if (connector.region) details.push({ label: "Region", value: connector.region });
  if (connector.bucket) details.push({ label: plainLabel(info?.bucket_label || "Bucket"), value: connector.bucket });
  if (connector.access_key_id) details.push({ label: plainLabel(info?.access_key_label || "Access key"), value: connector.access_key_id });
  return details;
}

/** "photos (DigitalOcean Spaces)", as pick lists name a connector. */
export function connectorOptionLabel(connector: Connector, providers: readonly ProviderInfo[]): string {
  return `${connector.name} (${providerLabel(providers, connector.provider)})`;
}
