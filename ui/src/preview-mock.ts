// Design preview only (ui/preview.html, never part of the production build): stands in for the
// Rust backend with mockIPC, "drops" a folder of ~30 files, and plays status updates in all states.
// Query options: ?compare=1 opens the compare view (&zoom=1 at 100 %), ?settings=1 the settings
// dialog (&presets=1 scrolls to its presets section), ?empty=1 leaves the list empty, ?drag=1 shows the drop highlight, ?count=N adds N files.
// ?watch=1 opens the Watch folders screen (three mocked rules, a log, a new line every two seconds;
// &nowatch=1 starts with no rules, &still=1 without the new lines).
// ?connectors=1 opens the Connectors screen (&noconnectors=1 with none, &add=1 with the setup
// dialog open); ?store=1 shows results uploaded through a connector (URLs instead of files).
// In the setup dialog, a name containing "fail" makes the connection test fail, a secret "bad"
// is refused by the mocked service. A connector's "Sync…" compresses four made-up objects under
// the prefix (one fails) the first time, and reports them unchanged when run again the same
// way; a prefix containing "fail" makes the whole sync fail. (&sync=1 opens the first row's panel,
// &run=1 also runs it from uploads/ into optimized/.)
// ?remote=1 starts in remote mode (compressing on https://compress.example.com, whose key is
// "in the keychain"); in the settings dialog an API key containing "fail" is refused by the
// mocked keychain.

import { emit } from "@tauri-apps/api/event";
import { mockIPC, mockWindows } from "@tauri-apps/api/mocks";
import type { Activity, AddResult, ConnectionTest, Connector_Serialize, ConnectorFailure, ConnectorSpec_Serialize, FieldError, FileFacts_Serialize, Format, ItemUpdate_Serialize, PresetInfo_Serialize, ProviderInfo_Serialize, QueuedItem, Report_Serialize, RuleCounts, RuleStatus_Serialize, Settings_Serialize, SyncOutcome_Serialize as SyncOutcome, SyncRequest_Serialize as SyncRequest, WatchOverview_Serialize, WatchRuleSetting_Serialize } from "./bindings";

const params = new URLSearchParams(location.search);

// ---- deterministic fake data ----

let seed = 20240611;
function random(): number {
  seed = (seed * 1664525 + 1013904223) >>> 0;
  return seed / 2 ** 32;
}
function sha(): string {
  let out = "";
  for (let i = 0; i < 64; i++) out += Math.floor(random() * 16).toString(16);
  return out;
}

const MIME: Partial<Record<Format, string>> = {
  jpeg: "image/jpeg", png: "image/png", gif: "image/gif", webp: "image/webp",
  avif: "image/avif", tiff: "image/tiff", bmp: "image/bmp", heic: "image/heic",
};

function facts(name: string, format: Format, size: number, width: number, height: number): FileFacts_Serialize {
  return { name, type: "image", format, mime: MIME[format] ?? "application/octet-stream", size, hashes: { sha256: sha() }, width, height };
}

type Plan =
  | { state: "done"; out: Format; ratio: number; dims?: [number, number]; actions: string[]; warnings?: string[] }
  | { state: "skipped"; reason: string }
  | { state: "failed"; reason: string }
  | { state: "queued" | "running" | "cancelled" };

interface Fixture { dir: string; name: string; format: Format; size: number; dims: [number, number]; plan: Plan }

const TRIP = "/home/alex/Pictures/Trip to Lisbon 2024";
const SITE = "/home/alex/Projects/website/assets/img";
const SCANS = "/home/alex/Documents/Scans";

