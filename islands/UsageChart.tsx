/**
 * A daily series over time (usage, MRR, revenue). Without JavaScript it is a table; in the
 * browser uPlot (a maintained chart library, bundled and served by us) draws it. Counts get
 * whole-number ticks; money (`currency` set) is in minor units and shown as an amount.
 */
import { useEffect, useRef } from "preact/hooks";
import { money } from "../components/MetricCard.tsx";

export interface ChartProps {
  series: { day: string; count: number }[];
  /** "Usage per day" unless given. */
  title?: string;
  /** What a value is ("calls"); with `currency`, an amount. */
  unit?: string;
  currency?: string;
  /** data-testid prefix of the table cells ("usage" → usage-2026-11-24). */
  testPrefix?: string;
  /** The caption's figure: the total over the days (default) or the last day's value (MRR). */
  summary?: "total" | "last";
  /** What a point is: "days" (default) or, for instance, "billing periods". */
  spanWord?: string;
  /** The data table's first column ("Day" unless given). */
  xLabel?: string;
}

export default function UsageChart(props: ChartProps) {
  const box = useRef<HTMLDivElement>(null);
  const title = props.title ?? "Usage per day";
  const unit = props.unit ?? "calls";
  const fmt = (v: number) => (props.currency ? money(v, props.currency) : String(v));
  useEffect(() => {
    let chart: { destroy(): void } | null = null;
    let resize: ResizeObserver | null = null;
    (async () => {
      const { default: uPlot } = await import("uplot");
      if (!box.current) return;
      const xs = props.series.map((r) => Date.parse(r.day + "T00:00:00Z") / 1000);
      const ys = props.series.map((r) => r.count);
      box.current.dataset.ready = "true";
      // whole steps only: no "2.5 calls" (money steps are whole cents, shown as amounts)
      const incrs = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1_000, 2_000, 5_000, 10_000, 20_000]
        .flatMap((n) => [n, n * 100_000]).sort((a, b) => a - b);
      chart = new uPlot(
        {
          width: box.current.clientWidth || 600,
          height: 240,
          title,
          legend: { show: false },
          series: [{}, { label: unit, stroke: "#2563eb", fill: "rgba(37,99,235,.15)" }],
          scales: { y: { range: (_u, min, max) => [Math.min(0, min), Math.max(1, max)] } },
          axes: [{}, {
            label: unit,
            incrs,
            size: props.currency ? 80 : 50,
            values: (_u, vals) => vals.map((v) => fmt(v)),
          }],
        },
        [xs, ys],
        box.current,
      );
      // the plot fills its card, also after the window is resized
      const c = chart as unknown as { setSize(s: { width: number; height: number }): void };
      resize = new ResizeObserver(() => {
        if (box.current) c.setSize({ width: box.current.clientWidth, height: 240 });
      });
      resize.observe(box.current);
    })();
    return () => {
      resize?.disconnect();
      chart?.destroy();
    };
  }, []);
  const total = props.series.reduce((a, r) => a + r.count, 0);
  const prefix = props.testPrefix ?? "usage";
  return (
    <figure class="chart">
      <div ref={box} class="chart-canvas" aria-hidden="true" />
      <figcaption>
        {`${title}, ${props.series.length} ${props.spanWord ?? "days"}: ${
          props.summary === "last"
            ? `${fmt(props.series.at(-1)?.count ?? 0)} on the last day`
            : props.currency
            ? `${fmt(total)} in all`
            : `${total} ${unit}`
        }`}
      </figcaption>
      <details>
        <summary>Data table</summary>
        <table>
          <thead>
            <tr>
              <th scope="col">{props.xLabel ?? "Day"}</th>
              <th scope="col">
                {props.currency ? "Amount" : unit[0]!.toUpperCase() + unit.slice(1)}
              </th>
            </tr>
          </thead>
          <tbody>
            {props.series.map((r) => (
              <tr key={r.day}>
                <td>{r.day}</td>
                <td data-testid={`${prefix}-${r.day}`}>{fmt(r.count)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </details>
    </figure>
  );
}
