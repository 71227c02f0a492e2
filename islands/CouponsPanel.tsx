/** Promotion codes: create (percent or amount off, duration, limits), list with redemptions, delete. */
import { useState } from "preact/hooks";
import { api, fieldErrors, formMessage } from "./_api.ts";
import { Toast } from "../components/Toast.tsx";
import { amountStep, fromMajorInput, money } from "../components/currency.ts";
import type { publicCoupon } from "@/lib/catalog/coupons.ts";

/** A code as `GET /v1/projects/:pk/coupons` answers it. */
export type CouponRow = ReturnType<typeof publicCoupon>;

function terms(c: CouponRow, currency: string): string {
  const off = c.percentOff !== null
    ? `${c.percentOff}% off`
    : `${money(c.amountOff!, currency)} off`;
  const when = c.duration === "once"
    ? "the first payment"
    : c.duration === "forever"
    ? "every payment"
    : `${c.durationInMonths} months`;
  return `${off}, ${when}`;
}

export default function CouponsPanel(
  props: { pk: string; currency: string; coupons: CouponRow[] },
) {
  const [coupons, setCoupons] = useState(props.coupons);
  const [code, setCode] = useState("");
  const [kind, setKind] = useState<"percent" | "amount">("percent");
  const [value, setValue] = useState("");
  const [duration, setDuration] = useState<CouponRow["duration"]>("once");
  const [months, setMonths] = useState("3");
  const [max, setMax] = useState("");
  const [expires, setExpires] = useState("");
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [message, setMessage] = useState("");
  const [done, setDone] = useState("");
  const [asking, setAsking] = useState<string | null>(null);

  const create = async (e: Event) => {
    e.preventDefault();
    setErrors({});
    setMessage("");
    try {
      const out = await api<{ coupon: CouponRow }>("POST", `/v1/projects/${props.pk}/coupons`, {
        code: code.trim(),
        ...(kind === "percent"
          ? { percentOff: Number(value) }
          : { amountOff: fromMajorInput(value, props.currency) }),
        duration,
        ...(duration === "repeating" ? { durationInMonths: Number(months) } : {}),
        ...(max.trim() ? { maxRedemptions: Number(max) } : {}),
        ...(expires ? { expiresAt: new Date(expires + "T23:59:59Z").toISOString() } : {}),
      });
      setCoupons([...coupons, out.coupon]);
      setCode("");
      setValue("");
      setDone(`Code ${out.coupon.code} created.`);
    } catch (err) {
      setErrors(fieldErrors(err));
      setMessage(formMessage(err));
    }
  };
  const remove = async (c: string) => {
    setAsking(null);
    try {
      await api("DELETE", `/v1/projects/${props.pk}/coupons/${c}`);
      setCoupons(coupons.filter((x) => x.code !== c));
      setDone(`Code ${c} deleted: new checkouts refuse it.`);
    } catch (err) {
      setMessage((err as Error).message);
    }
  };
  const err = (k: string) =>
    errors[k] ? <span class="field-error" role="alert">{errors[k]}</span> : null;

  return (
    <div>
      {coupons.length === 0 ? <p>No promotion codes yet.</p> : (
        <table>
          <thead>
            <tr>
              <th scope="col">Code</th>
              <th scope="col">Discount</th>
              <th scope="col">Redeemed</th>
              <th scope="col">Expires</th>
              <th scope="col">
                <span class="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {coupons.map((c) => (
              <tr key={c.code} data-testid={`coupon-${c.code}`}>
                <td>
                  <code>{c.code}</code>
                </td>
                <td>{terms(c, props.currency)}</td>
                <td>
                  {c.redemptions}
                  {c.maxRedemptions !== null ? ` of ${c.maxRedemptions}` : ""}
                </td>
                <td>{c.expiresAt ? c.expiresAt.slice(0, 10) : "never"}</td>
                <td>
                  {asking === c.code
                    ? (
                      <span role="alertdialog" aria-label={`Delete ${c.code}?`}>
                        <button type="button" class="danger" onClick={() => remove(c.code)}>
                          Delete {c.code}
                        </button>{" "}
                        <button type="button" class="secondary" onClick={() => setAsking(null)}>
                          Cancel
                        </button>
                      </span>
                    )
                    : (
                      <button type="button" class="secondary" onClick={() => setAsking(c.code)}>
                        Delete…
                      </button>
                    )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <form onSubmit={create} aria-labelledby="new-coupon" noValidate>
        <h3 id="new-coupon">New promotion code</h3>
        <label for="coupon-code">
          Code (what customers type)
          <input
            id="coupon-code"
            value={code}
            required
            maxLength={40}
            aria-invalid={errors.code ? "true" : undefined}
            onInput={(e) => setCode(e.currentTarget.value)}
          />
          {err("code")}
        </label>
        <label for="coupon-kind">
          Discount
          <select
            id="coupon-kind"
            value={kind}
            onChange={(e) => setKind(e.currentTarget.value as "percent" | "amount")}
          >
            <option value="percent">Percent off</option>
            <option value="amount">Amount off ({props.currency.toUpperCase()})</option>
          </select>
        </label>
        <label for="coupon-value">
          {kind === "percent" ? "Percent" : `Amount (${props.currency.toUpperCase()})`}
          <input
            id="coupon-value"
            type="number"
            min="0"
            step={kind === "percent" ? "0.01" : amountStep(props.currency)}
            value={value}
            aria-invalid={errors.percentOff || errors.amountOff ? "true" : undefined}
            onInput={(e) => setValue(e.currentTarget.value)}
          />
          {err("percentOff")}
          {err("amountOff")}
        </label>
        <label for="coupon-duration">
          Applies to
          <select
            id="coupon-duration"
            value={duration}
            onChange={(e) => setDuration(e.currentTarget.value as CouponRow["duration"])}
          >
            <option value="once">the first payment</option>
            <option value="repeating">a number of months</option>
            <option value="forever">every payment</option>
          </select>
        </label>
        {duration === "repeating" && (
          <label for="coupon-months">
            Months
            <input
              id="coupon-months"
              type="number"
              min="1"
              max="36"
              value={months}
              onInput={(e) => setMonths(e.currentTarget.value)}
            />
            {err("durationInMonths")}
          </label>
        )}
        <label for="coupon-max">
          At most this many redemptions (blank = no limit)
          <input
            id="coupon-max"
            type="number"
            min="1"
            value={max}
            onInput={(e) => setMax(e.currentTarget.value)}
          />
        </label>
        <label for="coupon-expires">
          Expires after (blank = never)
          <input
            id="coupon-expires"
            type="date"
            value={expires}
            onInput={(e) => setExpires(e.currentTarget.value)}
          />
          {err("expiresAt")}
        </label>
        {message && <p class="form-error" role="alert">{message}</p>}
        <button type="submit">Create code</button>
      </form>
      <Toast message={done} onClose={() => setDone("")} testid="coupon-done" />
    </div>
  );
}
