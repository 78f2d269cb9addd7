/**
 * The server-rendered shell of Settings > API Keys. Everything static lives here (including the
 * permission list and rate-limit bounds, straight from the domain); the client script fills in
 * the data it reads from /api with the session cookie.
 */
import { PERMISSION_DESCRIPTIONS, PERMISSIONS, RATE_LIMIT } from "../domain/permissions";

export const SETTINGS_ASSETS = {
  script: "/settings/api-keys/app.js",
  styles: "/settings/api-keys/app.css",
} as const;

export interface ShellProps {
  /** A valid session cookie came with the request. */
  signedIn: boolean;
  /** Development on a loopback host: the page offers `/dev/session`. */
  devSignIn: boolean;
  dashboardOrigin: string;
}

/** An error slot next to a control: its id is `<control id>-error`, referenced by aria-describedby. */
const FieldError = ({ for: id }: { for: string }) => <p id={`${id}-error`} class="field-error" hidden />;

function SignIn({ devSignIn, dashboardOrigin }: Omit<ShellProps, "signedIn">) {
  if (!devSignIn) {
    return (
      <p>
        Sign in from the <a href={dashboardOrigin}>VULK dashboard</a> to manage your API keys.
      </p>
    );
  }
  return (
    <form id="dev-sign-in" class="inline-form" novalidate>
      <p>This is a local development server: sign in as any user id to try the page.</p>
      <div class="field">
        <label for="dev-user-id">User id</label>
        <input
          id="dev-user-id"
          name="userId"
          value="dev-user"
          autocomplete="off"
          aria-describedby="dev-user-id-error"
        />
        <FieldError for="dev-user-id" />
      </div>
      <button type="submit">Sign in as a dev user</button>
    </form>
  );
}

function ApiKeysSection() {
  return (
    <section id="api-keys" class="panel" aria-labelledby="api-keys-title">
      <div class="section-head">
        <div>
          <h2 id="api-keys-title">Public API Keys</h2>
          <p class="muted">
            Keys for the public API (<code>/v1</code>). Send one as <code>Authorization: Bearer vk_sk_…</code>
            .
          </p>
        </div>
        <button type="button" id="create-key">
          Create API Key
        </button>
      </div>
      <p id="keys-status" class="status" role="status" />
      <table id="keys-table" class="keys" hidden>
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Key</th>
            <th scope="col">Permissions</th>
            <th scope="col">Projects</th>
            <th scope="col">Rate limit</th>
            <th scope="col">Last 24 h</th>
            <th scope="col">Last used</th>
            <th scope="col">Expires</th>
            <th scope="col">
              <span class="sr-only">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody id="keys-body" />
      </table>
      <p id="keys-empty" class="empty" hidden>
        No API keys yet. Create one to call the public API.
      </p>
    </section>
  );
}

function ProviderKeysSection() {
  return (
    <section id="provider-keys" class="panel" aria-labelledby="provider-keys-title">
      <h2 id="provider-keys-title">Provider Keys</h2>
      <p class="muted">
        Bring your own model: generation then runs on your provider account and uses no VULK credits. A key is
        checked with the provider before it is saved, stored encrypted, and never shown again — only its last
        four characters.
      </p>
      <p id="providers-status" class="status" role="status" />
      <div id="providers" class="cards" />
    </section>
  );
}

/** The owner's recent security events from the audit trail, as sentences (filled in by the script). */
function ActivitySection() {
  return (
    <section id="activity" class="panel" aria-labelledby="activity-title">
      <h2 id="activity-title">Activity</h2>
      <p class="muted">
        Recent security events on your keys and deployments, newest first: leaks, secrets found in files,
        expiry notices and changes to your keys.
      </p>
      <p id="activity-status" class="status" role="status" />
      <ol id="activity-list" class="activity" />
      <p id="activity-empty" class="empty" hidden>
        Nothing yet.
      </p>
    </section>
  );
}

/**
 * One dialog creates a key and edits one: the script sets its title and submit button for the mode
 * (an edit sends only the fields that changed). After a create, the "shown once" panel replaces the form.
 */
