// The demo's sample data: what each bucket holds before the first run, and the changes made on
// several sites before the second run. Deterministic (seeded PRNG), so every run tells the same story.

export interface SampleObject {
  key: string;
  body: Uint8Array | string;
  contentType: string;
  cacheControl?: string;
  contentDisposition?: string;
  contentEncoding?: string;
  contentLanguage?: string;
  metadata?: Record<string, string>;
}

export type Change =
  | { op: "put"; bucket: string; object: SampleObject; why: "new" | "modified" | "conflict" }
  | { op: "delete"; bucket: string; key: string }
  /** Wait until the wall clock enters a new second: S3 LastModified has 1-second resolution. */
  | { op: "tick" };

/** mulberry32: a tiny deterministic PRNG. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function hash(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return h >>> 0;
}

/** `size` pseudo-random bytes, deterministic per label. */
export function bytes(label: string, size: number): Uint8Array {
  const rnd = prng(hash(label));
  const out = new Uint8Array(size);
  for (let i = 0; i < size; i += 4) {
    const v = Math.floor(rnd() * 4294967296);
    out[i] = v & 0xff;
    if (i + 1 < size) out[i + 1] = (v >>> 8) & 0xff;
    if (i + 2 < size) out[i + 2] = (v >>> 16) & 0xff;
    if (i + 3 < size) out[i + 3] = (v >>> 24) & 0xff;
  }
  return out;
}

/** A customer-sales CSV of `rows` rows, like the files in seed 000. */
function salesCsv(label: string, rows: number): string {
  const rnd = prng(hash(label));
  const lines = ["order_id,customer_id,region,product,quantity,amount_eur,ordered_at"];
  const regions = ["UK", "CH", "DE", "FR", "JP", "US"];
  const products = ["widget", "gadget", "gizmo", "doohickey", "sprocket"];
  for (let i = 0; i < rows; i++) {
    const q = 1 + Math.floor(rnd() * 20);
    lines.push(
      [
        `${label}-${String(i).padStart(6, "0")}`,
        `C${Math.floor(rnd() * 90000) + 10000}`,
        regions[Math.floor(rnd() * regions.length)],
        products[Math.floor(rnd() * products.length)],
        q,
        (q * (5 + rnd() * 95)).toFixed(2),
        new Date(Date.UTC(2019, 0, 1) + Math.floor(rnd() * 365 * 86400) * 1000).toISOString(),
      ].join(","),
    );
  }
  return lines.join("\n") + "\n";
}

function logLines(label: string, n: number): string {
  const rnd = prng(hash(label));
  const levels = ["INFO", "INFO", "INFO", "WARN", "ERROR"];
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const t = new Date(Date.UTC(2025, 2, 2) + i * 1370).toISOString();
    out.push(`${t} ${levels[Math.floor(rnd() * levels.length)]} req=${Math.floor(rnd() * 1e9).toString(16)} path=/api/v1/orders status=200 ms=${Math.floor(rnd() * 400)}`);
  }
  return out.join("\n") + "\n";
}

const csv = (key: string, rows: number, origin: string): SampleObject => ({
  key,
  body: salesCsv(key, rows),
  contentType: "text/csv",
  metadata: { origin },
});

const log = (key: string, lines: number, host: string): SampleObject => ({
  key,
  body: logLines(key, lines),
  contentType: "text/plain; charset=utf-8",
  metadata: { host },
});