const FIXTURES: Fixture[] = [
  { dir: TRIP, name: "IMG_4821.jpg", format: "jpeg", size: 4_812_331, dims: [4032, 3024], plan: { state: "done", out: "jpeg", ratio: 0.38, actions: ["mozjpeg q75 4:2:0", "progressive", "stripped EXIF (18.4 kB)"] } },
  { dir: TRIP, name: "IMG_4822.jpg", format: "jpeg", size: 5_120_774, dims: [4032, 3024], plan: { state: "done", out: "jpeg", ratio: 0.36, actions: ["mozjpeg q75 4:2:0", "progressive", "stripped EXIF (18.1 kB)"] } },
  { dir: TRIP, name: "IMG_4823.jpg", format: "jpeg", size: 3_987_002, dims: [4032, 3024], plan: { state: "done", out: "jpeg", ratio: 0.41, actions: ["mozjpeg q75 4:2:0", "progressive"], warnings: ["Display P3 profile converted to sRGB"] } },
  { dir: TRIP, name: "tram-28-alfama.jpg", format: "jpeg", size: 2_204_118, dims: [1200, 800], plan: { state: "done", out: "jpeg", ratio: 0.29, actions: ["mozjpeg q75 4:2:0", "progressive", "stripped EXIF (12.0 kB)"] } },
  { dir: TRIP, name: "panorama-belem.jpg", format: "jpeg", size: 11_840_551, dims: [9120, 2400], plan: { state: "done", out: "jpeg", ratio: 0.33, actions: ["mozjpeg q75 4:2:0", "progressive"] } },
  { dir: TRIP, name: "IMG_4830.HEIC", format: "heic", size: 2_611_907, dims: [4032, 3024], plan: { state: "failed", reason: "the HEIC data is damaged: Unexpected end of file" } },
  { dir: TRIP, name: "IMG_4831.jpg", format: "jpeg", size: 4_402_116, dims: [4032, 3024], plan: { state: "running" } },
  { dir: TRIP, name: "IMG_4832.jpg", format: "jpeg", size: 4_977_540, dims: [4032, 3024], plan: { state: "running" } },
  { dir: TRIP, name: "IMG_4833.jpg", format: "jpeg", size: 4_651_093, dims: [4032, 3024], plan: { state: "queued" } },
  { dir: TRIP, name: "IMG_4834.jpg", format: "jpeg", size: 5_380_221, dims: [4032, 3024], plan: { state: "queued" } },
  { dir: TRIP, name: "IMG_4835.jpg", format: "jpeg", size: 3_716_655, dims: [4032, 3024], plan: { state: "queued" } },
  { dir: TRIP, name: "IMG_4836.jpg", format: "jpeg", size: 4_090_388, dims: [4032, 3024], plan: { state: "queued" } },
  { dir: TRIP, name: "sunset-timelapse.gif", format: "gif", size: 8_733_410, dims: [640, 360], plan: { state: "done", out: "gif", ratio: 0.82, actions: ["gifsicle -O3", "lossy 30"] } },
  { dir: TRIP, name: "azulejos-detail.png", format: "png", size: 6_482_995, dims: [2400, 1600], plan: { state: "done", out: "png", ratio: 0.58, actions: ["quantised to 256 colours (libimagequant)", "oxipng -o2"] } },
  { dir: SITE, name: "hero@2x.png", format: "png", size: 1_934_772, dims: [2880, 1200], plan: { state: "done", out: "webp", ratio: 0.14, dims: [1920, 800], actions: ["resized 2880×1200 → 1920×800", "webp q80"] } },
  { dir: SITE, name: "logo.png", format: "png", size: 18_204, dims: [512, 512], plan: { state: "skipped", reason: "already optimal: the result was not smaller" } },
  { dir: SITE, name: "favicon-32.png", format: "png", size: 1_102, dims: [32, 32], plan: { state: "skipped", reason: "already optimal: the result was not smaller" } },
  { dir: SITE, name: "team-photo.jpg", format: "jpeg", size: 2_940_117, dims: [3000, 2000], plan: { state: "done", out: "webp", ratio: 0.18, dims: [1920, 1280], actions: ["resized 3000×2000 → 1920×1280", "webp q80"] } },
  { dir: SITE, name: "pattern.webp", format: "webp", size: 84_310, dims: [800, 800], plan: { state: "done", out: "webp", ratio: 0.71, actions: ["webp q80"] } },
  { dir: SITE, name: "spinner.gif", format: "gif", size: 40_221, dims: [64, 64], plan: { state: "skipped", reason: "animation kept as is: re-encoding was larger" } },
  { dir: SITE, name: "product-shot.avif", format: "avif", size: 312_870, dims: [1600, 1600], plan: { state: "done", out: "avif", ratio: 0.77, actions: ["rav1e speed 6 q70"] } },
  { dir: SITE, name: "og-image.jpg", format: "jpeg", size: 402_551, dims: [1200, 630], plan: { state: "cancelled" } },
  { dir: SITE, name: "background.bmp", format: "bmp", size: 5_760_054, dims: [1600, 1200], plan: { state: "done", out: "png", ratio: 0.09, actions: ["BMP → PNG", "oxipng -o2"] } },
  { dir: SCANS, name: "contract-page-1.tiff", format: "tiff", size: 24_883_410, dims: [2480, 3508], plan: { state: "done", out: "png", ratio: 0.21, actions: ["TIFF → PNG", "grayscale 8-bit", "oxipng -o2"] } },
  { dir: SCANS, name: "contract-page-2.tiff", format: "tiff", size: 24_901_222, dims: [2480, 3508], plan: { state: "done", out: "png", ratio: 0.22, actions: ["TIFF → PNG", "grayscale 8-bit", "oxipng -o2"] } },
  { dir: SCANS, name: "receipt.jpg", format: "jpeg", size: 1_230_449, dims: [1700, 2800], plan: { state: "failed", reason: "truncated JPEG: unexpected end of data at byte 1,048,576" } },
  { dir: SCANS, name: "passport.png", format: "png", size: 3_004_812, dims: [2000, 1400], plan: { state: "failed", reason: "permission denied (os error 13)" } },
  { dir: SCANS, name: "invoice-march.png", format: "png", size: 912_348, dims: [1654, 2339], plan: { state: "cancelled" } },
  { dir: SCANS, name: "id-card-back.jpg", format: "jpeg", size: 688_190, dims: [1500, 950], plan: { state: "queued" } },
  { dir: SCANS, name: "id-card-front.jpg", format: "jpeg", size: 702_455, dims: [1500, 950], plan: { state: "queued" } },
];

