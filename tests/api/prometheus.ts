/**
 * A small checker for the Prometheus text format (0.0.4): every sample line is
 * `name{label="value",...} number`, every family has HELP and TYPE before its samples,
 * histogram buckets are cumulative and end with le="+Inf" equal to _count (per label set). Empty lines are
 * ignored, as the format says (prom-client separates families with one).
 */
const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*",?)*\})? (-?(?:\d+(?:\.\d+)?(?:e[+-]?\d+)?|\+Inf|-Inf|NaN))$/;

export interface ParsedSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export function parsePrometheus(text: string): { samples: ParsedSample[]; types: Record<string, string> } {
  if (!text.endsWith('\n')) throw new Error('exposition must end with a newline');
  const types: Record<string, string> = {};
  const helps = new Set<string>();
  const samples: ParsedSample[] = [];
  for (const line of text.slice(0, -1).split('\n')) {
    const meta = line.match(/^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.+)$/);
    if (meta) {
      if (meta[1] === 'HELP') helps.add(meta[2]);
      else {
        if (!['counter', 'gauge', 'histogram', 'summary', 'untyped'].includes(meta[3])) throw new Error(`bad TYPE: ${line}`);
        types[meta[2]] = meta[3];
      }
      continue;
    }
    if (line.startsWith('#') || line === '') continue;
    const m = line.match(SAMPLE);
    if (!m) throw new Error(`not a sample line: ${JSON.stringify(line)}`);
    const name = m[1];
    const family = types[name] ? name : name.replace(/_(bucket|sum|count)$/, '');
    if (!types[family] || !helps.has(family)) throw new Error(`sample ${name} before its HELP/TYPE`);
    const labels: Record<string, string> = {};
    for (const [, k, v] of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[k] = v;
    const value = m[3] === '+Inf' ? Infinity : m[3] === '-Inf' ? -Infinity : Number(m[3]);
    samples.push({ name, labels, value });
  }
  // Per series (the labels other than le): buckets cumulative, le="+Inf" last and equal to _count.
  const series = (s: ParsedSample) => JSON.stringify(Object.entries(s.labels).filter(([k]) => k !== 'le').sort());
  for (const [family, type] of Object.entries(types)) {
    if (type !== 'histogram') continue;
    const keys = new Set(samples.filter((s) => s.name === `${family}_count` || s.name === `${family}_bucket`).map(series));
    for (const key of keys) {
      const buckets = samples.filter((s) => s.name === `${family}_bucket` && series(s) === key);
      for (let i = 1; i < buckets.length; i++) if (buckets[i].value < buckets[i - 1].value) throw new Error(`${family} buckets are not cumulative`);
      const count = samples.find((s) => s.name === `${family}_count` && series(s) === key);
      if (buckets.at(-1)?.labels.le !== '+Inf' || buckets.at(-1)?.value !== count?.value) throw new Error(`${family} must end with le="+Inf" equal to _count`);
    }
  }
  return { samples, types };
}
