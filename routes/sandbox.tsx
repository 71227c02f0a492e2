/** /sandbox/checkout/:id and /sandbox/portal/:id — the sandbox's hosted pages and their actions. */
import type { OpenAPIHono } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { AppEnv } from "@/lib/http/context.ts";
import { renderPage } from "@/lib/http/render.tsx";
import { formFields } from "@/lib/http/request.ts";
import { redirectTo } from "@/lib/http/response.ts";
import { originOf } from "@/lib/http/security.ts";
import { Layout } from "@/components/Layout.tsx";
import { AppError, ConflictError, NotFoundError, ValidationError } from "@/lib/errors.ts";
import { promotionFor } from "@/lib/billing/coupons.ts";
import type { SandboxProvider, SandboxSession } from "@/lib/payments/sandbox/provider.ts";
import { sandboxPortal, sandboxPortalAction } from "@/lib/billing/sandbox_portal.ts";
import { type StripeSubscription, subscriptionPeriod } from "@/lib/payments/provider.ts";
import { projectByPk } from "@/lib/projects/projects.ts";
import { dayInWords } from "@/lib/period.ts";
import { money } from "@/components/currency.ts";
import { Email } from "@/lib/schemas.ts";

function sandboxOf(c: Context<AppEnv>): SandboxProvider {
  const sb = c.get("services").sandbox;
  if (!sb) throw new NotFoundError("The sandbox is off: this server uses Stripe");
  return sb;
}

function Banner() {
  return (
    <p class="sandbox-banner" role="note">
      <strong>Sandbox</strong> — no real money moves. Use the test card 4242 4242 4242 4242.
    </p>
  );
}

function CheckoutPage(
  { session, merchant, error }: { session: SandboxSession; merchant: string; error?: string },
) {
  const base = `/sandbox/checkout/${session.id}`;
  const discount = (session as unknown as { total_details?: { amount_discount?: number } })
    .total_details?.amount_discount ?? 0;
  return (
    <Layout title={`Checkout — ${merchant}`} merchant={merchant}>
      <Banner />
      {error && <p class="form-error" role="alert" data-testid="checkout-error">{error}</p>}
      {session.livemode && (
        <p class="warning" role="note" data-testid="no-live-provider">
          <strong>This is a live-mode checkout, but no real payment provider is configured.</strong>
          {" "}
          Nothing is charged and no money moves: the server's operator has not set up Stripe.
        </p>
      )}
      <h1>{session.mode === "subscription" ? "Subscribe" : "Pay"}</h1>
      <table>
        <caption>Order</caption>
        <tbody>
          {session.line_items_expanded.map((li) => (
            <tr>
              {li.quantity === 0
                ? (
                  <>
                    <th scope="row">{li.productName}: usage past the limit</th>
                    <td>
                      {money(li.price.unit_amount ?? 0, li.price.currency)} per{" "}
                      {(li.price as { transform_quantity?: { divide_by: number } | null })
                        .transform_quantity?.divide_by ?? 1}{" "}
                      calls past the limit, billed at each period's end
                    </td>
                  </>
                )
                : (
                  <>
                    <th scope="row">{li.productName} × {li.quantity}</th>
                    <td>
                      {money((li.price.unit_amount ?? 0) * li.quantity, li.price.currency)}
                      {li.price.recurring ? ` / ${li.price.recurring.interval}` : ""}
                    </td>
                  </>
                )}
            </tr>
          ))}
        </tbody>
      </table>
      {(session as unknown as { automatic_tax?: { enabled: boolean } }).automatic_tax?.enabled && (
        <p class="notice" data-testid="tax-note">
          Tax: in live use Stripe Tax calculates it here from your billing address. The sandbox
          charges no tax.
        </p>
      )}
      {(session.trial_days ?? 0) > 0 && (
        <p class="notice" data-testid="trial-terms">
          Free for {session.trial_days}{" "}
          days: nothing is charged today. The card is charged when the trial ends, unless the
          subscription is canceled before.
        </p>
      )}
      <p>
        {(session.trial_days ?? 0) > 0 ? "Due today" : "Total"}:{" "}
        <strong>{money(session.amount_total ?? 0, session.currency ?? "usd")}</strong>
      </p>
      {session.status === "open"
        ? (
          <>
            <form method="post" action={`${base}/complete`}>
              <label>
                Email{" "}
                <input name="email" type="email" required value={session.customer_email ?? ""} />
              </label>
              <label>
                Card number{" "}
                <input
                  name="card"
                  inputMode="numeric"
                  autocomplete="off"
                  value="4242 4242 4242 4242"
                  aria-describedby="card-help"
                />
              </label>
              <p id="card-help" class="muted">
                Test cards: 4242 4242 4242 4242 always pays;{" "}
                4000 0000 0000 0341 is accepted now and declined at the first charge (a trial that
                ends with a failed card).
              </p>
              {discount > 0
                ? (
                  <p data-testid="discount">
                    Discount: −{money(discount, session.currency ?? "usd")}
                  </p>
                )
                : (
                  <label>
                    Promotion code (optional){" "}
                    <input name="promotionCode" autocomplete="off" maxLength={40} />
                  </label>
                )}
              <button type="submit">Pay</button>
            </form>
            <form method="post" action={`${base}/cancel`}>
              <button type="submit" class="secondary">Cancel and go back</button>
            </form>
          </>
        )
        : <p role="status">This checkout is {session.status}.</p>}
    </Layout>
  );
}