// ?count=10000 repeats the fixtures to try the table with many rows.
const COUNT = Math.max(FIXTURES.length, Number(params.get("count")) || 0);
while (FIXTURES.length < COUNT) {
  const f = FIXTURES[FIXTURES.length % 30];
  FIXTURES.push({ ...f, name: f.name.replace(/(\.[^.]+)$/, `-${FIXTURES.length}$1`) });
}

const STORE_URL = "https://alex-photos.ams3.digitaloceanspaces.com/assets/";

const items: QueuedItem[] = FIXTURES.map((f, id) => ({ id, path: `${f.dir}/${f.name}`, name: f.name, size: f.size }));

function statusOf(f: Fixture): ItemUpdate_Serialize["status"] {
  const p = f.plan;
  const ext: Partial<Record<Format, string>> = { jpeg: "jpg", png: "png", gif: "gif", webp: "webp", avif: "avif", tiff: "tiff", bmp: "bmp", heic: "heic" };
  if (p.state === "done") {
    const outName = f.name.replace(/\.[^.]+$/, `-min.${ext[p.out]}`);
    const [w, h] = p.dims ?? f.dims;
    const report: Report_Serialize = {
      status: "compressed",
      input: facts(f.name, f.format, f.size, ...f.dims),
      output: facts(outName, p.out, Math.round(f.size * p.ratio), w, h),
      actions: p.actions,
      warnings: p.warnings ?? [],
    };
    if (params.has("store")) return { state: "done", report, destination: null, url: `${STORE_URL}${encodeURIComponent(outName)}` };
    return { state: "done", report, destination: `${f.dir}/${outName}`, url: null };
  }
  if (p.state === "skipped") {
    const input = facts(f.name, f.format, f.size, ...f.dims);
    const report: Report_Serialize = { status: "skipped", reason: p.reason, input, output: { ...input }, actions: [], warnings: [] };
    return { state: "skipped", report, reason: p.reason, destination: null, url: params.has("store") ? `${STORE_URL}${encodeURIComponent(f.name)}` : null };
  }
  if (p.state === "failed") return { state: "failed", reason: p.reason };
  return { state: p.state };
}

const finalStatus = FIXTURES.map(statusOf);

const presets: PresetInfo_Serialize[] = [
  { name: "balanced", description: "Default: much smaller, no visible change (compression 'high')", builtin: true, options: { image: { compression: "high" } } },
  { name: "maximum", description: "Smallest files; fine detail may soften (compression 'ultra')", builtin: true, options: { image: { compression: "ultra" } } },
  { name: "lossless", description: "Every pixel kept: re-encoded JPEG coefficients, optimised PNG/GIF", builtin: true, options: { image: { compression: "high", lossless: true } } },
  { name: "web", description: "WebP, at most 1920 px wide", builtin: true, options: { image: { compression: "high", format: "webp", resize: { width: 1920, mode: "auto" } } } },
  { name: "email", description: "Fits in 1600×1600 px, compression 'high', for attachments", builtin: true, options: { image: { compression: "high", resize: { width: 1600, height: 1600, mode: "fit" } } } },
];

// ---- storage connectors ----

const PROVIDERS: ProviderInfo_Serialize[] = (() => {
  const info = (provider: ProviderInfo_Serialize["provider"], label: string, more: Partial<ProviderInfo_Serialize>): ProviderInfo_Serialize => ({
    provider, label, regions: [], default_region: null, needs_region: true, needs_endpoint: false,
    endpoint_label: "Custom endpoint (optional)", access_key_label: "Access key ID", secret_label: "Secret access key",
    has_secret: true, bucket_label: "Bucket", classes: [], acls: ["private", "public-read"], headers: ["Cache-Control", "Content-Type"],
    supports_tags: true, permissions: "", ...more,
  });
  return [
    info("s3", "Amazon S3", { regions: ["us-east-1", "us-east-2", "us-west-1", "us-west-2", "eu-west-1", "eu-central-1", "ap-southeast-1"], endpoint_label: "Endpoint for S3-compatible services (optional)", classes: ["standard", "standard-ia", "glacier"], permissions: "the IAM user or role needs s3:PutObject and s3:PutObjectAcl on the bucket" }),
    info("r2", "Cloudflare R2", { regions: ["auto"], default_region: "auto", needs_endpoint: true, endpoint_label: "Account endpoint", acls: [], permissions: "the R2 API token needs Object Read & Write on this bucket" }),
    info("spaces", "DigitalOcean Spaces", { regions: ["nyc3", "ams3", "sfo3", "sgp1", "fra1", "lon1"], access_key_label: "Spaces access key", secret_label: "Spaces secret", bucket_label: "Space", permissions: "the Spaces key needs write access to this Space" }),
    info("b2", "Backblaze B2", { regions: ["us-west-000", "us-west-001", "us-west-002", "us-east-005", "eu-central-003"], access_key_label: "Key ID", secret_label: "Application key", permissions: "the application key needs the writeFiles capability for this bucket" }),
    info("gcs", "Google Cloud Storage", { regions: ["auto", "us", "eu", "asia", "europe-west1"], default_region: "auto", access_key_label: "HMAC access ID", secret_label: "HMAC secret", permissions: "the HMAC key's service account needs Storage Object Admin on the bucket" }),
    info("azure", "Azure Blob Storage", { needs_region: false, endpoint_label: "Blob endpoint (optional)", access_key_label: "Storage account name", secret_label: "Account key", bucket_label: "Container", acls: [], classes: ["hot", "cool", "cold", "archive"], supports_tags: true, permissions: "the account key must belong to this storage account" }),
    info("local", "Local folder", { needs_region: false, needs_endpoint: true, endpoint_label: "Folder", access_key_label: "", secret_label: "", has_secret: false, bucket_label: "Sub-folder (optional)", acls: [], headers: [], supports_tags: false, permissions: "the folder must be writable by you" }),
  ];
})();

