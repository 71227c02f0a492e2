/** One customer's actions, each after a confirmation: reset usage, cancel subscription, delete. */
import { useState } from "preact/hooks";
import { api } from "./_api.ts";
import { Toast } from "../components/Toast.tsx";

export interface CustomerActionsProps {
  pk: string;
  id: string;
  /** Whether a paying subscription can be canceled, and whether it already cancels at period end. */
  paying: boolean;
  cancelsAtPeriodEnd: boolean;
  /** Calls past the limit this period (a tier with overage): what ending the plan bills. */
  overage?: number;
}

export type Action = "reset" | "cancel_end" | "cancel_now" | "delete";

/** What each action asks first; `overage`: the calls past the limit this period. */
export function ask(a: Action, overage: number): string {
  const past = overage === 1
    ? "1 call past the limit this period is"
    : `${overage} calls past the limit this period are`;
  switch (a) {
    case "reset":
      return "Set this customer's usage this period to 0?";
    case "cancel_end":
      return "Cancel at the end of the paid period? The plan stays until then; it can be undone by the customer.";
    case "cancel_now":
      return `Cancel now? The plan ends at once, with no refund or proration${
        overage > 0 ? `; the ${past} billed on a final invoice` : ""
      }. This can't be undone.`;
    case "delete":
      return `Delete this customer's data? A paying subscription is canceled first${
        overage > 0 ? ` (the ${past} not billed)` : ""
      }. This can't be undone.`;
  }
}
const LABEL: Record<Action, string> = {
  reset: "Reset usage",
  cancel_end: "Cancel at period end",
  cancel_now: "Cancel now",
  delete: "Delete customer",
};

export default function CustomerActions(props: CustomerActionsProps) {
  const [asking, setAsking] = useState<Action | null>(null);
  const [error, setError] = useState("");
  const [done, setDone] = useState("");
  const base = `/v1/projects/${props.pk}/customers/${encodeURIComponent(props.id)}`;

  const run = async (a: Action) => {
    setAsking(null);
    setError("");
    try {
      if (a === "reset") await api("POST", `${base}/usage/reset`);
      if (a === "cancel_end") {
        await api("POST", `${base}/subscription/cancel`, { atPeriodEnd: true });
      }
      if (a === "cancel_now") await api("POST", `${base}/subscription/cancel`, {});
      if (a === "delete") {
        await api("DELETE", base);
        location.assign(`/dashboard/projects/${props.pk}/customers`);
        return;
      }
      setDone(`${LABEL[a]}: done.`);
      location.reload();
    } catch (err) {
      setError((err as Error).message);
    }
  };
  const actions: Action[] = [
    "reset",
    ...(props.paying && !props.cancelsAtPeriodEnd ? ["cancel_end" as const] : []),
    ...(props.paying ? ["cancel_now" as const] : []),
    "delete",
  ];
  return (
    <section aria-labelledby="actions-title">
      <h2 id="actions-title">Actions</h2>
      <p class="actions">
        {actions.map((a) => (
          <>
            <button
              type="button"
              class={a === "reset" ? "secondary" : "danger"}
              onClick={() => setAsking(a)}
            >
              {LABEL[a]}…
            </button>
            {" "}
          </>
        ))}
      </p>
      {asking && (
        <div class="confirm" role="alertdialog" aria-labelledby="action-confirm">
          <p id="action-confirm">
            <strong>{ask(asking, props.overage ?? 0)}</strong>
          </p>
          <button type="button" class="danger" onClick={() => run(asking)}>
            {LABEL[asking]}
          </button>{" "}
          <button type="button" class="secondary" onClick={() => setAsking(null)}>Cancel</button>
        </div>
      )}
      {error && <p class="form-error" role="alert">{error}</p>}
      <Toast message={done} onClose={() => setDone("")} testid="action-done" />
    </section>
  );
}