function PortalPage(
  { id, sub, tiers, returnUrl, merchant }: {
    id: string;
    sub: StripeSubscription | null;
    tiers: {
      name: string;
      displayName: string;
      price: number;
      currency: string;
      archived?: boolean;
      priceId?: string | null;
    }[];
    returnUrl: string;
    merchant: string;
  },
) {
  const base = `/sandbox/portal/${id}`;
  const price = sub?.items.data[0]?.price;
  const current = tiers.find((t) => t.priceId && t.priceId === price?.id);
  const periodEnd = sub ? subscriptionPeriod(sub).end : null;
  const endDay = periodEnd ? dayInWords(periodEnd * 1000) : null;
  const others = tiers.filter((t) => t.price > 0 && !t.archived && t !== current);
  return (
    <Layout title={`Billing — ${merchant}`} merchant={merchant}>
      <Banner />
      <h1>Your subscription</h1>
      {sub && price
        ? (
          <>
            <p data-testid="portal-plan">
              <strong>{current?.displayName ?? "Your plan"}</strong> —{" "}
              {money(price.unit_amount ?? 0, price.currency)} / {price.recurring?.interval},{" "}
              {sub.status}
              {endDay
                ? sub.cancel_at_period_end ? `, cancels on ${endDay}` : `, renews on ${endDay}`
                : ""}
            </p>
            <form
              method="post"
              action={`${base}/${sub.cancel_at_period_end ? "resume" : "cancel"}`}
            >
              <button type="submit">
                {sub.cancel_at_period_end ? "Keep my subscription" : "Cancel subscription"}
              </button>
            </form>
            {others.length > 0 && (
              <form method="post" action={`${base}/switch`}>
                <label>
                  Switch to{" "}
                  <select name="tier">
                    {others.map((t) => (
                      <option key={t.name} value={t.name}>
                        {t.displayName} ({money(t.price, t.currency)})
                      </option>
                    ))}
                  </select>
                </label>
                <button type="submit">Switch plan</button>
              </form>
            )}
          </>
        )
        : <p>No active subscription.</p>}
      <p>
        <a href={returnUrl}>Return</a>
      </p>
    </Layout>
  );
}

/** Form posts (the pages) are redirected; API calls get JSON. */
async function wantsRedirect(
  c: Context<AppEnv>,
): Promise<{ form: boolean; body: Record<string, string> }> {
  const ctype = c.req.header("Content-Type") ?? "";
  if (
    ctype.includes("application/x-www-form-urlencoded") || ctype.includes("multipart/form-data")
  ) {
    return { form: true, body: await formFields(c) };
  }
  const text = await c.req.text();
  if (!text.trim()) return { form: false, body: {} };
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new ValidationError("Malformed JSON in request body");
  }
  // only string fields are read; anything else counts as absent
  const fields = typeof parsed === "object" && parsed && !Array.isArray(parsed)
    ? Object.entries(parsed).filter(([, v]) => typeof v === "string")
    : [];
  return { form: false, body: Object.fromEntries(fields) as Record<string, string> };
}

