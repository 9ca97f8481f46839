/**
 * The report's stylesheet, inlined so the HTML is one self-contained file: system fonts, no external
 * asset, readable on screen and in print (A4, black on white, no clipped tables).
 */
export const REPORT_CSS = `
:root { --ink: #1d232b; --muted: #5b6672; --line: #d7dbe0; --soft: #f4f6f8; --accent: #2f5f8a;
  --ok: #1e7a46; --warn: #a15c00; --bad: #b3261e; }
* { box-sizing: border-box; }
html { font-size: 14px; }
body { margin: 0; color: var(--ink); background: #fff;
  font-family: -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, "Noto Sans", "DejaVu Sans", sans-serif;
  line-height: 1.45; }
main { max-width: 980px; margin: 0 auto; padding: 32px 28px 48px; }
h1 { font-size: 1.9rem; margin: 4px 0 12px; line-height: 1.2; }
h2 { font-size: 1.3rem; margin: 34px 0 10px; padding-bottom: 4px; border-bottom: 2px solid var(--ink); }
h3 { font-size: 1.08rem; margin: 22px 0 8px; }
h4, h5, h6 { font-size: 1rem; margin: 16px 0 6px; }
p { margin: 6px 0 10px; }
code, pre { font-family: "SFMono-Regular", Menlo, Consolas, "DejaVu Sans Mono", monospace; font-size: 0.9em; }
code { background: var(--soft); padding: 1px 4px; border-radius: 3px; }
pre { background: var(--soft); border: 1px solid var(--line); border-radius: 4px; padding: 10px 12px;
  white-space: pre-wrap; word-break: break-word; }
pre code { background: none; padding: 0; }
.eyebrow { text-transform: uppercase; letter-spacing: 0.08em; font-size: 0.78rem; color: var(--muted); margin: 0; }
.masthead { border-bottom: 1px solid var(--line); padding-bottom: 14px; }
.meta { display: grid; grid-template-columns: max-content 1fr; gap: 3px 16px; margin: 0; }
.meta dt { color: var(--muted); }
.meta dd { margin: 0; }
.tiles { display: grid; grid-template-columns: repeat(auto-fit, minmax(130px, 1fr)); gap: 10px; margin: 12px 0 16px; }
.tile { border: 1px solid var(--line); border-radius: 6px; padding: 10px 12px; }
.tile .value { font-size: 1.5rem; font-weight: 650; line-height: 1.2; }
.tile .label { color: var(--muted); font-size: 0.85rem; }
table { width: 100%; border-collapse: collapse; margin: 8px 0 14px; font-size: 0.92rem; }
th, td { text-align: left; vertical-align: top; padding: 5px 8px; border-bottom: 1px solid var(--line); }
th { background: var(--soft); font-weight: 600; border-bottom: 1px solid #b9c0c8; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.nowrap { white-space: nowrap; }
.badge { display: inline-block; padding: 0 7px; border-radius: 10px; font-size: 0.82rem; font-weight: 600;
  border: 1px solid currentColor; white-space: nowrap; }
.badge.ok { color: var(--ok); } .badge.warn { color: var(--warn); } .badge.bad { color: var(--bad); }
.badge.neutral { color: var(--muted); }
.reason { color: var(--muted); font-size: 0.88rem; }
.muted { color: var(--muted); }
figure.run { margin: 14px 0 20px; padding: 10px 12px; border: 1px solid var(--line); border-radius: 6px; }
figure.run figcaption { font-weight: 600; margin-bottom: 6px; }
figure.run .chart-title { font-size: 0.85rem; color: var(--muted); margin: 6px 0 2px; }
figure.run .facts { font-size: 0.88rem; color: var(--muted); margin-top: 4px; }
.legend { font-size: 0.85rem; color: var(--muted); }
.swatch { display: inline-block; width: 10px; height: 10px; margin: 0 4px 0 10px; vertical-align: -1px; }
.swatch.good { background: #2f5f8a; }
.swatch.bad { background: repeating-linear-gradient(45deg, #c0392b 0 3px, #fff 3px 5px); border: 1px solid #c0392b; }
svg.chart { display: block; max-width: 100%; height: auto; }
ol.timeline { list-style: none; padding: 0; margin: 8px 0; }
ol.timeline li { display: grid; grid-template-columns: 190px 1fr; gap: 10px; padding: 4px 0; border-bottom: 1px dotted var(--line); }
ol.timeline time { color: var(--muted); font-variant-numeric: tabular-nums; }
.cell-card { border-left: 3px solid var(--accent); background: var(--soft); padding: 6px 10px; margin: 8px 0; font-size: 0.92rem; }
.cell-card .kind { font-weight: 600; }
.notes { border-top: 1px solid var(--line); margin-top: 8px; }
footer { margin-top: 36px; color: var(--muted); font-size: 0.85rem; border-top: 1px solid var(--line); padding-top: 8px; }
@page { size: A4; margin: 14mm 12mm; }
@media print {
  html { font-size: 11px; }
  main { max-width: none; padding: 0; }
  h2 { break-after: avoid; }
  figure.run, .tile, tr, .cell-card { break-inside: avoid; }
  .tiles { grid-template-columns: repeat(6, 1fr); gap: 6px; }
  thead { display: table-header-group; }
  a { color: inherit; text-decoration: none; }
  .badge { border-width: 1px; }
}
`;
