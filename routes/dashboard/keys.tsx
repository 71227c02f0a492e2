/** /dashboard/projects/:pk/keys — keys and rotation. */
import type { OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "@/lib/http/context.ts";
import { Island } from "@/lib/http/render.tsx";
import { keyList } from "@/lib/projects/projects.ts";
import KeysPanel from "@/islands/KeysPanel.tsx";
import CopyButton from "@/islands/CopyButton.tsx";
import { page, projectPage } from "@/routes/dashboard/_page.tsx";

export function mountKeysPage(app: OpenAPIHono<AppEnv>) {
  app.get(
    "/dashboard/projects/:pk/keys",
    page((c, dev) =>
      projectPage(c, { dev, section: "/keys", title: "Keys" }, (p) => (
        <>
          <p>
            Publishable key (safe in browsers): <code data-testid="pk">{p.pk}</code>{" "}
            <Island name="CopyButton" component={CopyButton} props={{ text: p.pk }} />
          </p>
          <p>The secret key was shown once when it was created. Lost it? Rotate it.</p>
          <Island
            name="KeysPanel"
            component={KeysPanel}
            props={{ pk: p.pk, keys: keyList(p, c.get("services").clock.now()) }}
          />
        </>
      ))
    ),
  );
}
