/** Refund an order (all or part, optionally restocking its items), after a confirmation. */
import { useState } from "preact/hooks";
import { api, fieldErrors } from "./_api.ts";
import { money } from "../components/MetricCard.tsx";
import { fromMajorInput, toMajorInput } from "../components/currency.ts";
import { Toast } from "../components/Toast.tsx";

export interface RefundProps {
  pk: string;
  id: string;
  /** Minor units left to refund, and the currency to show them in. */
  left: number;
  currency: string;
  restocked: boolean;
}

export default function RefundForm(props: RefundProps) {
  const [left, setLeft] = useState(props.left);
  const [amount, setAmount] = useState(toMajorInput(props.left, props.currency));
  const [restock, setRestock] = useState(false);
  const [confirming, setConfirming] = useState(false);
  const [error, setError] = useState("");
  const [done, setDone] = useState("");
  const cents = fromMajorInput(amount, props.currency);
  const valid = Number.isFinite(cents) && cents > 0 && cents <= left;

  const refund = async () => {
    setConfirming(false);
    setError("");
    try {
      const out = await api<{ order: { amountTotal: number; amountRefunded: number } }>(
        "POST",
        `/v1/projects/${props.pk}/orders/${props.id}/refund`,
        { amount: cents, ...(restock ? { restock: true } : {}) },
      );
      const rest = out.order.amountTotal - out.order.amountRefunded;
      setLeft(rest);
      setAmount(toMajorInput(rest, props.currency));
      setDone(
        `Refunded ${money(cents, props.currency)}${restock ? " and restocked the items" : ""}.`,
      );
    } catch (err) {
      setError(fieldErrors(err).amount ?? (err as Error).message);
    }
  };

  if (left <= 0) {
    return <p role="status" data-testid="refund-done">{done || "This order is fully refunded."}</p>;
  }
  return (
    <form
      aria-labelledby="refund-title"
      onSubmit={(e) => {
        e.preventDefault();
        if (valid) setConfirming(true);
      }}
    >
      <h2 id="refund-title">Refund</h2>
      <label for="refund-amount">
        Amount ({props.currency.toUpperCase()}, at most {money(left, props.currency)})
        <input
          id="refund-amount"
          inputMode="decimal"
          value={amount}
          aria-invalid={valid ? undefined : "true"}
          onInput={(e) => {
            setAmount(e.currentTarget.value);
            setConfirming(false);
          }}
        />
      </label>
      {!props.restocked && (
        <label for="refund-restock" class="check">
          <input
            id="refund-restock"
            type="checkbox"
            checked={restock}
            onChange={(e) => setRestock(e.currentTarget.checked)}
          />{" "}
          Put the items back in stock
        </label>
      )}
      <button type="submit" class="danger" disabled={!valid}>Refund…</button>
      {confirming && (
        <div class="confirm" role="alertdialog" aria-labelledby="refund-confirm">
          <p id="refund-confirm">
            <strong>Refund {money(cents, props.currency)} to the buyer's card?</strong>{" "}
            This can't be undone{restock ? "; the items go back in stock" : ""}.
          </p>
          <button type="button" class="danger" onClick={refund}>Refund now</button>{" "}
          <button type="button" class="secondary" onClick={() => setConfirming(false)}>
            Cancel
          </button>
        </div>
      )}
      {error && <p class="form-error" role="alert">{error}</p>}
      <Toast message={done} onClose={() => setDone("")} testid="refund-toast" />
    </form>
  );
}
