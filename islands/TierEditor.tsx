/**
 * Tier/product editor: edit, add, archive, delete (after asking), reorder, upload images. Keys
 * never change.
 */
import { useState } from "preact/hooks";
import { api, fieldErrors } from "./_api.ts";
import { Toast } from "../components/Toast.tsx";
import {
  bodyOf,
  draftOf,
  emptyDraft,
  type TierDraft,
  TierFields,
  type TierLike,
} from "./_tier_fields.tsx";

export default function TierEditor(
  props: { pk: string; type: "saas" | "store"; tiers: TierLike[] },
) {
  const { pk, type } = props;
  const [rows, setRows] = useState(
    props.tiers.map((t) => ({ saved: t.name, draft: draftOf(t), archived: t.archived ?? false })),
  );
  const [confirming, setConfirming] = useState<string | null>(null);
  const [adding, setAdding] = useState<TierDraft | null>(null);
  const [errors, setErrors] = useState<Record<string, Record<string, string>>>({});
  const [status, setStatus] = useState("");
  const base = `/v1/projects/${pk}/tiers`;
  const noun = type === "saas" ? "tier" : "product";

  const run = async (key: string, fn: () => Promise<void>, done: string) => {
    setErrors({ ...errors, [key]: {} });
    setStatus("");
    try {
      await fn();
      setStatus(done);
    } catch (err) {
      setErrors({ ...errors, [key]: { ...fieldErrors(err), _: (err as Error).message } });
    }
  };

  const save = (i: number) =>
    run(rows[i]!.saved, async () => {
      const r = rows[i]!;
      const res = await api<{ tier: TierLike }>(
        "PATCH",
        `${base}/${r.saved}`,
        bodyOf(type, r.draft, r.draft.name !== r.saved),
      );
      setRows(
        rows.map((
          x,
          j,
        ) => (j === i ? { ...x, saved: res.tier.name, draft: draftOf(res.tier) } : x)),
      );
    }, `Saved ${rows[i]!.draft.name}`);

  const remove = (i: number) => {
    setConfirming(null);
    return run(rows[i]!.saved, async () => {
      await api("DELETE", `${base}/${rows[i]!.saved}`);
      setRows(rows.filter((_, j) => j !== i));
    }, `Deleted ${rows[i]!.saved}`);
  };

  const archive = (i: number, archived: boolean) => {
    setConfirming(null);
    return run(rows[i]!.saved, async () => {
      await api("PATCH", `${base}/${rows[i]!.saved}`, { archived });
      setRows(rows.map((x, j) => (j === i ? { ...x, archived } : x)));
    }, `${archived ? "Archived" : "Restored"} ${rows[i]!.saved}`);
  };

  const move = (i: number, to: number) =>
    run(rows[i]!.saved, async () => {
      await api("PATCH", `${base}/${rows[i]!.saved}`, { position: to });
      const next = rows.filter((_, j) => j !== i);
      next.splice(to, 0, rows[i]!);
      setRows(next);
    }, `Moved ${rows[i]!.saved}`);

  const add = () =>
    run("_new", async () => {
      const res = await api<{ tier: TierLike }>("POST", base, bodyOf(type, adding!));
      setRows([...rows, { saved: res.tier.name, draft: draftOf(res.tier), archived: false }]);
      setAdding(null);
    }, `Added ${adding?.name}`);

  return (
    <div>
      <Toast message={status} onClose={() => setStatus("")} testid="tier-status" />
      <ol class="tier-list">
        {rows.map((r, i) => (
          <li key={r.saved}>
            <fieldset class="tier" data-testid={`tier-${r.saved}`}>
              <legend>
                {r.draft.displayName || r.draft.name}
                {r.archived && <span class="badge archived">Archived</span>}
              </legend>
              <TierFields
                type={type}
                draft={r.draft}
                prefix={`e-${r.saved}`}
                nameEditable
                errors={errors[r.saved] ?? {}}
                onChange={(d) => setRows(rows.map((x, j) => (j === i ? { ...x, draft: d } : x)))}
              />
              {errors[r.saved]?._ && <p class="form-error" role="alert">{errors[r.saved]!._}</p>}
              <div class="row-actions">
                <button type="button" onClick={() => save(i)}>Save {r.saved}</button>
                <button
                  type="button"
                  class="secondary"
                  disabled={i === 0}
                  onClick={() => move(i, i - 1)}
                  aria-label={`Move ${r.saved} up`}
                >
                  ↑
                </button>
                <button
                  type="button"
                  class="secondary"
                  disabled={i === rows.length - 1}
                  onClick={() => move(i, i + 1)}
                  aria-label={`Move ${r.saved} down`}
                >
                  ↓
                </button>
                <button
                  type="button"
                  class="secondary"
                  onClick={() => archive(i, !r.archived)}
                >
                  {r.archived ? `Unarchive ${r.saved}` : `Archive ${r.saved}`}
                </button>
                <button
                  type="button"
                  class="danger"
                  disabled={rows.length === 1}
                  onClick={() => setConfirming(r.saved)}
                >
                  Delete {r.saved}
                </button>
              </div>
              {confirming === r.saved && (
                <div class="confirm" role="alertdialog" aria-labelledby={`del-${r.saved}`}>
                  <p id={`del-${r.saved}`}>
                    <strong>Delete {noun} "{r.saved}"?</strong>{" "}
                    It leaves your pricing and its product is archived at the payment provider. A
                    {" "}
                    {noun}{" "}
                    with paying subscribers can't be deleted: archive it instead, so they keep it
                    while nobody new can buy it.
                  </p>
                  <button
                    type="button"
                    class="danger"
                    onClick={() =>
                      remove(i)}
                  >
                    Yes, delete {r.saved}
                  </button>{" "}
                  <button
                    type="button"
                    class="secondary"
                    onClick={() =>
                      archive(i, true)}
                  >
                    Archive instead
                  </button>{" "}
                  <button
                    type="button"
                    class="secondary"
                    onClick={() => setConfirming(null)}
                  >
                    Cancel
                  </button>
                </div>
              )}
            </fieldset>
          </li>
        ))}
      </ol>
      {adding
        ? (
          <fieldset class="tier">
            <legend>New {noun}</legend>
            <TierFields
              type={type}
              draft={adding}
              prefix="new"
              nameEditable
              errors={errors._new ?? {}}
              onChange={setAdding}
            />
            {errors._new?._ && <p class="form-error" role="alert">{errors._new._}</p>}
            <button type="button" onClick={add}>Add {noun}</button>
            <button
              type="button"
              class="secondary"
              onClick={() => setAdding(null)}
            >
              Cancel
            </button>
          </fieldset>
        )
        : (
          <button type="button" class="secondary" onClick={() => setAdding(emptyDraft(type))}>
            New {noun}
          </button>
        )}
    </div>
  );
}
