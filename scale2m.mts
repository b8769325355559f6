import { scaleRows } from "./bench/scale.js";
const sizes = JSON.parse(process.argv[2]);
const rows = await scaleRows({ runner: "dist/runner.mjs", work: "/tmp/scalework", log: (m) => console.error(m) }, sizes);
for (const r of rows) console.log(r.workload, (r.wallMs/1000).toFixed(2), "s cpu", ((r.userMs+r.sysMs)/1000).toFixed(2), "rss", (r.maxRssKb/1024).toFixed(0), "LIST", r.counts?.LIST, r.note);
