// Shared test data, typed with the generated bindings.

import type { Connector_Serialize, FileFacts_Serialize, Format, ItemStatus_Serialize, PresetInfo_Serialize, ProviderInfo_Serialize, QueuedItem, Report_Serialize, Settings_Serialize } from "../src/bindings";

/** A recognisable 64-hex-digit hash: `hash("a")` is "aaaa…", `hash("0123")` repeats "0123". */
export function hash(pattern: string): string {
  return pattern.repeat(Math.ceil(64 / pattern.length)).slice(0, 64);
}

export function facts(name: string, size: number, sha256: string, format: Format = "jpeg", width = 4000, height = 3000): FileFacts_Serialize {
  return { name, type: "image", format, mime: `image/${format}`, size, hashes: { sha256 }, width, height };
}

export function report(before: number, after: number, opts: Partial<Report_Serialize> = {}): Report_Serialize {
  return {
    status: "compressed",
    input: facts("in.jpg", before, hash("ab12")),
    output: facts("out.jpg", after, hash("cd34"), "jpeg", 1920, 1440),
    actions: ["resized 4000×3000 → 1920×1440", "mozjpeg q75 4:2:0"],
    warnings: [],
    ...opts,
  };
}

export function done(before: number, after: number, shaBefore = hash("ab12"), shaAfter = hash("cd34")): ItemStatus_Serialize {
  const r = report(before, after);
  r.input.hashes.sha256 = shaBefore;
  r.output.hashes.sha256 = shaAfter;
  return { state: "done", report: r, destination: `/out/${before}.jpg`, url: null };
}

export function skipped(size: number, reason: string): ItemStatus_Serialize {
  const input = facts("same.png", size, hash("5a5a"), "png");
  return { state: "skipped", report: { status: "skipped", reason, input, output: { ...input }, actions: [], warnings: [] }, reason, destination: null, url: null };
}

export function queued(id: number, size = 1000, name = `file-${id}.jpg`): QueuedItem {
  return { id, name, size, path: `/photos/${name}` };
}

export const PRESETS: PresetInfo_Serialize[] = [
  { name: "balanced", description: "Default: much smaller, no visible change", builtin: true, options: { image: { compression: "high" } } },
  { name: "maximum", description: "Smallest files", builtin: true, options: { image: { compression: "ultra" } } },
  { name: "web", description: "WebP, at most 1920 px wide", builtin: true, options: { image: { compression: "high", format: "webp" } } },
];

export function settings(): Settings_Serialize {
  return {
    version: 1,
    preset: "balanced",
    output: { mode: "suffix", suffix: "-min", folder: null },
    keep_dates: true,
    keep_exif: false,
    keep_icc: false,
    jobs: 0,
    engine: "local",
    watch_rules: [],
    user_presets: [],
    connectors: [],
  };
}

const AWS_REGIONS = ["us-east-1", "us-east-2", "us-west-1", "us-west-2", "eu-west-1", "eu-central-1"];

/** As list_providers answers (regions shortened), for the setup form. */
export const PROVIDERS: ProviderInfo_Serialize[] = [
  { provider: "s3", label: "Amazon S3", regions: AWS_REGIONS, default_region: null, needs_region: true, needs_endpoint: false, endpoint_label: "Endpoint for S3-compatible services (optional)", access_key_label: "Access key ID", secret_label: "Secret access key", has_secret: true, bucket_label: "Bucket", classes: ["standard", "glacier"], acls: ["private", "public-read"], headers: ["Cache-Control"], supports_tags: true, permissions: "the IAM user or role needs s3:PutObject and s3:PutObjectAcl on the bucket" },
  { provider: "r2", label: "Cloudflare R2", regions: ["auto"], default_region: "auto", needs_region: true, needs_endpoint: true, endpoint_label: "Account endpoint", access_key_label: "Access key ID", secret_label: "Secret access key", has_secret: true, bucket_label: "Bucket", classes: [], acls: [], headers: ["Cache-Control"], supports_tags: false, permissions: "the R2 API token needs Object Read & Write on this bucket" },
  { provider: "spaces", label: "DigitalOcean Spaces", regions: ["nyc3", "ams3", "sfo3"], default_region: null, needs_region: true, needs_endpoint: false, endpoint_label: "Custom endpoint (optional)", access_key_label: "Spaces access key", secret_label: "Spaces secret", has_secret: true, bucket_label: "Space", classes: [], acls: ["private", "public-read"], headers: ["Cache-Control"], supports_tags: false, permissions: "the Spaces key needs write access to this Space" },
  { provider: "azure", label: "Azure Blob Storage", regions: [], default_region: null, needs_region: false, needs_endpoint: false, endpoint_label: "Blob endpoint (optional)", access_key_label: "Storage account name", secret_label: "Account key", has_secret: true, bucket_label: "Container", classes: ["hot", "cool"], acls: [], headers: ["Cache-Control"], supports_tags: true, permissions: "the account key must belong to this storage account" },
  { provider: "local", label: "Local folder", regions: [], default_region: null, needs_region: false, needs_endpoint: true, endpoint_label: "Folder", access_key_label: "", secret_label: "", has_secret: false, bucket_label: "Sub-folder (optional)", classes: [], acls: [], headers: [], supports_tags: false, permissions: "the folder must be writable by you" },
];

export const SPACES: Connector_Serialize = { id: "c-spaces", name: "photos", provider: "spaces", region: "ams3", bucket: "my-bucket", access_key_id: "DO00EXAMPLE" };
export const LOCAL: Connector_Serialize = { id: "c-local", name: "backup", provider: "local", endpoint: "/srv/backup", access_key_id: "" };
