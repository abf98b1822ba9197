// A line chart on a canvas, for the live message-rate and queue-depth charts: a rolling
// window of points per series, drawn again whenever a point is added. No library.

const COLORS = ['--series-1', '--series-2', '--series-3', '--series-4'];
const WINDOW = 60;

export class LineChart {
  /** `series`: names, in legend order. */
  constructor(title, series, unit = '') {
    this.series = series;
    this.unit = unit;
    this.points = [];
    this.canvas = document.createElement('canvas');
    this.canvas.className = 'chart';
    this.canvas.setAttribute('role', 'img');
    this.canvas.setAttribute('aria-label', title);
    this.element = document.createElement('div');
    const heading = document.createElement('h2');
    heading.textContent = title;
    const legend = document.createElement('div');
    legend.className = 'legend';
    this.values = series.map((name, i) => {
      const s = document.createElement('span');
      s.className = `s${i + 1}`;
      s.textContent = name;
      legend.append(s);
      return s;
    });
    this.element.append(heading, this.canvas, legend);
  }

  /** Add one sample: a number per series, at time `at` (ms). */
  add(at, values) {
    this.points.push({ at, values });
    if (this.points.length > WINDOW) this.points.shift();
    values.forEach((v, i) => (this.values[i].textContent = `${this.series[i]} ${format(v)}${this.unit}`));
    this.draw();
  }

  draw() {
    const c = this.canvas;
    const ratio = window.devicePixelRatio || 1;
    const width = c.clientWidth || 400;
    const height = c.clientHeight || 200;
    c.width = width * ratio;
    c.height = height * ratio;
    const g = c.getContext('2d');
    g.scale(ratio, ratio);
    g.clearRect(0, 0, width, height);
    const style = getComputedStyle(document.documentElement);
    const left = 48;
    const bottom = height - 18;
    const max = niceMax(Math.max(1, ...this.points.flatMap((p) => p.values)));
    g.strokeStyle = style.getPropertyValue('--line');
    g.fillStyle = style.getPropertyValue('--muted');
    g.font = '11px system-ui, sans-serif';
    g.lineWidth = 1;
    for (let i = 0; i <= 4; i++) {
      const y = bottom - (bottom - 8) * (i / 4);
      g.beginPath();
      g.moveTo(left, y);
      g.lineTo(width - 4, y);
      g.stroke();
      g.fillText(format((max * i) / 4), 4, y + 4);
    }
    if (this.points.length === 0) return;
    const t0 = this.points[0].at;
    const span = Math.max(1, this.points[this.points.length - 1].at - t0);
    const x = (at) => left + ((width - 4 - left) * (at - t0)) / span;
    const y = (v) => bottom - ((bottom - 8) * v) / max;
    this.series.forEach((_, i) => {
      g.strokeStyle = style.getPropertyValue(COLORS[i % COLORS.length]);
      g.lineWidth = 2;
      g.beginPath();
      this.points.forEach((p, k) => (k === 0 ? g.moveTo(x(p.at), y(p.values[i])) : g.lineTo(x(p.at), y(p.values[i]))));
      g.stroke();
    });
    g.fillStyle = style.getPropertyValue('--muted');
    g.fillText(`last ${Math.round(span / 1000)} s`, width - 70, height - 4);
  }
}

function niceMax(v) {
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 5, 10]) if (v <= m * p) return m * p;
  return 10 * p;
}

function format(v) {
  if (v >= 1e6) return `${(v / 1e6).toFixed(1)}M`;
  if (v >= 1e4) return `${(v / 1e3).toFixed(0)}k`;
  return Number.isInteger(v) ? String(v) : v.toFixed(1);
}
