/** One dashboard number with its label. */
export function MetricCard(props: { label: string; value: string | number; testId: string }) {
  return (
    <div class="metric">
      <dt>{props.label}</dt>
      <dd data-testid={props.testId}>{props.value}</dd>
    </div>
  );
}

export { money } from "./currency.ts";
