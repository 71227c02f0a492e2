/** Tiny valid images for upload tests (bytes written out here, not downloaded). */
const b64 = (s: string) => Uint8Array.from(atob(s), (c) => c.charCodeAt(0));

/** 1×1 transparent PNG. */
export const PNG = b64(
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==",
);
/** 1×1 GIF. */
export const GIF = b64("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7");
/** Minimal JPEG header bytes (SOI + APP0). */
export const JPEG = new Uint8Array([
  0xff,
  0xd8,
  0xff,
  0xe0,
  0x00,
  0x10,
  0x4a,
  0x46,
  0x49,
  0x46,
  0x00,
  0x01,
  0x01,
  0x00,
  0x00,
  0x01,
  0x00,
  0x01,
  0x00,
  0x00,
  0xff,
  0xd9,
]);
/** A RIFF/WEBP container header. */
export const WEBP = new Uint8Array([
  0x52,
  0x49,
  0x46,
  0x46,
  0x1a,
  0,
  0,
  0,
  0x57,
  0x45,
  0x42,
  0x50,
  0x56,
  0x50,
  0x38,
  0x4c,
  0x0d,
  0,
  0,
  0,
  0x2f,
  0,
  0,
  0,
  0x10,
  0x07,
  0x10,
  0x11,
  0x11,
  0x88,
  0x88,
  0xfe,
  0x07,
  0,
]);
export const SVG = new TextEncoder().encode(
  '<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"></svg>',
);
export const HTML = new TextEncoder().encode("<!doctype html><script>alert(1)</script>");