let connectors: Connector_Serialize[] = params.has("noconnectors") ? [] : [
  { id: "6f1c2f6e-0b7e-4d53-a2a3-1b0f3c1d9e01", name: "photos", provider: "spaces", region: "ams3", bucket: "alex-photos", access_key_id: "DO00EXAMPLE7Q" },
  { id: "0d6b8a52-3e0c-4a8f-9a44-2f7d9b7c5e02", name: "backup", provider: "local", endpoint: "/media/alex/Backup/compressed", access_key_id: "" },
];
let nextConnector = 3;

/** The mocked backend's checks, a little like ConnectorSpec::validate. */
function checkSpec(spec: ConnectorSpec_Serialize, secret: string | null): FieldError[] {
  const errors: FieldError[] = [];
  const info = PROVIDERS.find((p) => p.provider === spec.provider);
  if (!spec.name.trim()) errors.push({ field: "name", message: "is required" });
  if (!info) return [...errors, { field: "provider", message: "is required: one of s3, r2, spaces, b2, gcs, azure, local" }];
  if (info.needs_endpoint && !spec.endpoint) errors.push({ field: "endpoint", message: info.provider === "local" ? "is required: the folder's path" : "is required: https://<account-id>.r2.cloudflarestorage.com" });
  if (info.provider === "local" && spec.endpoint && !spec.endpoint.startsWith("/")) errors.push({ field: "endpoint", message: "must be an absolute folder path" });
  if (spec.region && info.regions.length && !info.regions.includes(spec.region) && !(info.provider === "s3" && spec.endpoint)) {
    errors.push({ field: "region", message: `${info.label} has no region "${spec.region}"; one of: ${info.regions.join(", ")}` });
  }
  if (info.has_secret && !spec.access_key_id.trim()) errors.push({ field: "access_key_id", message: "is required: the access key id" });
  if (secret !== null && info.has_secret && !secret) errors.push({ field: "secret", message: "is required" });
  return errors;
}

function probe(c: { provider: string; endpoint?: string | null; region?: string | null; bucket?: string | null; name: string }): ConnectionTest {
  const key = `.compressor-connection-test-${Math.floor(random() * 1e8).toString(16)}`;
  if (c.provider === "local") return { bucket: c.bucket ?? "", probe_url: `file://${c.endpoint}/${c.bucket ? `${c.bucket}/` : ""}${key}`, warnings: [] };
  if (!c.bucket) throw { message: "choose a bucket (and region) to test with", fields: [{ field: "store.bucket", message: "is required" }] } satisfies ConnectorFailure;
  if (c.name.toLowerCase().includes("fail")) {
    throw { message: `access denied writing to ${c.bucket}: writing works but setting an ACL does not: allow s3:PutObjectAcl, or use "acl": "private"`, fields: [] } satisfies ConnectorFailure;
  }
  return { bucket: c.bucket, probe_url: `https://${c.bucket}.${c.region ?? "nyc3"}.digitaloceanspaces.com/${key}`, warnings: [] };
}

// ---- syncing a bucket ----

/** Per sync (connector, bucket, prefix, destination), the keys already synced. */
const synced = new Map<string, Set<string>>();

