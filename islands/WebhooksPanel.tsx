/**
 * Outbound webhook endpoints: add one (its secret shown once), send a test, rotate the secret,
 * delete, re-enable a disabled one, and read each endpoint's deliveries with a retry button.
 */
import { useState } from "preact/hooks";
import { api, fieldErrors, formMessage } from "./_api.ts";
import SecretOnce from "./SecretOnce.tsx";
import { Toast } from "../components/Toast.tsx";
import type { publicEndpoint } from "@/lib/outbound/endpoints.ts";
import type { publicDelivery } from "@/lib/outbound/admin.ts";

/** An endpoint and a delivery as the webhooks API answers them. */
export type EndpointRow = ReturnType<typeof publicEndpoint>;
type DeliveryRow = ReturnType<typeof publicDelivery>;

export default function WebhooksPanel(
  props: { pk: string; endpoints: EndpointRow[]; eventTypes: string[] },
) {
  const base = `/v1/projects/${props.pk}/webhooks`;
  const [endpoints, setEndpoints] = useState(props.endpoints);
  const [url, setUrl] = useState("");
  const [types, setTypes] = useState<string[]>([]);
  const [secret, setSecret] = useState<string | null>(null);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [message, setMessage] = useState("");
  const [done, setDone] = useState("");
  const [asking, setAsking] = useState<string | null>(null);
  const [log, setLog] = useState<{ id: string; deliveries: DeliveryRow[] } | null>(null);

  const act = async (fn: () => Promise<void>) => {
    setMessage("");
    try {
      await fn();
    } catch (err) {
      setErrors(fieldErrors(err));
      setMessage(formMessage(err));
    }
  };
  const showLog = (id: string) =>
    act(async () => {
      const out = await api<{ deliveries: DeliveryRow[] }>("GET", `${base}/${id}/deliveries`);
      setLog({ id, deliveries: out.deliveries });
    });

  return (
    <div>
      {endpoints.length === 0 ? <p>No endpoints yet.</p> : (
        <ul class="endpoints">
          {endpoints.map((e) => (
            <li key={e.id} data-testid={`endpoint-${e.id}`}>
              <p>
                <code>{e.url}</code> {e.disabled
                  ? <span class="badge archived" data-testid="endpoint-disabled">Disabled</span>
                  : e.failingSince
                  ? <span class="badge test">Failing since {e.failingSince.slice(0, 16)}</span>
                  : <span class="badge live">Active</span>}
                {!e.disabled && e.nextAttemptAt && (
                  <span class="muted" data-testid="endpoint-backoff">
                    {" "}
                    {e.failuresInARow} failed in a row · next attempt{" "}
                    {e.nextAttemptAt.slice(0, 16).replace("T", " ")} UTC
                  </span>
                )}
              </p>
              <p class="muted">{e.events.join(", ")}</p>
              <p class="actions">
                <button
                  type="button"
                  class="secondary"
                  onClick={() =>
                    act(async () => {
                      await api("POST", `${base}/${e.id}/test`);
                      setDone("Test event queued: it is sent within a second.");
                    })}
                >
                  Send test event
                </button>{" "}
                <button type="button" class="secondary" onClick={() => showLog(e.id)}>
                  Deliveries
                </button>{" "}
                <button
                  type="button"
                  class="secondary"
                  onClick={() =>
                    act(async () => {
                      const out = await api<{ secret: string }>("POST", `${base}/${e.id}/rotate`);
                      setSecret(out.secret);
                      setDone("New secret made: the old one also signs for 24 hours.");
                    })}
                >
                  Rotate secret
                </button>{" "}
                {e.disabled && (
                  <button
                    type="button"
                    onClick={() =>
                      act(async () => {
                        await api("POST", `${base}/${e.id}/enable`);
                        setEndpoints(
                          endpoints.map((x) =>
                            x.id === e.id
                              ? {
                                ...x,
                                disabled: false,
                                failingSince: null,
                                failuresInARow: 0,
                                nextAttemptAt: null,
                              }
                              : x
                          ),
                        );
                        setDone("Endpoint enabled again.");
                      })}
                  >
                    Enable
                  </button>
                )} {asking === e.id
                  ? (
                    <span role="alertdialog" aria-label={`Delete ${e.url}?`}>
                      <button
                        type="button"
                        class="danger"
                        onClick={() =>
                          act(async () => {
                            setAsking(null);
                            await api("DELETE", `${base}/${e.id}`);
                            setEndpoints(endpoints.filter((x) => x.id !== e.id));
                            setDone("Endpoint deleted.");
                          })}
                      >
                        Delete endpoint
                      </button>{" "}
                      <button
                        type="button"
                        class="secondary"
                        onClick={() => setAsking(null)}
                      >
                        Cancel
                      </button>
                    </span>
                  )
                  : (
                    <button
                      type="button"
                      class="secondary"
                      onClick={() => setAsking(e.id)}
                    >
                      Delete…
                    </button>
                  )}
              </p>
              {log?.id === e.id && (
                <table data-testid="deliveries">
                  <caption>Latest deliveries</caption>
                  <thead>
                    <tr>
                      <th scope="col">Event</th>
                      <th scope="col">State</th>
                      <th scope="col">Attempts</th>
                      <th scope="col">
                        <span class="sr-only">Retry</span>
                      </th>
                    </tr>
                  </thead>
                  <tbody>
                    {log.deliveries.map((d) => (
                      <tr key={d.id}>
                        <td>
                          {d.type}
                          <br />
                          <code>{d.id}</code>
                        </td>
                        <td>{d.state}</td>
                        <td>
                          {d.attempts.map((a) =>
                            `${a.status ?? "—"} in ${a.durationMs} ms${
                              a.error ? ` (${a.error})` : ""
                            }`
                          ).join("; ") || "none yet"}
                        </td>
                        <td>
                          <button
                            type="button"
                            class="secondary"
                            onClick={() =>
                              act(async () => {
                                await api("POST", `${base}/${e.id}/deliveries/${d.id}/retry`);
                                setDone(`Delivery ${d.id} queued again.`);
                              })}
                          >
                            Retry
                          </button>
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              )}
            </li>
          ))}
        </ul>
      )}
      {secret && <SecretOnce label="Signing secret" secret={secret} stored="sealed" />}
      <form
        noValidate
        aria-labelledby="new-endpoint"
        onSubmit={(ev) => {
          ev.preventDefault();
          setErrors({});
          act(async () => {
            const out = await api<{ endpoint: EndpointRow; secret: string }>("POST", base, {
              url: url.trim(),
              ...(types.length ? { events: types } : {}),
            });
            setEndpoints([...endpoints, out.endpoint]);
            setSecret(out.secret);
            setUrl("");
            setDone("Endpoint added: copy its secret now, it is shown once.");
          });
        }}
      >
        <h3 id="new-endpoint">Add an endpoint</h3>
        <label for="endpoint-url">
          URL
          <input
            id="endpoint-url"
            type="url"
            required
            value={url}
            aria-invalid={errors.url ? "true" : undefined}
            onInput={(e) => setUrl(e.currentTarget.value)}
          />
          {errors.url && <span class="field-error" role="alert">{errors.url}</span>}
        </label>
        <fieldset>
          <legend>Events (none checked: all)</legend>
          {props.eventTypes.map((t) => (
            <label class="check" for={`ev-${t}`} key={t}>
              <input
                id={`ev-${t}`}
                type="checkbox"
                checked={types.includes(t)}
                onChange={(e) =>
                  setTypes(
                    e.currentTarget.checked ? [...types, t] : types.filter((x) => x !== t),
                  )}
              />{" "}
              {t}
            </label>
          ))}
        </fieldset>
        {message && <p class="form-error" role="alert">{message}</p>}
        <button type="submit">Add endpoint</button>
      </form>
      <Toast message={done} onClose={() => setDone("")} testid="webhooks-done" />
    </div>
  );
}
