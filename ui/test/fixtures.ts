// Shared test data, typed with the generated bindings.

import type { FileFacts_Serialize, Format, ItemStatus_Serialize, PresetInfo_Serialize, QueuedItem, Report_Serialize, Settings_Serialize } from "../src/bindings";

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
  return { state: "done", report: r, destination: `/out/${before}.jpg` };
}

export function skipped(size: number, reason: string): ItemStatus_Serialize {
  const input = facts("same.png", size, hash("5a5a"), "png");
  return { state: "skipped", report: { status: "skipped", reason, input, output: { ...input }, actions: [], warnings: [] }, reason, destination: null };
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
  };
}