function mockSync(request: SyncRequest): SyncOutcome[] {
  const connector = connectors.find((c) => c.id === request.connector);
  if (!connector) throw `no connector ${request.connector}`;
  if (!presets.some((p) => p.name === request.preset) && !settings.user_presets.some((p) => p.name === request.preset)) throw `no preset named '${request.preset}'`;
  const bucket = request.bucket ?? connector.bucket ?? "";
  if (connector.provider !== "local" && !bucket) throw "choose a bucket: the connector has no default bucket";
  if (request.prefix.includes("fail")) throw `listing ${bucket || connector.endpoint}/${request.prefix}: access denied (403): the key needs s3:ListBucket`;
  const prefix = request.prefix === "" || request.prefix.endsWith("/") ? request.prefix : `${request.prefix}/`;
  const destination = request.destination_prefix ? request.destination_prefix.replace(/\/?$/, "/") : null;
  const base = connector.provider === "local"
    ? `file://${connector.endpoint}/${bucket ? `${bucket}/` : ""}`
    : `https://${bucket}.${connector.region ?? "nyc3"}.digitaloceanspaces.com/`;
  const identity = JSON.stringify([connector.id, bucket, prefix, destination, destination ? null : request.suffix]);
  const done = synced.get(identity) ?? new Set<string>();
  synced.set(identity, done);
  const objects: { name: string; size: number; ratio: number | null; failure?: string }[] = [
    { name: "IMG_2041.jpg", size: 4_211_876, ratio: 0.38 },
    { name: "IMG_2042.jpg", size: 3_902_117, ratio: 0.41 },
    { name: "banner.png", size: 1_288_410, ratio: 0.27 },
    { name: "logo.png", size: 18_220, ratio: null },
    { name: "IMG_2043.heic", size: 2_611_907, ratio: null, failure: "the HEIC data is damaged: Unexpected end of file" },
  ];
  return objects.map(({ name, size, ratio, failure }): SyncOutcome => {
    const key = `${prefix}${name}`;
    if (done.has(key)) return { key, status: "unchanged", size_before: size };
    if (failure) return { key, status: "failed", size_before: size, message: failure };
    done.add(key);
    const dot = name.lastIndexOf(".");
    const out = destination ? `${destination}${name}` : `${prefix}${name.slice(0, dot)}${request.suffix ?? "-min"}${name.slice(dot)}`;
    if (ratio === null) {
      // Not smaller: copied as is to another prefix, left alone beside it.
      return destination
        ? { key, status: "skipped", size_before: size, size_after: size, url: `${base}${out}`, message: "already optimal: the result was not smaller" }
        : { key, status: "skipped", size_before: size, message: "already optimal: the result was not smaller" };
    }
    return { key, status: "compressed", size_before: size, size_after: Math.round(size * ratio), url: `${base}${out}` };
  });
}

let settings: Settings_Serialize = {
  version: 1,
  preset: "web",
  output: params.has("store")
    ? { mode: "store", suffix: "-min", folder: null, store: { id: "6f1c2f6e-0b7e-4d53-a2a3-1b0f3c1d9e01", path: "assets/" } }
    : { mode: "suffix", suffix: "-min", folder: null },
  keep_dates: true,
  keep_exif: false,
  keep_icc: false,
  jobs: 0,
  engine: params.has("remote") ? "remote" : "local",
  ...(params.has("remote") ? { remote_url: "https://compress.example.com" } : {}),
  watch_rules: [],
  user_presets: [
    { name: "Blog", description: "WebP, high, ≤ 1600 px wide", options: { image: { compression: "high", format: "webp", resize: { width: 1600, mode: "auto" } } } },
    { name: "Print archive", description: "PNG, medium, lossless", options: { image: { compression: "medium", lossless: true, format: "png" } } },
  ],
  connectors: [],
};

// ---- remote mode: API keys "in the keychain", by server URL ----

const remoteKeys = new Set<string>(["https://compress.example.com"]);

// ---- watched folders ----

const INBOX = "/home/alex/Pictures/Inbox";
const SCREENSHOTS = "/home/alex/Pictures/Screenshots";
const CAMERA = "/media/alex/CAMERA/DCIM";

let watchRules: WatchRuleSetting_Serialize[] = params.has("nowatch") ? [] : [
  { folder: INBOX, preset: "balanced", output: { mode: "suffix", suffix: "-min", folder: null }, depth: 8, include: [], exclude: [], paused: false },
  { folder: SCREENSHOTS, preset: "web", output: { mode: "folder", suffix: "-min", folder: "/home/alex/Pictures/Screenshots (web)" }, depth: 8, include: [], exclude: [], paused: true },
  { folder: CAMERA, preset: "Blog", output: { mode: "in_place", suffix: "-min", folder: null }, depth: 8, include: [], exclude: [], paused: false },
];
const watchCounts = new Map<string, RuleCounts>();
const watchLog: Activity[] = [];
const zero = (): RuleCounts => ({ compressed: 0, skipped: 0, failed: 0, bytes_before: 0, bytes_after: 0 });

function record(activity: Activity): void {
  const c = watchCounts.get(activity.folder) ?? zero();
  if (activity.kind === "compressed") {
    c.compressed++;
    c.bytes_before += activity.before;
    c.bytes_after += activity.after;
  } else if (activity.kind === "skipped") c.skipped++;
  else if (activity.kind === "failed") c.failed++;
  watchCounts.set(activity.folder, c);
  watchLog.push(activity);
  if (watchLog.length > 500) watchLog.shift();
}

