// Pure text formatting: sizes, percentages, hashes, counts. No DOM.

import type { Format } from "./bindings";

const UNITS = ["B", "kB", "MB", "GB", "TB"];

/** Decimal (SI) sizes with three significant digits: "950 B", "1.23 MB", "12.3 MB", "123 MB". */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return "—";
  if (bytes < 1000) return `${Math.round(bytes)} B`;
  let value = bytes;
  let unit = 0;
  while (value >= 999.5 && unit < UNITS.length - 1) {
    value /= 1000;
    unit++;
  }
  const digits = value >= 99.95 ? 0 : value >= 9.995 ? 1 : 2;
  return `${value.toFixed(digits)} ${UNITS[unit]}`;
}

/** "1,234,567 bytes", for titles that give the exact number. */
export function formatExactBytes(bytes: number): string {
  return `${formatCount(bytes)} ${bytes === 1 ? "byte" : "bytes"}`;
}

/** Thousands separators independent of the machine's locale, so tests and screenshots agree. */
export function formatCount(n: number): string {
  const sign = n < 0 ? "-" : "";
  const digits = String(Math.trunc(Math.abs(n)));
  return sign + digits.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}

/** The fraction of `before` that was saved; null when there is nothing to compare. */
export function savedRatio(before: number, after: number): number | null {
  if (!(before > 0) || !Number.isFinite(after)) return null;
  return 1 - after / before;
}

/** "59.3 %", "0 %", "−4.1 %" (a result larger than the original). */
export function formatPercent(ratio: number | null): string {
  if (ratio === null || !Number.isFinite(ratio)) return "—";
  const pct = ratio * 100;
  const rounded = Math.round(pct * 10) / 10;
  if (rounded === 0) return "0 %";
  const text = Math.abs(rounded).toFixed(Math.abs(rounded) >= 100 ? 0 : 1);
  return `${rounded < 0 ? "\u2212" : ""}${text} %`;
}

/** The first `length` hex characters of a hash (lower-cased), as shown in the table. */
export function shortHash(hash: string | null | undefined, length = 12): string {
  if (!hash) return "";
  return hash.slice(0, length).toLowerCase();
}

const FORMAT_NAMES: Record<Format, string> = {
  jpeg: "JPEG",
  png: "PNG",
  gif: "GIF",
  webp: "WebP",
  avif: "AVIF",
  tiff: "TIFF",
  bmp: "BMP",
  heic: "HEIC",
  jxl: "JPEG XL",
  ico: "ICO",
  pdf: "PDF",
  zip: "ZIP",
  docx: "DOCX",
  xlsx: "XLSX",
  pptx: "PPTX",
  odt: "ODT",
  ods: "ODS",
  odp: "ODP",
  epub: "EPUB",
  gzip: "gzip",
  mp4: "MP4",
  mov: "MOV",
  mkv: "MKV",
  webm: "WebM",
  avi: "AVI",
  wav: "WAV",
  flac: "FLAC",
  ogg: "Ogg",
  mp3: "MP3",
  m4a: "M4A",
};

export function formatName(format: Format | string): string {
  return (FORMAT_NAMES as Record<string, string>)[format] ?? format.toUpperCase();
}

/** The extension of a file name, upper-cased, as a guess at its type before it is read. */
export function extensionOf(name: string): string {
  const dot = name.lastIndexOf(".");
  return dot > 0 && dot < name.length - 1 ? name.slice(dot + 1).toUpperCase() : "";
}

/** "5640 × 3172", or "—" when either side is unknown. */
export function formatDimensions(width?: number | null, height?: number | null): string {
  if (width == null || height == null) return "—";
  return `${width} × ${height}`;
}

/** The folder part of a path (either separator). */
export function folderOf(path: string): string {
  const cut = Math.max(path.lastIndexOf("/"), path.lastIndexOf("\\"));
  return cut > 0 ? path.slice(0, cut) : "";
}

/** The name of the folder a path is in ("Trip 2024" for "/home/a/Trip 2024/x.jpg"). */
export function parentName(path: string): string {
  const folder = folderOf(path);
  const cut = Math.max(folder.lastIndexOf("/"), folder.lastIndexOf("\\"));
  return folder.slice(cut + 1);
}