/** Initial contents, by bucket id (ids of demo/topology.yaml). Buckets not listed start empty. */
export function initialObjects(): Record<string, SampleObject[]> {
  return {
    "sales-london": [
      csv("source-a/custsales-2019-01.csv", 900, "london"),
      csv("source-a/custsales-2019-02.csv", 700, "london"),
      csv("source-a/custsales-2019-03.csv", 1100, "london"),
      { key: "shared/forecast.csv", body: "quarter,forecast_eur\n2019Q1,1200000\n2019Q2,1350000\n", contentType: "text/csv", metadata: { origin: "london" } },
      { key: "reports/2019/q1/charts/revenue by region.png", body: bytes("revenue.png", 64_000), contentType: "image/png", metadata: { origin: "london" } },
      {
        key: "reports/2019/q1/summary.pdf",
        body: bytes("q1-summary.pdf", 180_000),
        contentType: "application/pdf",
        contentDisposition: 'attachment; filename="q1-summary.pdf"',
        metadata: { origin: "london", classification: "internal" },
      },
    ],
    "sales-zurich": [
      csv("source-b/custsales-2019-04.csv", 1000, "zurich"),
      csv("source-b/custsales-2019-05.csv", 1200, "zurich"),
      {
        key: "reports/2019/q2/summary.json",
        body: JSON.stringify({ quarter: "2019Q2", revenue_eur: 1_402_117.55, orders: 8_214 }, null, 2) + "\n",
        contentType: "application/json",
        metadata: { origin: "zurich" },
      },
      {
        key: "docs/Prüfbericht 2019 (final).txt",
        body: "Prüfbericht 2019: keine Beanstandungen.\n",
        contentType: "text/plain; charset=utf-8",
        contentLanguage: "de-CH",
        metadata: { origin: "zurich" },
      },
    ],
    "assets-frankfurt": [
      {
        key: "index.html",
        body: "<!doctype html><html><head><link rel=stylesheet href=/css/site.css></head><body><h1>ACME</h1><script src=/js/app.js></script></body></html>\n",
        contentType: "text/html; charset=utf-8",
        cacheControl: "no-cache",
      },
      { key: "css/site.css", body: "body { font-family: Inter, sans-serif; color: #222; }\nh1 { color: #c00; }\n", contentType: "text/css", cacheControl: "public, max-age=86400" },
      { key: "js/app.js", body: `console.log("acme ${"x".repeat(40)}");\n`.repeat(300), contentType: "application/javascript", cacheControl: "public, max-age=86400" },
      {
        key: "js/app.js.gz",
        body: bytes("app.js.gz", 3_100),
        contentType: "application/javascript",
        contentEncoding: "gzip",
        cacheControl: "public, max-age=86400",
      },
      { key: "img/logo.png", body: bytes("logo.png", 24_576), contentType: "image/png", cacheControl: "public, max-age=31536000, immutable" },
      { key: "img/hero.jpg", body: bytes("hero.jpg", 1_800_000), contentType: "image/jpeg", cacheControl: "public, max-age=31536000, immutable" },
      ...["cart", "search", "user", "menu"].map((icon, i) => ({
        key: `img/icons/${icon}.svg`,
        body: `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24"><path d="M${i + 3} 18h10"/></svg>\n`,
        contentType: "image/svg+xml",
        cacheControl: "public, max-age=31536000, immutable",
      })),
      { key: "favicon.ico", body: bytes("favicon.ico", 4_286), contentType: "image/x-icon" },
      { key: "robots.txt", body: "User-agent: *\nAllow: /\n", contentType: "text/plain" },
      { key: "fonts/inter.woff2", body: bytes("inter.woff2", 98_000), contentType: "font/woff2" },
      {
        key: "downloads/brochure 2025.pdf",
        body: bytes("brochure.pdf", 2_400_000),
        contentType: "application/pdf",
        contentDisposition: 'attachment; filename="brochure-2025.pdf"',
        metadata: { campaign: "spring-2025" },
      },
      { key: "video/intro.mp4", body: bytes("intro.mp4", 7_340_032), contentType: "video/mp4" },
      { key: "uploads/", body: "", contentType: "application/x-directory" },
    ],
    "logs-frankfurt": [
      log("app/2025/03/02/app-00.log", 400, "fra-app-1"),
      log("app/2025/03/02/app-01.log", 650, "fra-app-1"),
      log("app/2025/03/03/app-00.log", 300, "fra-app-2"),
      log("nginx/2025/03/02/access.log", 900, "fra-edge-1"),
      log("nginx/2025/03/03/access.log", 750, "fra-edge-1"),
    ],
    "logs-osaka": [
      log("app/2025/03/02/app-00.log", 350, "osa-app-1"),
      log("app/2025/03/03/app-00.log", 500, "osa-app-1"),
      log("nginx/2025/03/02/access.log", 700, "osa-edge-1"),
    ],
    "backups-london": [
      { key: "db/2025-03-01.dump", body: bytes("2025-03-01.dump", 900_000), contentType: "application/octet-stream", metadata: { "pg-version": "16.2" } },
      { key: "db/2025-03-02.dump", body: bytes("2025-03-02.dump", 910_000), contentType: "application/octet-stream", metadata: { "pg-version": "16.2" } },
      { key: "db/2025-03-03.dump", body: bytes("2025-03-03.dump", 925_000), contentType: "application/octet-stream", metadata: { "pg-version": "16.2" } },
      { key: "db/latest.json", body: '{"latest":"db/2025-03-03.dump"}\n', contentType: "application/json" },
    ],
  };
}