function compressedLine(folder: string, name: string, at: number, before: number, ratio: number): Activity {
  const dot = name.lastIndexOf(".");
  return { folder, at, kind: "compressed", file: `${folder}/${name}`, output: `${folder}/${name.slice(0, dot)}-min${name.slice(dot)}`, before, after: Math.round(before * ratio) };
}

{
  const start = Date.now() - 9 * 60_000;
  const lines: Activity[] = [
    { folder: INBOX, at: start, kind: "notice", message: `watching ${INBOX} (8 levels of sub-folders)` },
    compressedLine(INBOX, "IMG_5120.jpg", start + 31_000, 4_211_876, 0.39),
    compressedLine(INBOX, "IMG_5121.jpg", start + 33_000, 3_902_117, 0.41),
    { folder: INBOX, at: start + 34_500, kind: "skipped", file: `${INBOX}/logo-final.png`, reason: "already optimal: the result was not smaller" },
    compressedLine(INBOX, "scan-receipt.png", start + 95_000, 2_418_990, 0.27),
    { folder: INBOX, at: start + 120_000, kind: "failed", file: `${INBOX}/broken-download.jpg`, message: "truncated JPEG: unexpected end of data at byte 524,288" },
    compressedLine(INBOX, "holiday panorama with a rather long file name (edited).jpg", start + 200_000, 12_870_443, 0.35),
    { folder: CAMERA, at: start + 210_000, kind: "notice", message: `${CAMERA} is not there any more: is the card still inserted?` },
    compressedLine(INBOX, "IMG_5122.jpg", start + 400_000, 4_511_200, 0.38),
  ];
  if (watchRules.length) for (const line of lines) record(line);
}

function watchOverview(): WatchOverview_Serialize {
  const rules: RuleStatus_Serialize[] = watchRules.map((rule) => {
    const counts = { ...(watchCounts.get(rule.folder) ?? zero()) };
    if (rule.paused) return { rule, counts, state: "paused" };
    if (rule.folder === CAMERA) return { rule, counts, state: "error", message: "the folder does not exist (is the card inserted?)" };
    return { rule, counts, state: "watching" };
  });
  return { rules, log: watchLog.slice() };
}

function checkRule(rule: WatchRuleSetting_Serialize, others: WatchRuleSetting_Serialize[]): void {
  if (!rule.folder.trim()) throw "choose a folder to watch";
  if (!rule.folder.startsWith("/")) throw `${rule.folder}: not an absolute path`;
  if (others.some((r) => r.folder === rule.folder)) throw `${rule.folder} is already watched`;
  if (rule.output.mode === "folder" && !rule.output.folder) throw "choose an output folder";
  if (rule.output.mode === "suffix" && !rule.output.suffix) throw "the suffix must not be empty";
  if (rule.output.mode === "store" && !connectors.some((c) => c.id === rule.output.store?.id)) throw "no storage connector is chosen";
}

let tick = 5123;
function liveLine(): void {
  const running = watchRules.filter((r) => !r.paused && r.folder !== CAMERA);
  if (!running.length) return;
  const rule = running[tick % running.length];
  tick++;
  const roll = random();
  const at = Date.now();
  const activity: Activity = roll < 0.75
    ? compressedLine(rule.folder, `IMG_${tick}.jpg`, at, Math.round(2_000_000 + random() * 4_000_000), 0.3 + random() * 0.2)
    : roll < 0.9
      ? { folder: rule.folder, at, kind: "skipped", file: `${rule.folder}/icon-${tick}.png`, reason: "already optimal: the result was not smaller" }
      : { folder: rule.folder, at, kind: "failed", file: `${rule.folder}/IMG_${tick}.heic`, message: "the HEIC data is damaged: Unexpected end of file" };
  record(activity);
  void emit("watch-activity", { activity });
}

// ---- images for the compare view, drawn here (no network) ----

