// The browser's part: create a passkey, sign in with it, and sign a decision with it.
// Every request carries the page's CSRF token; the server decides, and its answer is shown as given.
"use strict";

const csrf = document.querySelector('meta[name="csrf"]').content;

async function post(url, body) {
  const response = await fetch(url, {
    method: "POST",
    headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
    body: JSON.stringify(body),
    credentials: "same-origin",
  });
  let answer = {};
  try {
    answer = await response.json();
  } catch (error) {
    answer = {};
  }
  return { ok: response.ok, answer };
}

function say(box, text, good) {
  box.textContent = text;
  box.className = good ? "notice good" : "notice bad";
  box.hidden = false;
  box.focus();
}

async function withPasskey(form, optionsUrl, body, finishUrl, extra) {
  const box = document.getElementById("outcome");
  const button = form.querySelector("button[type=submit]");
  button.disabled = true;
  say(box, box.dataset.working, true);
  try {
    const first = await post(optionsUrl, body);
    if (!first.ok) {
      say(box, first.answer.message || box.dataset.error, false);
      return;
    }
    let credential;
    try {
      const options = first.answer.create
        ? { publicKey: PublicKeyCredential.parseCreationOptionsFromJSON(first.answer.create) }
        : { publicKey: PublicKeyCredential.parseRequestOptionsFromJSON(first.answer.get) };
      credential = first.answer.create
        ? await navigator.credentials.create(options)
        : await navigator.credentials.get(options);
    } catch (error) {
      say(box, box.dataset.passkeyFailed, false);
      return;
    }
    const second = await post(finishUrl, Object.assign({ credential: credential.toJSON() }, extra || {}));
    say(box, second.answer.message || box.dataset.error, second.ok);
    if (second.answer.entry) {
      const entry = document.getElementById("entry");
      entry.querySelector("pre").textContent = second.answer.entry;
      entry.hidden = false;
    }
    if (second.ok && second.answer.redirect) {
      window.setTimeout(() => { window.location.assign(second.answer.redirect); }, second.answer.pause || 0);
    }
  } catch (error) {
    say(box, box.dataset.error, false);
  } finally {
    button.disabled = false;
  }
}

document.addEventListener("submit", (event) => {
  const form = event.target;
  const kind = form.dataset.passkey;
  if (!kind) {
    return; // an ordinary form (sign out, language): the browser posts it
  }
  event.preventDefault();
  const data = Object.fromEntries(new FormData(form).entries());
  if (kind === "sign-in") {
    withPasskey(form, "/signin/options", data, "/signin", { person: data.person });
  } else if (kind === "enrol") {
    withPasskey(form, form.action + "/options", {}, form.action);
  } else if (kind === "delegate") {
    withPasskey(form, "/delegations/options", data, "/delegations/sign");
  } else if (kind === "decide") {
    withPasskey(form, form.action + "/decision", data, form.action + "/sign");
  }
});

// Live parts: an element with data-live="URL" is re-read from URL whenever the event log moves on
// (a run finished, a gate was decided), polled every few seconds; nothing else on the page changes.
const liveParts = document.querySelectorAll("[data-live]");
if (liveParts.length) {
  let seen = null;
  const every = Number(document.body.dataset.liveEvery || 3000);
  async function refresh() {
    try {
      const answer = await fetch("/live", { credentials: "same-origin" });
      if (answer.ok) {
        const version = (await answer.json()).version;
        if (seen !== null && version !== seen) {
          for (const part of liveParts) {
            const fragment = await fetch(part.dataset.live, { credentials: "same-origin" });
            if (fragment.ok) {
              part.innerHTML = await fragment.text();
              part.dataset.version = String(version);
            }
          }
        }
        seen = version;
        document.body.dataset.liveVersion = String(version);
      }
    } catch (error) {
      // the service may be restarting: try again at the next turn
    }
    window.setTimeout(refresh, every);
  }
  refresh();
}

// --- The campaign page: an export ingested with a progress bar, a stage's inputs sent to the stage chosen ---
// The form posts as usual without this script (the answer is a page once the ingestion ends); with it, the
// upload answers a job at once and the bar follows the job until the summary or the refusal arrives.
for (const form of document.querySelectorAll("form[data-ingest]")) {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const box = document.getElementById("outcome");
    const button = form.querySelector("button[type=submit]");
    const bar = form.querySelector("progress");
    const text = form.querySelector(".progress-text");
    button.disabled = true;
    form.querySelector(".progress").hidden = false;
    bar.removeAttribute("value");
    try {
      const response = await fetch(form.action, {
        method: "POST",
        body: new FormData(form),
        headers: { Accept: "application/json", "X-CSRF-Token": csrf },
        credentials: "same-origin",
      });
      const started = await response.json();
      if (!response.ok || !started.url) {
        say(box, started.message || box.dataset.error, false);
        button.disabled = false;
        return;
      }
      const follow = async () => {
        const answer = await (await fetch(started.url, { credentials: "same-origin" })).json();
        if (answer.total) {
          bar.max = answer.total;
          bar.value = Math.min(answer.read, answer.total);
        }
        text.textContent = answer.message;
        if (answer.state === "running") {
          window.setTimeout(follow, 500);
          return;
        }
        if (answer.state === "done") {
          bar.max = 1;
          bar.value = 1;
        }
        say(box, answer.message + (answer.detail ? " — " + answer.detail : ""), answer.state === "done");
        form.dataset.state = answer.state;
        button.disabled = false;
      };
      follow();
    } catch (error) {
      say(box, box.dataset.error, false);
      button.disabled = false;
    }
  });
}

for (const select of document.querySelectorAll("select[data-stage-select]")) {
  select.addEventListener("change", () => {
    const form = select.form;
    form.action = form.action.replace(/\/stages\/[^/]+\/upload$/, "/stages/" + select.value + "/upload");
  });
}
