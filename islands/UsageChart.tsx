/**
 * Usage over time. Without JavaScript it is a table; in the browser uPlot (a maintained chart
 * library, bundled and served by us) draws it.
 */
import { useEffect, useRef } from "preact/hooks";

export default function UsageChart(props: { series: { day: string; count: number }[] }) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    let chart: { destroy(): void } | null = null;
    (async () => {
      const { default: uPlot } = await import("uplot");
      if (!box.current) return;
      const xs = props.series.map((r) => Date.parse(r.day + "T00:00:00Z") / 1000);
      const ys = props.series.map((r) => r.count);
      box.current.dataset.ready = "true";
      chart = new uPlot(
        {
          width: Math.min(800, box.current.clientWidth || 600),
          height: 240,
          title: "Usage per day",
          legend: { show: false },
          series: [{}, { label: "calls", stroke: "#2563eb", fill: "rgba(37,99,235,.15)" }],
          axes: [{}, { label: "calls" }],
        },
        [xs, ys],
        box.current,
      );
    })();
    return () => chart?.destroy();
  }, []);
  const total = props.series.reduce((a, r) => a + r.count, 0);
  return (
    <figure class="chart">
      <div ref={box} class="chart-canvas" aria-hidden="true" />
      <figcaption>Usage per day, last {props.series.length} days: {total} calls</figcaption>
      <details>
        <summary>Data table</summary>
        <table>
          <thead>
            <tr>
              <th scope="col">Day</th>
              <th scope="col">Calls</th>
            </tr>
          </thead>
          <tbody>
            {props.series.map((r) => (
              <tr>
                <td>{r.day}</td>
                <td data-testid={`usage-${r.day}`}>{r.count}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </details>
    </figure>
  );
}