function drawScene(): HTMLCanvasElement {
  const c = document.createElement("canvas");
  c.width = 1200;
  c.height = 800;
  const g = c.getContext("2d")!;
  const sky = g.createLinearGradient(0, 0, 0, 520);
  sky.addColorStop(0, "#1e3a8a");
  sky.addColorStop(0.55, "#f97316");
  sky.addColorStop(1, "#fde68a");
  g.fillStyle = sky;
  g.fillRect(0, 0, 1200, 520);
  g.fillStyle = "#fff7d6";
  g.beginPath();
  g.arc(820, 430, 70, 0, Math.PI * 2);
  g.fill();
  const ridge = (base: number, amp: number, color: string, phase: number) => {
    g.fillStyle = color;
    g.beginPath();
    g.moveTo(0, 800);
    for (let x = 0; x <= 1200; x += 10) g.lineTo(x, base - amp * (Math.sin(x / 97 + phase) * 0.6 + Math.sin(x / 41 + phase * 2) * 0.25));
    g.lineTo(1200, 800);
    g.fill();
  };
  ridge(470, 60, "#7c2d12", 0.3);
  ridge(520, 45, "#431407", 1.7);
  const sea = g.createLinearGradient(0, 520, 0, 800);
  sea.addColorStop(0, "#f59e0b");
  sea.addColorStop(1, "#0c4a6e");
  g.fillStyle = sea;
  g.fillRect(0, 540, 1200, 260);
  for (let i = 0; i < 140; i++) {
    g.fillStyle = `rgba(255,240,200,${0.15 + random() * 0.4})`;
    g.fillRect(700 + random() * 240, 560 + random() * 220, 20 + random() * 60, 2);
  }
  // Fine detail that shows compression: thin rigging lines and small text.
  g.strokeStyle = "rgba(20,20,30,0.85)";
  g.lineWidth = 1;
  for (let i = 0; i < 24; i++) {
    g.beginPath();
    g.moveTo(180 + i * 6, 300);
    g.lineTo(120 + i * 9, 600);
    g.stroke();
  }
  g.fillStyle = "#0f172a";
  g.fillRect(80, 590, 300, 26);
  g.font = "600 15px sans-serif";
  g.fillStyle = "#fef3c7";
  g.fillText("TEJO · LISBOA · 19:42", 96, 609);
  return c;
}

const scene = drawScene();
const images = { before: scene.toDataURL("image/png"), after: scene.toDataURL("image/jpeg", 0.3) };

// ---- the mocked backend ----