function KeyDialog() {
  return (
    <dialog id="key-dialog" aria-labelledby="key-dialog-title">
      <form id="key-form" novalidate>
        <h2 id="key-dialog-title">Create API Key</h2>
        <div class="field">
          <label for="key-name">Name</label>
          <input
            id="key-name"
            name="name"
            maxlength={64}
            autocomplete="off"
            aria-describedby="key-name-error"
          />
          <FieldError for="key-name" />
        </div>
        <fieldset id="key-permissions" aria-describedby="key-permissions-error">
          <legend>Permissions</legend>
          {PERMISSIONS.map((permission) => {
            const id = `permission-${permission.replace(":", "-")}`;
            return (
              <div class="check">
                <input type="checkbox" id={id} name="permissions" value={permission} />
                <label for={id}>
                  <code>{permission}</code> <span class="muted">{PERMISSION_DESCRIPTIONS[permission]}</span>
                </label>
              </div>
            );
          })}
          <FieldError for="key-permissions" />
        </fieldset>
        <fieldset id="key-projects" aria-describedby="key-projects-error">
          <legend>Projects</legend>
          <div class="check">
            <input type="radio" id="scope-all" name="scope" value="all" checked />
            <label for="scope-all">
              All projects <span class="muted">including ones created later</span>
            </label>
          </div>
          <div class="check">
            <input type="radio" id="scope-some" name="scope" value="some" />
            <label for="scope-some">Only the projects chosen below</label>
          </div>
          <div id="project-choices" class="project-choices" hidden>
            <p id="projects-status" class="status" role="status" />
            <div id="project-list" />
          </div>
          <FieldError for="key-projects" />
        </fieldset>
        <div class="field">
          <label for="key-rate-limit">
            Rate limit{" "}
            <span class="muted">
              (requests per minute, {RATE_LIMIT.min}–{RATE_LIMIT.max})
            </span>
          </label>
          <input
            id="key-rate-limit"
            name="rateLimit"
            type="number"
            inputmode="numeric"
            min={RATE_LIMIT.min}
            max={RATE_LIMIT.max}
            step={1}
            value={String(RATE_LIMIT.default)}
            aria-describedby="key-rate-limit-error"
          />
          <FieldError for="key-rate-limit" />
        </div>
        <div class="field">
          <label for="key-expires">
            Expires <span class="muted">(your local time; empty = never)</span>
          </label>
          <div class="copy-row">
            <input
              id="key-expires"
              name="expiresAt"
              type="datetime-local"
              aria-describedby="key-expires-error"
            />
            <button type="button" id="key-expires-clear" class="secondary">
              Never expires
            </button>
          </div>
          <FieldError for="key-expires" />
        </div>
        <p id="key-form-error" class="field-error" role="alert" hidden />
        <div class="actions">
          <button type="button" class="secondary" data-close>
            Cancel
          </button>
          <button type="submit" id="key-submit">
            Create key
          </button>
        </div>
      </form>
      <div id="created" hidden>
        <h2 id="created-title">Your new API key</h2>
        <p class="warning">This key is shown only once. Copy it now and keep it somewhere safe.</p>
        <div class="field">
          <label for="created-key">API key</label>
          <div class="copy-row">
            <input id="created-key" readonly autocomplete="off" spellcheck={false} />
            <button type="button" id="copy-key">
              Copy
            </button>
          </div>
          <p id="copy-status" class="status" role="status" />
        </div>
        <div class="actions">
          <button type="button" data-close>
            Done
          </button>
        </div>
      </div>
    </dialog>
  );
}

function DeleteKeyDialog() {
  return (
    <dialog
      id="delete-dialog"
      role="alertdialog"
      aria-labelledby="delete-title"
      aria-describedby="delete-text"
    >
      <h2 id="delete-title">Delete API key?</h2>
      <p id="delete-text">
        <strong id="delete-name" /> (<code id="delete-start" />) stops working immediately. This cannot be
        undone.
      </p>
      <p id="delete-error" class="field-error" role="alert" hidden />
      <div class="actions">
        <button type="button" class="secondary" data-close autofocus>
          Cancel
        </button>
        <button type="button" id="delete-confirm" class="danger">
          Delete key
        </button>
      </div>
    </dialog>
  );
}

export function SettingsShell({ signedIn, devSignIn, dashboardOrigin }: ShellProps) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>API Keys · Settings · VULK</title>
        <link rel="stylesheet" href={SETTINGS_ASSETS.styles} />
        <script type="module" src={SETTINGS_ASSETS.script} />
      </head>
      <body data-signed-in={String(signedIn)}>
        <header class="topbar">
          <span class="brand">VULK</span>
          <span class="crumbs">Settings / API Keys</span>
        </header>
        <main>
          <h1>API Keys</h1>
          <section id="sign-in" class="panel" aria-labelledby="sign-in-title" hidden={signedIn}>
            <h2 id="sign-in-title">Sign in</h2>
            <p id="sign-in-status" class="status" role="status" />
            <SignIn devSignIn={devSignIn} dashboardOrigin={dashboardOrigin} />
          </section>
          <div id="signed-in" hidden={!signedIn}>
            <ApiKeysSection />
            <ProviderKeysSection />
            <ActivitySection />
          </div>
        </main>
        <KeyDialog />
        <DeleteKeyDialog />
      </body>
    </html>
  );
}