export const CONFLICT_KEY = "shared/forecast.csv";
export const FORECAST_LONDON = "quarter,forecast_eur\n2019Q1,1200000\n2019Q2,1410000\n2019Q3,1500000\n";
export const FORECAST_ZURICH = "quarter,forecast_eur\n2019Q1,1200000\n2019Q2,1380000\n2019Q3,1525000\n2019Q4,1610000\n";

/** The changes made between the first and the second run, in order. */
export function changes(): Change[] {
  return [
    // London ↔ Zurich: files produced on both sides, one deletion, and the same file edited on both.
    { op: "put", bucket: "sales-london", why: "new", object: csv("source-a/custsales-2019-06.csv", 950, "london") },
    { op: "delete", bucket: "sales-london", key: "source-a/custsales-2019-01.csv" },
    { op: "put", bucket: "sales-zurich", why: "new", object: csv("source-b/custsales-2019-07.csv", 1300, "zurich") },
    { op: "put", bucket: "sales-zurich", why: "new", object: csv("source-b/custsales-2019-08.csv", 800, "zurich") },
    { op: "put", bucket: "sales-zurich", why: "modified", object: csv("source-b/custsales-2019-05.csv", 1250, "zurich") },
    { op: "put", bucket: "sales-london", why: "conflict", object: { key: CONFLICT_KEY, body: FORECAST_LONDON, contentType: "text/csv", metadata: { origin: "london" } } },
    { op: "tick" },
    { op: "put", bucket: "sales-zurich", why: "conflict", object: { key: CONFLICT_KEY, body: FORECAST_ZURICH, contentType: "text/csv", metadata: { origin: "zurich" } } },
    // Frankfurt: a modified stylesheet and a new image, fanned out to Virginia and Osaka.
    { op: "put", bucket: "assets-frankfurt", why: "modified", object: { key: "css/site.css", body: "body { font-family: Inter, sans-serif; color: #111; }\nh1 { color: #0a5; }\n", contentType: "text/css", cacheControl: "public, max-age=86400" } },
    { op: "put", bucket: "assets-frankfurt", why: "new", object: { key: "img/banner-2025.webp", body: bytes("banner-2025.webp", 310_000), contentType: "image/webp", cacheControl: "public, max-age=31536000, immutable" } },
    // London backups: a new dump, the oldest one expired (the one-to-one link propagates deletes).
    { op: "put", bucket: "backups-london", why: "new", object: { key: "db/2025-03-04.dump", body: bytes("2025-03-04.dump", 940_000), contentType: "application/octet-stream", metadata: { "pg-version": "16.2" } } },
    { op: "put", bucket: "backups-london", why: "modified", object: { key: "db/latest.json", body: '{"latest":"db/2025-03-04.dump"}\n', contentType: "application/json" } },
    { op: "delete", bucket: "backups-london", key: "db/2025-03-01.dump" },
    // New logs in Frankfurt and Osaka, consolidated into the London audit bucket.
    { op: "put", bucket: "logs-frankfurt", why: "new", object: log("app/2025/03/04/app-00.log", 420, "fra-app-1") },
    { op: "put", bucket: "logs-osaka", why: "new", object: log("app/2025/03/04/app-00.log", 380, "osa-app-1") },
  ];
}