mockWindows("main");
mockIPC(async (cmd, args) => {
  const a = (args ?? {}) as Record<string, unknown>;
  switch (cmd) {
    case "list_presets":
      return [...presets, ...settings.user_presets.map((p) => ({ ...p, builtin: false }))];
    case "load_settings":
      return settings;
    case "save_settings": {
      const next = a.settings as Settings_Serialize;
      if (next.user_presets.some((p) => p.name.toLowerCase() === "fail")) throw "preset 'fail': the disk is full (mock error)";
      if (next.engine === "remote" && !/^https?:\/\//.test(next.remote_url ?? "")) throw "the API server's URL must start with http:// or https://";
      settings = next;
      return null;
    }
    case "add_paths":
    case "pick_files":
    case "pick_folder":
      return { items, errors: [] } satisfies AddResult;
    case "set_remote_key": {
      const key = (a.key as string).trim();
      if (!key) throw "the API key is empty";
      if (key.includes("fail")) throw "the system keychain is not available (mock error); on Linux Compressor keeps secrets in the Secret Service (GNOME Keyring or KWallet), which must be running and unlocked";
      remoteKeys.add((a.url as string).replace(/\/+$/, ""));
      return null;
    }
    case "has_remote_key":
      await new Promise((r) => setTimeout(r, 150));
      return remoteKeys.has((a.url as string).replace(/\/+$/, ""));
    case "pick_output_folder":
      return "/home/alex/Pictures/Compressed";
    case "watch_overview":
      return watchOverview();
    case "pick_watch_folder":
      return "/home/alex/Downloads";
    case "add_watch_rule": {
      const rule = a.rule as WatchRuleSetting_Serialize;
      checkRule(rule, watchRules);
      watchRules = [...watchRules, rule];
      record({ folder: rule.folder, at: Date.now(), kind: "notice", message: `watching ${rule.folder} (${rule.depth} levels of sub-folders)` });
      return watchOverview();
    }
    case "update_watch_rule": {
      const folder = a.folder as string;
      const rule = a.rule as WatchRuleSetting_Serialize;
      if (!watchRules.some((r) => r.folder === folder)) throw `${folder} is not watched`;
      checkRule(rule, watchRules.filter((r) => r.folder !== folder));
      watchRules = watchRules.map((r) => (r.folder === folder ? rule : r));
      return watchOverview();
    }
    case "remove_watch_rule": {
      const folder = a.folder as string;
      if (!watchRules.some((r) => r.folder === folder)) throw `${folder} is not watched`;
      watchRules = watchRules.filter((r) => r.folder !== folder);
      return watchOverview();
    }
    case "list_providers":
      return PROVIDERS;
    case "list_connectors":
      return connectors;
    case "add_connector": {
      const spec = a.spec as ConnectorSpec_Serialize;
      const secret = a.secret as string;
      const fields = checkSpec(spec, secret);
      if (fields.length) throw { message: `invalid connector:\n${fields.map((f) => `  ${f.field}: ${f.message}`).join("\n")}`, fields } satisfies ConnectorFailure;
      const connector: Connector_Serialize = { id: `mock-${nextConnector++}`, name: spec.name.trim(), provider: spec.provider!, access_key_id: spec.access_key_id };
      if (spec.endpoint) connector.endpoint = spec.endpoint;
      if (spec.region) connector.region = spec.region;
      if (spec.bucket) connector.bucket = spec.bucket;
      connectors = [...connectors, connector];
      return connector;
    }
    case "remove_connector": {
      const id = a.id as string;
      const used = watchRules.find((r) => r.output.mode === "store" && r.output.store?.id === id);
      if (used) throw `connector ${id} is used by the watched folder ${used.folder}; change that rule first`;
      connectors = connectors.filter((c) => c.id !== id);
      return connectors;
    }
    case "test_connector": {
      await new Promise((r) => setTimeout(r, 700));
      const connector = connectors.find((c) => c.id === a.id);
      if (!connector) throw { message: `no connector ${a.id as string}`, fields: [] } satisfies ConnectorFailure;
      return probe(connector);
    }
    case "test_connector_spec": {
      await new Promise((r) => setTimeout(r, 700));
      const spec = a.spec as ConnectorSpec_Serialize;
      const fields = checkSpec(spec, null);
      if (fields.length) throw { message: "check the fields", fields } satisfies ConnectorFailure;
      if (a.secret === "bad") throw { message: "the service refused the credentials (403 SignatureDoesNotMatch): check the access key and secret", fields: [] } satisfies ConnectorFailure;
      return probe({ ...spec, provider: spec.provider! });
    }
    case "list_buckets":
      return ["alex-photos", "alex-site"];
    case "sync_bucket": {
      await new Promise((r) => setTimeout(r, 1200));
      return mockSync(a.request as SyncRequest);
    }
    case "cancel":
    case "cancel_all":
    case "retry":
      return null;
    case "preview": {
      const id = a.id as number;
      const status = finalStatus[id];
      const report = status.state === "done" || status.state === "skipped" ? status.report : null;
      return { original: images.before, output: images.after, report };
    }
    default:
      throw `unknown command ${cmd}`;
  }
}, { shouldMockEvents: true });
// The data: URLs above are the "paths"; the real convertFileSrc would turn them into asset: URLs.
(window as unknown as { __TAURI_INTERNALS__: { convertFileSrc: (p: string) => string } }).__TAURI_INTERNALS__.convertFileSrc = (p) => p;

const nextFrame = () => new Promise((r) => requestAnimationFrame(() => r(null)));

async function play(): Promise<void> {
  await import("./main");
  while (document.body.dataset.ready !== "true") await nextFrame();
  if (!params.has("still")) setInterval(liveLine, 2000);
  if (params.has("watch")) {
    document.querySelector<HTMLButtonElement>("[data-testid=view-watch]")?.click();
    return;
  }
  if (params.has("connectors")) {
    document.querySelector<HTMLButtonElement>("[data-testid=view-connectors]")?.click();
    if (params.has("add")) document.querySelector<HTMLButtonElement>("#add-connector")?.click();
    if (params.has("sync")) {
      while (!document.querySelector(".connector-sync")) await nextFrame();
      document.querySelector<HTMLButtonElement>(".connector-sync")?.click();
      if (params.has("run")) {
        for (const [id, value] of [["#sync-prefix", "uploads/"], ["#sync-destination", "optimized/"]]) {
          const input = document.querySelector<HTMLInputElement>(id)!;
          input.value = value;
          input.dispatchEvent(new Event("input", { bubbles: true }));
        }
        document.querySelector<HTMLButtonElement>("#sync-run")?.click();
      }
    }
    return;
  }
  const drag = () => emit("tauri://drag-enter", { paths: [TRIP], position: { x: 400, y: 300 } });
  if (params.has("empty")) {
    if (params.has("drag")) await drag();
    return;
  }
  await emit("tauri://drag-drop", { paths: [TRIP, SITE, SCANS], position: { x: 400, y: 300 } });
  await nextFrame();
  // Two batches, as the queue sends them: first everything that started, then the results.
  const started = FIXTURES.map((f, id) => ({ f, id })).filter(({ f }) => f.plan.state !== "queued" && f.plan.state !== "cancelled");
  await emit("files-updated", { updates: started.map(({ id }) => ({ id, status: { state: "running" } })) });
  await emit("files-updated", { updates: finalStatus.map((status, id) => ({ id, status })).filter(({ status }) => status.state !== "queued" && status.state !== "running") });
  await nextFrame();
  await nextFrame();
  if (params.has("compare")) {
    const row = document.querySelector<HTMLElement>('[data-testid=row][data-id="3"]');
    row?.querySelector<HTMLButtonElement>("[data-action=compare]")?.click();
    if (params.has("zoom")) {
      document.querySelector<HTMLButtonElement>("[data-testid=zoom]")?.click();
    }
  }
  if (params.has("drag")) await drag();
  if (params.has("settings")) {
    document.querySelector<HTMLButtonElement>("[data-testid=open-settings]")?.click();
    if (params.has("presets")) document.querySelector("[data-testid=presets-section]")?.scrollIntoView({ block: "end" });
  }
}

void play();
