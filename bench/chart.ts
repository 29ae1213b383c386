/**
 * Draws two SVG charts from a benchmark result: per-step overhead over the baseline (per system, at each
 * model latency, with the platform's floor beside it) and stored bytes per step as a run grows (10 vs 150 rounds).
 * `tsx bench/chart.ts bench/results/<file>.json docs/` writes docs/bench-overhead.svg and docs/bench-bytes.svg.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/* eslint-disable @typescript-eslint/no-explicit-any */
type Json = any;
const COLORS: Record<string, string> = {
  temporal: '#5b6ee1',
  'langgraph-sqlite': '#2f9e77',
  'langgraph-memory': '#d9822b',
  'floor (no-op steps)': '#b8bfe8',
};
const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');

interface Bar {
  group: string;
  series: string;
  value: number;
  label: string;
}

function barChart(title: string, unit: string, bars: Bar[]): string {
  const groups = [...new Set(bars.map((b) => b.group))];
  const series = [...new Set(bars.map((b) => b.series))];
  const max = Math.max(...bars.map((b) => b.value)) * 1.15;
  const W = 720;
  const H = 320;
  const left = 60;
  const bottom = 60;
  const top = 40;
  const plotH = H - top - bottom;
  const groupW = (W - left - 20) / groups.length;
  const barW = Math.min(60, (groupW - 30) / series.length);
  const y = (v: number): number => top + plotH - (v / max) * plotH;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="system-ui, sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="#fff"/>`,
    `<text x="${left}" y="22" font-size="15" font-weight="600">${esc(title)}</text>`,
    `<line x1="${left}" y1="${top}" x2="${left}" y2="${top + plotH}" stroke="#999"/>`,
    `<line x1="${left}" y1="${top + plotH}" x2="${W - 20}" y2="${top + plotH}" stroke="#999"/>`,
  ];
  for (let i = 0; i <= 4; i++) {
    const v = (max / 4) * i;
    parts.push(
      `<text x="${left - 6}" y="${y(v) + 4}" text-anchor="end" fill="#555">${v >= 100 ? Math.round(v).toLocaleString('en-US') : v.toFixed(1)}</text>`,
      `<line x1="${left}" y1="${y(v)}" x2="${W - 20}" y2="${y(v)}" stroke="#eee"/>`,
    );
  }
  parts.push(
    `<text x="14" y="${top + plotH / 2}" transform="rotate(-90 14 ${top + plotH / 2})" text-anchor="middle" fill="#555">${esc(unit)}</text>`,
  );
  groups.forEach((g, gi) => {
    const x0 = left + gi * groupW + (groupW - barW * series.length) / 2;
    series.forEach((s, si) => {
      const b = bars.find((x) => x.group === g && x.series === s);
      if (!b) return;
      const x = x0 + si * barW;
      parts.push(
        `<rect x="${x + 3}" y="${y(b.value)}" width="${barW - 6}" height="${top + plotH - y(b.value)}" fill="${COLORS[s] ?? '#888'}"/>`,
        `<text x="${x + barW / 2}" y="${y(b.value) - 4}" text-anchor="middle">${esc(b.label)}</text>`,
      );
    });
    parts.push(
      `<text x="${left + gi * groupW + groupW / 2}" y="${top + plotH + 18}" text-anchor="middle">${esc(g)}</text>`,
    );
  });
  series.forEach((s, si) => {
    const x = left + si * 170;
    parts.push(
      `<rect x="${x}" y="${H - 22}" width="12" height="12" fill="${COLORS[s] ?? '#888'}"/>`,
      `<text x="${x + 18}" y="${H - 12}">${esc(s)}</text>`,
    );
  });
  parts.push('</svg>');
  return parts.join('\n') + '\n';
}

export function charts(r: Json): { overhead: string; bytes: string } {
  const overheadBars: Bar[] = [];
  for (const o of Object.values<Json>(r.overhead)) {
    for (const s of ['temporal', 'langgraph-sqlite', 'langgraph-memory']) {
      if (!o.systems[s]) continue; // quick mode leaves MemorySaver out at 200 ms
      const v = o.systems[s].overheadPerStepMs.median;
      overheadBars.push({
        group: `model latency ${o.latencyMs} ms`,
        series: s,
        value: Math.max(0, v),
        label: `${v.toFixed(1)} ms`,
      });
    }
  }
  // What a step of nothing costs on the same server and SDK: the floor under the temporal bar.
  if (r.floor) {
    const v = r.floor.perStepMs.median;
    overheadBars.push({
      group: 'model latency 0 ms',
      series: 'floor (no-op steps)',
      value: v,
      label: `${v.toFixed(1)} ms`,
    });
  }
  const bytesBars: Bar[] = [];
  for (const [key, per] of Object.entries<Json>(r.historySize)) {
    const rounds = key.replace('rounds', '');
    bytesBars.push({
      group: `${rounds} rounds`,
      series: 'temporal',
      value: per.temporal.bytesPerStep,
      label: `${(per.temporal.bytesPerStep / 1024).toFixed(1)} KB`,
    });
    const l = per['langgraph-sqlite'];
    bytesBars.push({
      group: `${rounds} rounds`,
      series: 'langgraph-sqlite',
      value: l.bytesPerStep,
      label: `${(l.bytesPerStep / 1024).toFixed(1)} KB`,
    });
  }
  return {
    overhead: barChart('Per-step overhead over a plain loop (median)', 'ms per step', overheadBars),
    bytes: barChart('Stored bytes per step as the run grows', 'bytes per step', bytesBars),
  };
}

if (require.main === module) {
  const [file, dir] = process.argv.slice(2);
  if (!file || !dir) {
    process.stderr.write('usage: tsx bench/chart.ts bench/results/<file>.json <output dir>\n');
    process.exitCode = 2;
  } else {
    const c = charts(JSON.parse(readFileSync(file, 'utf8')));
    writeFileSync(join(dir, 'bench-overhead.svg'), c.overhead);
    writeFileSync(join(dir, 'bench-bytes.svg'), c.bytes);
    process.stderr.write(`wrote ${join(dir, 'bench-overhead.svg')} and ${join(dir, 'bench-bytes.svg')}\n`);
  }
}
