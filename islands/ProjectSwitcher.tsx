/**
 * The project selector: a form that works without JavaScript (select, then Open); once hydrated,
 * choosing a project goes there at once and the Open button is gone.
 */
import { useEffect, useState } from "preact/hooks";

export default function ProjectSwitcher(
  props: { current: string; section: string; projects: { pk: string; label: string }[] },
) {
  const [live, setLive] = useState(false);
  useEffect(() => setLive(true), []);
  return (
    <form method="get" action="/dashboard/switch" class="inline">
      <label for="project-select">
        Project
        <select
          id="project-select"
          name="pk"
          onChange={(e) => {
            const pk = e.currentTarget.value;
            if (pk !== props.current) location.assign(`/dashboard/projects/${pk}${props.section}`);
          }}
        >
          {props.projects.map((x) => (
            <option key={x.pk} value={x.pk} selected={x.pk === props.current}>{x.label}</option>
          ))}
        </select>
      </label>
      {!live && <button type="submit" class="secondary">Open</button>}
    </form>
  );
}