export function mountSandboxRoutes(app: OpenAPIHono<AppEnv>) {
  app.get("/sandbox/checkout/:id", async (c) => {
    const session = await sandboxOf(c).session(c.req.param("id"));
    // Pay and Cancel post here and are redirected to the shop's own return URLs
    c.set(
      "formTargets",
      [originOf(session.success_url), originOf(session.cancel_url)].filter((o) => o !== null),
    );
    const pk = session.metadata?.dream_pk;
    const merchant = pk
      ? (await projectByPk(c.get("services"), pk))?.name ?? "Checkout"
      : "dream-api";
    return c.html(renderPage(<CheckoutPage session={session} merchant={merchant} />));
  });

  for (const action of ["complete", "cancel", "expire"] as const) {
    app.post(`/sandbox/checkout/:id/${action}`, async (c) => {
      const sb = sandboxOf(c);
      const id = c.req.param("id")!;
      const { form, body } = await wantsRedirect(c);
      // an email is checked as the provider's page checks it
      const badEmail = !!body.email && !Email.safeParse(body.email).success;
      if (action === "complete" && (body.promotionCode || badEmail)) {
        const s = c.get("services");
        const session = await sb.session(id);
        const project = await projectByPk(s, session.metadata?.dream_pk ?? "");
        try {
          if (badEmail) {
            throw new ValidationError("Enter a valid email address", [{
              field: "email",
              message: "not an email address",
            }]);
          }
          if (body.promotionCode) {
            // a code typed on the page: checked against the shop's codes, then applied
            if (!project) throw new ValidationError("This checkout takes no promotion codes");
            const promo = await promotionFor(s, project, body.promotionCode);
            await sb.applyPromotionCode(id, promo);
          }
        } catch (err) {
          if (!(err instanceof AppError) || !form) throw err;
          return c.html(
            renderPage(
              <CheckoutPage
                session={session}
                merchant={project?.name ?? "Checkout"}
                error={err.message}
              />,
            ),
            422,
          );
        }
      }
      const done = action === "complete"
        ? await sb.completeCheckout(id, {
          email: body.email?.trim() || undefined,
          card: body.card || undefined,
        })
        : await sb.expireCheckout(id);
      if (!done) throw new ConflictError(`This checkout session is no longer open`);
      const to = action === "complete" ? done.success_url : done.cancel_url;
      if (form && to && action !== "expire") return redirectTo(c, to, 303);
      return c.json({
        id: done.id,
        status: done.status,
        redirectUrl: action === "expire" ? null : to ?? null,
      });
    });
  }

  app.get("/sandbox/portal/:id", async (c) => {
    const { portal, subscription, project } = await sandboxPortal(
      c.get("services"),
      sandboxOf(c),
      c.req.param("id"),
    );
    return c.html(renderPage(
      <PortalPage
        id={portal.id}
        sub={subscription}
        tiers={project?.tiers ?? []}
        returnUrl={portal.return_url}
        merchant={project?.name ?? "Billing"}
      />,
    ));
  });

  for (const action of ["cancel", "resume", "switch"] as const) {
    app.post(`/sandbox/portal/:id/${action}`, async (c) => {
      const id = c.req.param("id")!;
      const { form, body } = await wantsRedirect(c);
      const next = await sandboxPortalAction(c.get("services"), sandboxOf(c), {
        portalId: id,
        action,
        tier: body.tier,
      });
      if (form) return redirectTo(c, `/sandbox/portal/${encodeURIComponent(id)}`, 303);
      return c.json({
        subscription: {
          id: next.id,
          status: next.status,
          cancelAtPeriodEnd: next.cancel_at_period_end,
        },
      });
    });
  }
}
