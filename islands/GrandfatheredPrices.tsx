/**
 * Subscribers still on a tier's older prices (a price change never moves them), and the action
 * that moves them to the current price at their next renewal, after a confirmation.
 */
import { useState } from "preact/hooks";
import { api } from "./_api.ts";
import { Toast } from "../components/Toast.tsx";
import { money } from "../components/currency.ts";

export interface TierPriceRow {
  tier: string;
  current: { amount: number; currency: string; subscribers: number };
  older: { priceId: string | null; amount: number; currency: string; subscribers: number }[];
}

export default function GrandfatheredPrices(props: { pk: string; rows: TierPriceRow[] }) {
  const [rows, setRows] = useState(props.rows);
  const [asking, setAsking] = useState<string | null>(null);
  const [done, setDone] = useState("");
  const [error, setError] = useState("");
  const move = async (tier: string) => {
    setAsking(null);
    setError("");
    try {
      const out = await api<{ moved: number }>(
        "POST",
        `/v1/projects/${props.pk}/tiers/${tier}/move-subscribers`,
      );
      setRows(rows.filter((r) => r.tier !== tier));
      setDone(`${out.moved} subscriber(s) of ${tier} pay the current price from their renewal.`);
    } catch (err) {
      setError((err as Error).message);
    }
  };
  return (
    <section aria-labelledby="older-prices">
      <h2 id="older-prices">Subscribers on older prices</h2>
      <p class="muted">
        A price change applies to new checkouts only: current subscribers keep paying what they
        signed up for until you move them.
      </p>
      {rows.length === 0
        ? <p data-testid="no-older-prices">Every subscriber pays the current price.</p>
        : rows.map((r) => (
          <div class="older-prices" data-testid={`older-${r.tier}`} key={r.tier}>
            <p>
              <strong>{r.tier}</strong>: now {money(r.current.amount, r.current.currency)}{" "}
              ({r.current.subscribers} subscriber{r.current.subscribers === 1 ? "" : "s"});{" "}
              {r.older.map((o, i) => (
                <span key={o.priceId}>
                  {i > 0 ? ", " : ""}
                  {o.subscribers} on {money(o.amount, o.currency)}
                </span>
              ))}
            </p>
            {asking === r.tier
              ? (
                <div class="confirm" role="alertdialog" aria-labelledby={`move-${r.tier}`}>
                  <p id={`move-${r.tier}`}>
                    <strong>
                      Move them to {money(r.current.amount, r.current.currency)}{" "}
                      from their next renewal?
                    </strong>{" "}
                    The period they paid stays as it is.
                  </p>
                  <button type="button" onClick={() => move(r.tier)}>Move at renewal</button>{" "}
                  <button type="button" class="secondary" onClick={() => setAsking(null)}>
                    Cancel
                  </button>
                </div>
              )
              : (
                <button type="button" class="secondary" onClick={() => setAsking(r.tier)}>
                  Move them to the current price…
                </button>
              )}
          </div>
        ))}
      {error && <p class="form-error" role="alert">{error}</p>}
      <Toast message={done} onClose={() => setDone("")} testid="moved-done" />
    </section>
  );
}
